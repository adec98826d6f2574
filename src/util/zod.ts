import type { z } from 'zod';
import { ConfigError, type ModelLoadError } from '../errors.js';

/** Formats zod issues as `path.to.field: message` lines. */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`).join('; ');
}

/** Parses `value` with `schema`, throwing a ConfigError (or ModelLoadError) that names `source` and each bad field. */
export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  source: string,
  ErrorClass?: typeof ConfigError | typeof ModelLoadError,
): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new (ErrorClass ?? ConfigError)(`${source}: ${formatIssues(result.error)}`);
  return result.data;
}
