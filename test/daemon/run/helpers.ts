/**
 * `pivot run` as a child process, and a real `mosquitto_sub` watching what it publishes: the
 * way a user meets the daemon. Needs the Debian package mosquitto-clients.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../../runtime/helpers.js';
import { waitFor } from '../../helpers/wait.js';

export interface Proc {
  child: ChildProcess;
  /** stdout and stderr so far. */
  out(): string;
  err(): string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

/** `detached`: its own process group, so `process.kill(-pid, 'SIGINT')` reaches npm and its children, like Ctrl-C. */
export function start(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; detached?: boolean } = {}): Proc {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => stdout, err: () => stderr, exited };
}

/** `pivot run ...` from this checkout (JSON logs, debug level so every result is logged). */
export function pivotRun(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Proc {
  // tsx by URL: the cwd may be a folder without node_modules.
  return start(process.execPath, ['--import', import.meta.resolve('tsx'), join(ROOT, 'src', 'cli', 'index.ts'), 'run', ...args], {
    ...options,
    env: { PIVOT_LOG_FORMAT: 'json', PIVOT_CONFIG: '', ...options.env },
  });
}

/** Waits for `text` in the process's logs; the error shows the end of the log. */
export async function waitForLog(proc: Proc, text: string | RegExp, timeoutMs = 60_000): Promise<void> {
  const has = () => (typeof text === 'string' ? proc.err().includes(text) : text.test(proc.err()));
  await waitFor(() => has() || proc.child.exitCode !== null, `log '${text}'`, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}\nlog:\n${proc.err().slice(-3000)}`);
  });
  if (!has()) throw new Error(`pivot run exited (${proc.child.exitCode}) before logging '${text}':\n${proc.err().slice(-3000)}`);
}

/** A real `mosquitto_sub -v` on `topic`: each line is `<topic> <payload>`. */
export function mosquittoSub(port: number, topic: string): Proc & { messages(): { topic: string; payload: string }[] } {
  const proc = start('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-v', '-q', '1']);
  return {
    ...proc,
    messages: () =>
      proc
        .out()
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const space = line.indexOf(' ');
          return space < 0 ? { topic: line, payload: '' } : { topic: line.slice(0, space), payload: line.slice(space + 1) };
        }),
  };
}

/** Stops a process with `signal` and returns its exit code. */
export async function stop(proc: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (proc.child.exitCode === null) proc.child.kill(signal);
  return proc.exited;
}
