/** Finding the program a capture source runs, and saying clearly which package provides it when it is missing. */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

/** A program a source can run, and where a user gets it. */
export interface Program {
  name: string;
  /** How to install it, e.g. `sudo apt install ffmpeg`; omitted for a user's own command. */
  install?: string;
}

/** None of a source's programs is installed: the message names them and how to install the first. */
export class MissingProgramError extends Error {
  constructor(readonly programs: readonly Program[]) {
    const [first, ...others] = programs;
    const also = others.length ? ` (nor ${others.map((p) => p.name).join(', ')})` : '';
    const hint = first?.install ? `install it: ${first.install}` : 'install it or give its full path';
    const where = first?.name.includes('/') ? '' : ' on PATH';
    super(`${first?.name} not found${where}${also}: ${hint}`);
    this.name = 'MissingProgramError';
  }
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of `name` (a bare name is looked up on PATH), or undefined. */
async function findExecutable(name: string, path = process.env.PATH ?? ''): Promise<string | undefined> {
  if (name.includes('/')) return (await isExecutable(name)) ? name : undefined;
  for (const dir of path.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const file = join(dir, name);
    if (await isExecutable(file)) return file;
  }
  return undefined;
}

/** The first of `programs` installed here; throws MissingProgramError when none is. */
export async function resolveProgram(programs: readonly Program[], path?: string): Promise<{ program: Program; file: string }> {
  for (const program of programs) {
    const file = await findExecutable(program.name, path);
    if (file) return { program, file };
  }
  throw new MissingProgramError(programs);
}
