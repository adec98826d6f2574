import { constants } from 'node:fs';
import { copyFile, link, mkdir, unlink } from 'node:fs/promises';
import { join, parse } from 'node:path';

const code = (err: unknown) => (err as NodeJS.ErrnoException).code;

/**
 * Moves `file` into `dir` (created if needed) without overwriting anything there: on a name
 * clash `photo.jpg` becomes `photo-1.jpg`, `photo-2.jpg`, ... Returns the new path.
 * A hard link claims the name atomically; where links fail (another file system, FAT/exFAT
 * on a USB stick) an exclusive copy does the same.
 */
export async function moveNoClobber(file: string, dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const { name, ext } = parse(file);
  for (let i = 0; i < 100_000; i++) {
    const dest = join(dir, i === 0 ? `${name}${ext}` : `${name}-${i}${ext}`);
    try {
      await link(file, dest);
    } catch (err) {
      if (code(err) === 'EEXIST') continue;
      if (code(err) === 'ENOENT') throw err;
      try {
        await copyFile(file, dest, constants.COPYFILE_EXCL);
      } catch (copyErr) {
        if (code(copyErr) === 'EEXIST') continue;
        throw copyErr;
      }
    }
    await unlink(file);
    return dest;
  }
  throw new Error(`no free name for ${name}${ext} in ${dir}`);
}
