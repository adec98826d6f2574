#!/usr/bin/env node
/** The `pivot` executable: one subcommand per file in this folder, each thin over the library. */
import { Command } from 'commander';
import { PivotError } from '../errors.js';
import { VERSION } from '../version.js';
import { register as registerBench } from './bench.js';
import { register as registerClassify } from './classify.js';
import { register as registerEval } from './eval.js';
import { register as registerPaths } from './paths.js';
import { register as registerRun } from './run.js';
import { register as registerSearch } from './search.js';
import { register as registerSim } from './sim.js';

const program = new Command('pivot')
  .description('Edge ViT inference with input-aware effort routing (PIVOT) and its toolkit')
  .version(VERSION)
  .showHelpAfterError();

registerBench(program);
registerClassify(program);
registerEval(program);
registerPaths(program);
registerRun(program);
registerSearch(program);
registerSim(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof PivotError) {
    process.stderr.write(`pivot: ${err.message}\n`);
    process.exit(err.exitCode);
  }
  throw err;
}
