import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitCodeOf } from '../../src/cli/options.js';
import { createProgram } from '../../src/cli/program.js';
import { ConfigError } from '../../src/errors.js';
import { runPivot } from '../helpers/cli.js';

/** Parses `args` in this process as the executable does; the exit code it would use and what it would print. */
async function parse(args: string[]): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const program = createProgram({ writeOut: (s) => (stdout += s), writeErr: (s) => (stderr += s) });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { code: 0, stdout, stderr };
  } catch (err) {
    return { code: exitCodeOf(err), stdout, stderr: stderr + (err instanceof ConfigError ? err.message : '') };
  }
}

describe('pivot: a bad option exits with ConfigError code in every command', () => {
  // Every case fails before any model loads.
  const cases: { args: string[]; message: RegExp }[] = [
    { args: ['classify', '--batch', '0', 'x.png'], message: /--batch <n>' argument '0' is invalid\. '0' is not a positive integer/ },
    { args: ['eval', '--threshold', '1.5'], message: /'1\.5' is not a number in \[0, 1\]/ },
    { args: ['bench', '--batch', '0'], message: /--batch: must be an integer >= 1, got 0/ },
    { args: ['bench', '--rounds', 'two'], message: /'two' is not an integer/ },
    { args: ['paths', '--model', '.', '--images', 'abc'], message: /'abc' is not an integer/ },
    { args: ['paths', '--model', '.', '--seed', '-1'], message: /'-1' is not a non-negative integer/ },
    { args: ['search', '--model', '.', '--lec', '2', '--delay', '1'], message: /--lec: 2 is not a number in \[0, 1\]/ },
    { args: ['search', '--model', '.', '--lec', '0.5', '--delay', '-1'], message: /--delay: -1 is not a positive number/ },
    { args: ['search', '--model', '.', '--lec', '0.5', '--delay', '1', '--step', '0'], message: /--step: 0 is not a number in \(0, 1\]/ },
    { args: ['search', '--model', '.', '--lec', '0.5', '--delay', '1', '--rounds', '0'], message: /--rounds: 0 is not a positive integer/ },
    { args: ['search', '--model', '.', '--lec', '0.5', '--delay', '1', '--pick', 'best'], message: /Allowed choices are first, accurate/ },
    { args: ['search', '--model', '.'], message: /--lec is required/ },
    { args: ['sim', '--fl', 'x'], message: /'x' is not a number/ },
    { args: ['import', 'm.onnx', '--mean', '0.5,0.4'], message: /'0\.5,0\.4' is not one number or three comma-separated numbers/ },
    { args: ['import', 'm.onnx', '--efforts', '1,,3'], message: /'1,,3' is not "all" or a list of efforts like 1,3,6/ },
    { args: ['sim', '--no-such-option'], message: /unknown option '--no-such-option'/ },
    { args: ['no-such-command'], message: /unknown command 'no-such-command'/ },
  ];
  for (const { args, message } of cases)
    it(`pivot ${args.join(' ')}`, async () => {
      const run = await parse(args);
      assert.equal(run.code, ConfigError.exitCode, run.stderr);
      assert.match(run.stderr, message);
    });

  it('--help and --version exit 0', async () => {
    const help = await parse(['search', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--lec <F\|auto>/);
    const version = await parse(['--version']);
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });

  it('the executable exits with that code and prints the reason', async () => {
    const run = await runPivot(['paths', '--model', '.', '--images', 'abc']);
    assert.equal(run.code, ConfigError.exitCode, run.stderr);
    assert.match(run.stderr, /'abc' is not an integer/);
  });
});
