/**
 * What `pivot run` (and `npm start`) runs with no config file: the shipped deploy.json, a state
 * folder in the checkout (inbox, .done/, .failed/, outbox, control.json), the inbox seeded once
 * with the bundled sample images, and the embedded MQTT broker on 127.0.0.1:1883.
 */
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { defaultDeployPath, loadDeploy, packageRoot } from '../config/deploy.js';
import { IMAGE_EXTENSIONS } from '../data/index.js';
import { validateDaemonConfig, type LoadedDaemonConfig } from './config.js';

export interface BuiltInOptions {
  /** Default `<checkout>/state` (git-ignored). */
  stateDir?: string;
  /** The embedded broker's port; default 1883 (the next free one if taken). */
  port?: number;
  /** /metrics and /healthz port; default 9464. */
  httpPort?: number;
}

/** How the built-in default names itself where a config file's path would appear. */
export const BUILT_IN = '(built-in default)';

export function defaultStateDir(): string {
  return join(packageRoot(), 'state');
}

/** The built-in default config, validated like a file (relative deploy paths sent over MQTT resolve against the checkout). */
export function builtInConfig(options: BuiltInOptions = {}): LoadedDaemonConfig {
  const state = options.stateDir ?? defaultStateDir();
  return validateDaemonConfig(
    {
      sources: [
        {
          name: 'inbox',
          type: 'directory',
          path: join(state, 'inbox'),
          done_dir: join(state, '.done'),
          failed_dir: join(state, '.failed'),
        },
      ],
      mqtt: { url: 'embedded', embedded: { port: options.port ?? 1883 } },
      outbox: { dir: join(state, 'outbox') },
      control: { file: join(state, 'control.json') },
      http: { port: options.httpPort ?? 9464 },
    },
    join(packageRoot(), BUILT_IN),
  );
}

/** Marks a state folder whose inbox was seeded, so later runs do not seed it again. */
const SEEDED = '.seeded';

/**
 * On the first run only, copies the bundled sample images into the inbox as `<label>-<file>`,
 * taking the classes in turn so that any `limit` covers every label. Returns how many were copied.
 */
export async function seedInbox(stateDir: string, logger: Logger, limit = Number.POSITIVE_INFINITY): Promise<number> {
  const marker = join(stateDir, SEEDED);
  if (existsSync(marker)) return 0;
  const { family } = loadDeploy(defaultDeployPath());
  const samples = join(family.dir, family.manifest.samples ?? 'samples');
  const byLabel = await Promise.all(
    (await readdir(samples, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map(async (d) => ({
        label: d.name,
        files: (await readdir(join(samples, d.name))).filter((f) => IMAGE_EXTENSIONS.has(f.slice(f.lastIndexOf('.')).toLowerCase())).sort(),
      })),
  );
  byLabel.sort((a, b) => (a.label < b.label ? -1 : 1));
  const picked: { from: string; to: string }[] = [];
  for (let i = 0; picked.length < limit && byLabel.some((c) => i < c.files.length); i++)
    for (const { label, files } of byLabel)
      if (i < files.length && picked.length < limit) picked.push({ from: join(samples, label, files[i]!), to: `${label}-${files[i]}` });
  const inbox = join(stateDir, 'inbox');
  await mkdir(inbox, { recursive: true });
  await Promise.all(picked.map(({ from, to }) => copyFile(from, join(inbox, to))));
  await writeFile(marker, `seeded ${picked.length} sample images from ${samples} on ${new Date().toISOString()}\n`);
  logger.info(
    { inbox, images: picked.length },
    `first run: put ${picked.length} bundled sample images into ${inbox} (drop your own images there too)`,
  );
  return picked.length;
}
