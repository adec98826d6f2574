/** The `pivot` command line: one subcommand per file in this folder, each thin over the library. */
import { Command, type OutputConfiguration } from 'commander';
import { VERSION } from '../version.js';
import { register as registerBench } from './bench.js';
import { register as registerClassify } from './classify.js';
import { register as registerEval } from './eval.js';
import { register as registerImport } from './import.js';
import { register as registerPaths } from './paths.js';
import { register as registerRun } from './run.js';
import { register as registerSearch } from './search.js';
import { register as registerSim } from './sim.js';

/** `output` redirects commander's own messages (help, usage errors); subcommands inherit it. */
export function createProgram(output?: OutputConfiguration): Command {
  const program = new Command('pivot')
    .description('Edge ViT inference with input-aware effort routing (PIVOT) and its toolkit')
    .version(VERSION)
    .showHelpAfterError()
    // Commander's own errors (unknown option, bad value) are thrown instead of exiting with 1; every subcommand inherits this.
    .exitOverride();
  if (output) program.configureOutput(output);

  registerBench(program);
  registerClassify(program);
  registerEval(program);
  registerImport(program);
  registerPaths(program);
  registerRun(program);
  registerSearch(program);
  registerSim(program);
  return program;
}
