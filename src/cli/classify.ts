/** `pivot classify`: run the cascade on image files and folders; one result (or error) per file. */
import { statSync } from 'node:fs';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { classificationFields, openCascade, POLICIES, type CascadeResult, type NamedInput, type Policy } from '../cascade/index.js';
import { listImages } from '../data/index.js';
import { InputError } from '../errors.js';
import { positiveInt } from './options.js';

/** Options shared by the commands that run the cascade. */
export function addRuntimeOptions(command: Command): Command {
  return command
    .option('--deploy <file>', 'deploy config (default: deploy/deploy.json of the package)')
    .addOption(new Option('--policy <policy>', 'cascade, or a single effort for everything').choices(POLICIES).default('cascade'))
    .option('--batch <n>', 'inputs per onnxruntime call', positiveInt, 32)
    .option('--threads <n>', "onnxruntime intra-op threads (default: onnxruntime's choice)", positiveInt)
    .option('--json', 'machine-readable output');
}

/** A folder that yielded nothing, and how many inputs came before it (so its error line keeps its place). */
interface EmptyFolder {
  error: InputError;
  before: number;
}

/** Expands folders to the images in them (recursively, sorted); anything else is tried as an image file. */
export function expandInputs(paths: readonly string[]): { inputs: NamedInput[]; empty: EmptyFolder[] } {
  const inputs: NamedInput[] = [];
  const empty: EmptyFolder[] = [];
  for (const path of paths) {
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      // Not there: the preprocessor reports it as this input's error.
    }
    if (!isDir) inputs.push({ source: path, name: path });
    else {
      const found = listImages(path);
      if (!found.length) empty.push({ error: new InputError(path, 'folder contains no images'), before: inputs.length });
      for (const file of found) inputs.push({ source: file, name: file });
    }
  }
  return { inputs, empty };
}

/** cli-table3 colours borders even when piped: plain text unless stdout is a terminal. */
export const tableStyle = () => (process.stdout.isTTY ? { head: ['cyan'] } : { head: [], border: [] });

/** The JSON line for one result (snake_case, like `pivot eval --json`). */
export function resultLine(r: CascadeResult): Record<string, unknown> {
  if (!r.ok) return { input: r.input, error: r.error.name, message: r.error instanceof InputError ? r.error.reason : r.error.message };
  return { input: r.input, ...classificationFields(r) };
}

function table(results: CascadeResult[]): string {
  const t = new Table({
    head: ['input', 'label', 'probability', 'entropy', 'effort', 'escalated'],
    style: tableStyle(),
  });
  for (const r of results) {
    if (r.ok) t.push([r.input, r.label, r.probability.toFixed(3), r.entropy.toFixed(3), r.effort, r.escalated ? 'yes' : 'no']);
    else t.push([r.input, { colSpan: 5, content: `error: ${r.error instanceof InputError ? r.error.reason : r.error.message}` }]);
  }
  return t.toString();
}

export function register(program: Command): void {
  addRuntimeOptions(
    program
      .command('classify')
      .description('classify images with the low/high effort cascade (a table, or JSON lines with --json)')
      .argument('<paths...>', 'image files and/or folders of images'),
  ).action(async (paths: string[], opts: { deploy?: string; policy: Policy; batch: number; threads?: number; json?: boolean }) => {
    const { cascade, runtime } = await openCascade(
      { deploy: opts.deploy, policy: opts.policy },
      { intraOpThreads: opts.threads },
      { batchSize: opts.batch },
    );
    const { inputs, empty } = expandInputs(paths);
    const results: CascadeResult[] = [];
    const emit = (r: CascadeResult) => {
      // JSON lines stream as batches complete (in bursts: consecutive batches share high-effort calls); the table needs every row first.
      if (opts.json) process.stdout.write(`${JSON.stringify(resultLine(r))}\n`);
      else results.push(r);
    };
    const emitEmptyFolders = (upTo: number) => {
      while (empty.length && empty[0]!.before <= upTo) {
        const { error } = empty.shift()!;
        emit({ ok: false, index: -1, input: error.input, error });
      }
    };
    let failed = empty.length;
    for await (const batch of cascade.classifyBatches(inputs)) {
      for (const r of batch) {
        emitEmptyFolders(r.index);
        if (!r.ok) failed++;
        emit(r);
      }
    }
    emitEmptyFolders(Infinity);
    await runtime.close();
    if (!opts.json) {
      process.stdout.write(`${table(results)}\n`);
      const escalated = results.filter((r) => r.ok && r.escalated).length;
      const routing = cascade.policy === 'cascade' ? ` (${escalated} escalated to effort ${cascade.config.high})` : '';
      process.stderr.write(`${results.length - failed} classified${routing}, ${failed} failed\n`);
    }
    if (failed) process.exitCode = InputError.exitCode; // some inputs could not be classified
  });
}
