/** Why a file could not be read, in words for an error message ("no such file" rather than ENOENT). */
export function readFailure(err: unknown, missing = 'no such file'): string {
  return (err as NodeJS.ErrnoException).code === 'ENOENT' ? missing : (err as Error).message;
}
