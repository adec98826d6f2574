import type { Command } from 'commander';

// Placeholder until the paths command lands; replaced by its real implementation.
export function register(program: Command): void {
  program.command('paths').description('(not built yet)');
}
