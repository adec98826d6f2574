import type { Command } from 'commander';

// Placeholder until the eval command lands; replaced by its real implementation.
export function register(program: Command): void {
  program.command('eval').description('(not built yet)');
}
