import pino, { type Logger } from 'pino';

/** Paths redacted from every log line: credentials never reach logs. */
export const REDACT = ['password', '*.password', 'mqtt.password', 'token', '*.token', 'headers.authorization'];

/** The process logger; components take `logger.child({ component })`. Logs go to stderr so stdout stays data. */
export function createLogger(level = process.env.PIVOT_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } }, pino.destination(2));
}
