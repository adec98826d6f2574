import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { jsonSchemaFiles, SCHEMA_DIR, withKeyTable } from '../../src/schemas/index.js';
import { ROOT } from '../runtime/helpers.js';

const STALE = 'is not what the zod schemas give: run `npm run generate` and commit the result';

describe('generated from the zod schemas (npm run generate)', () => {
  it(`${SCHEMA_DIR}/*.schema.json are current, and nothing else is there`, () => {
    const files = jsonSchemaFiles();
    assert.deepEqual(readdirSync(join(ROOT, SCHEMA_DIR)).sort(), [...files.keys()].sort());
    for (const [name, content] of files)
      assert.equal(readFileSync(join(ROOT, SCHEMA_DIR, name), 'utf8'), content, `${SCHEMA_DIR}/${name} ${STALE}`);
  });

  it("docs/daemon.md's key table is current", () => {
    const docs = readFileSync(join(ROOT, 'docs', 'daemon.md'), 'utf8');
    assert.equal(docs, withKeyTable(docs), `the key table of docs/daemon.md ${STALE}`);
  });

  it('the shipped example files point editors at their schema', () => {
    const deploy = JSON.parse(readFileSync(join(ROOT, 'deploy', 'deploy.json'), 'utf8')) as { $schema?: string };
    assert.equal(deploy.$schema, './schemas/deploy.schema.json');
    const example = readFileSync(join(ROOT, 'deploy', 'daemon.example.yaml'), 'utf8');
    assert.match(example.split('\n')[0]!, /^# yaml-language-server: \$schema=\.\/schemas\/daemon-config\.schema\.json$/);
    assert.ok(parse(example), 'the example still parses');
  });
});
