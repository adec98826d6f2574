/** Loggers for tests: a silent one, and one whose output a test reads back. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export const silentLogger = (): Logger => pino({ level: 'silent' });

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface CapturedLog {
  logger: Logger;
  /** Parsed pino lines, in order. */
  lines: LogLine[];
  /** Raw output, to assert a secret appears nowhere. */
  text: string[];
  /** Messages logged at warn level. */
  warnings(): string[];
}

/** A debug-level logger that keeps everything it writes. */
export function capturingLogger(): CapturedLog {
  const lines: LogLine[] = [];
  const text: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text.push(chunk.toString());
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines, text, warnings: () => lines.filter((l) => l.level === 40).map((l) => l.msg) };
}
