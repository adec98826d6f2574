import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

/** Paths redacted from every log line: credentials never reach logs. */
export const REDACT = ['password', '*.password', 'mqtt.password', 'token', '*.token', 'headers.authorization'];

/**
 * Human-readable logs: on a terminal, unless PIVOT_LOG_FORMAT=json; PIVOT_LOG_FORMAT=pretty forces
 * them. Anywhere else (journald, docker logs, a pipe) pino's JSON lines, for machines.
 */
export function prettyLogs(env: NodeJS.ProcessEnv = process.env, tty = process.stderr.isTTY === true): boolean {
  if (env.PIVOT_LOG_FORMAT === 'json') return false;
  return env.PIVOT_LOG_FORMAT === 'pretty' || tty;
}

/** The process logger; components take `logger.child({ component })`. Logs go to stderr so stdout stays data. */
export function createLogger(level = process.env.PIVOT_LOG_LEVEL ?? 'info', readable = prettyLogs()): Logger {
  const options = { level, redact: { paths: REDACT, censor: '[redacted]' } };
  if (!readable) return pino(options, pino.destination(2));
  // One line per entry: time, level, [component], message, then any other fields. `result` (the
  // daemon's per-frame line) is already in its message.
  const stream = pretty({
    destination: 2,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,component,result',
    messageFormat: '{if component}[{component}] {end}{msg}',
  });
  return pino(options, stream);
}
