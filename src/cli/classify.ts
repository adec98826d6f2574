import type { Command } from 'commander';

// Placeholder until the classify command lands; replaced by its real implementation.
export function register(program: Command): void {
  program.command('classify').description('(not built yet)');
}
