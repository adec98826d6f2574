import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { setTimeout as sleep } from 'node:timers/promises';

export const silentLogger = (): Logger => pino({ level: 'silent' });

/** A debug-level logger whose lines are kept in `lines`, to check what reaches the log. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs` (generous: CI is slow). */
export async function waitFor(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A signal that aborts after `ms`, for take() calls that must not hang a failing test. */
export const within = (ms: number) => AbortSignal.timeout(ms);
