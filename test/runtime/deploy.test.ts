import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { chooseDeployment } from '../../src/cascade/index.js';
import { defaultDeployPath, loadDeploy } from '../../src/config/deploy.js';
import { ConfigError } from '../../src/errors.js';
import { DEPLOY, MODEL_DIR } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'pivot-deploy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function write(content: unknown): string {
  const path = join(dir, `deploy-${n++}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const model = () => relative(dir, MODEL_DIR);

function refused(path: string, pattern: RegExp) {
  assert.throws(
    () => loadDeploy(path),
    (err: unknown) => err instanceof ConfigError && err.message.startsWith(path) && pattern.test(err.message),
  );
}

describe('deploy.json', () => {
  it('the shipped file is the default, resolves its model relative to itself, and names efforts of that model', () => {
    assert.equal(defaultDeployPath(), DEPLOY);
    const { config, family } = loadDeploy(DEPLOY);
    assert.equal(family.dir, MODEL_DIR);
    assert.ok(config.low < config.high);
    assert.doesNotThrow(() => family.effort(config.low));
    assert.doesNotThrow(() => family.effort(config.high));
  });

  it('accepts metadata for the search', () => {
    const path = write({ model: model(), low: 1, high: 5, threshold: 0.25, metadata: { search: { delay_target_ms: 3 } } });
    assert.deepEqual(loadDeploy(path).config.metadata, { search: { delay_target_ms: 3 } });
  });

  it('names each bad field', () => {
    refused(write({ model: model(), low: 1, high: 5, threshold: 1.5 }), /threshold: /);
    refused(write({ model: model(), low: 1, high: 5 }), /threshold: /);
    refused(write({ model: model(), low: 5, high: 1, threshold: 0.3 }), /high: must be greater than low/);
    refused(write({ model: model(), low: 1.5, high: 5, threshold: 0.3 }), /low: /);
    refused(write({ model: model(), low: 1, high: 5, threshold: 0.3, treshold: 0.2 }), /treshold/);
    const has = loadDeploy(DEPLOY)
      .family.manifest.efforts.map((e) => e.effort)
      .join(', ');
    refused(
      write({ model: model(), low: 1, high: 99, threshold: 0.3 }),
      new RegExp(`high: effort 99 is not in .*manifest\\.json \\(has ${has}\\)`),
    );
    refused(write({ model: 'no-such-model', low: 1, high: 5, threshold: 0.3 }), /model: .*no-such-model.*no such file/);
    refused(write('{"model": '), /not valid JSON/);
    refused(join(dir, 'absent.json'), /no such file/);
  });

  it('applies command-line overrides and checks them like the file', () => {
    const chosen = chooseDeployment({ threshold: 0.9 });
    assert.equal(chosen.config.threshold, 0.9);
    assert.equal(chosen.config.low, loadDeploy(DEPLOY).config.low);
    assert.throws(() => chooseDeployment({ model: MODEL_DIR, low: 1 }), /--model needs --high, --threshold/);
    assert.throws(() => chooseDeployment({ model: MODEL_DIR, deploy: DEPLOY, low: 1, high: 2, threshold: 0 }), /one or the other/);
    assert.equal(chooseDeployment({ model: MODEL_DIR, low: 0, high: 3, threshold: 0.2 }).config.high, 3);
    assert.throws(() => chooseDeployment({ low: 7 }), ConfigError);
  });
});
