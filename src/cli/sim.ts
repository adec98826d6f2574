import type { Command } from 'commander';

// Placeholder until the sim command lands; replaced by its real implementation.
export function register(program: Command): void {
  program.command('sim').description('(not built yet)');
}
