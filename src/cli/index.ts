#!/usr/bin/env node
/** The `pivot` executable: parse, run, and exit with the code of the error class (see errors.ts). */
import { PivotError } from '../errors.js';
import { exitCodeOf } from './options.js';
import { createProgram } from './program.js';

try {
  await createProgram().parseAsync(process.argv);
} catch (err) {
  const code = exitCodeOf(err);
  if (code === undefined) throw err;
  // Commander has already printed its own message (and the help hint).
  if (err instanceof PivotError) process.stderr.write(`pivot: ${err.message}\n`);
  process.exit(code);
}
