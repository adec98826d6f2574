/** `npm run generate`: writes deploy/schemas/*.schema.json and the key table in docs/daemon.md from the zod schemas. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/deploy.js';
import { jsonSchemaFiles, SCHEMA_DIR, withKeyTable } from './index.js';

const root = packageRoot();
const dir = join(root, SCHEMA_DIR);
mkdirSync(dir, { recursive: true });
for (const [name, content] of jsonSchemaFiles()) {
  writeFileSync(join(dir, name), content);
  process.stdout.write(`wrote ${join(SCHEMA_DIR, name)}\n`);
}
const docs = join(root, 'docs', 'daemon.md');
writeFileSync(docs, withKeyTable(readFileSync(docs, 'utf8')));
process.stdout.write('wrote the key table of docs/daemon.md\n');
