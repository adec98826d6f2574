import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ModelLoadError } from '../../src/errors.js';
import { EffortSession, loadModelFamily, type Manifest } from '../../src/model/index.js';
import { MODEL_DIR } from '../runtime/helpers.js';

const shipped = JSON.parse(readFileSync(join(MODEL_DIR, 'manifest.json'), 'utf8')) as Manifest;
const temps: string[] = [];
after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A model directory whose ONNX files link to the shipped ones and whose manifest is `edit(copy of shipped)`. */
function brokenFamily(edit: (m: Manifest) => void): string {
  const dir = mkdtempSync(join(tmpdir(), 'pivot-manifest-'));
  temps.push(dir);
  for (const e of shipped.efforts) symlinkSync(join(MODEL_DIR, e.file), join(dir, e.file));
  if (shipped.analysis) symlinkSync(join(MODEL_DIR, shipped.analysis.file), join(dir, shipped.analysis.file));
  const manifest = structuredClone(shipped);
  edit(manifest);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

function loadError(dir: string): ModelLoadError {
  try {
    loadModelFamily(dir);
  } catch (err) {
    assert.ok(err instanceof ModelLoadError, `expected ModelLoadError, got ${String(err)}`);
    return err;
  }
  assert.fail('the broken manifest loaded');
}

async function sessionError(dir: string, effort = 0): Promise<ModelLoadError> {
  try {
    await EffortSession.load(loadModelFamily(dir), effort);
  } catch (err) {
    assert.ok(err instanceof ModelLoadError, `expected ModelLoadError, got ${String(err)}`);
    return err;
  }
  assert.fail('the session loaded');
}

describe('manifest validation', () => {
  it('the shipped manifest is valid', () => {
    assert.equal(loadModelFamily(MODEL_DIR).manifest.efforts.length, shipped.efforts.length);
  });

  it('names the missing effort file and its field', () => {
    const dir = brokenFamily((m) => {
      m.efforts[1]!.file = 'effort-missing.onnx';
    });
    const err = loadError(dir);
    assert.match(err.message, /efforts\.1\.file/);
    assert.match(err.message, /effort-missing\.onnx does not exist/);
    assert.ok(err.message.includes(join(dir, 'manifest.json')));
  });

  it('names a mask whose length is not the depth', () => {
    const err = loadError(brokenFamily((m) => m.efforts[2]!.active.push(0)));
    assert.match(err.message, /efforts\.2\.active: mask length 7 != architecture\.depth 6/);
  });

  it('names a field of the wrong type', () => {
    const err = loadError(brokenFamily((m) => ((m as unknown as { labels: unknown }).labels = 'T-shirt')));
    assert.match(err.message, /labels: /);
  });

  it('reports a missing manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pivot-manifest-'));
    temps.push(dir);
    assert.match(loadError(dir).message, /manifest\.json: no such file/);
  });

  it('refuses an ONNX file whose input shape disagrees with the manifest, naming file and field', async () => {
    const dir = brokenFamily((m) => {
      m.input.shape = [-1, 1, 32, 32];
      m.preprocess.resize = { ...m.preprocess.resize, width: 32, height: 32 };
      m.architecture.image = 32;
    });
    const err = await sessionError(dir);
    assert.match(err.message, /effort-0\.onnx/);
    assert.match(err.message, /input\.shape/);
    assert.match(err.message, /has shape \[[^\]]*,1,28,28\], manifest says \[-1,1,32,32\]/);
  });

  it('refuses wrong input and output names, and a label count the logits do not have', async () => {
    assert.match(
      (await sessionError(brokenFamily((m) => (m.input.name = 'image')))).message,
      /no input 'image' \(inputs: pixel_values\).*input\.name/,
    );
    assert.match((await sessionError(brokenFamily((m) => (m.output.name = 'scores')))).message, /no output 'scores'.*output\.name/);
    const elevenLabels = brokenFamily((m) => {
      m.labels.push('Hat');
      m.architecture.classes = 11;
    });
    assert.match((await sessionError(elevenLabels)).message, /output 'logits' has shape \[.*,10\], expected \[batch,11\].*labels/);
  });

  it('refuses a file onnxruntime cannot parse', async () => {
    const dir = brokenFamily(() => {});
    rmSync(join(dir, 'effort-3.onnx'));
    writeFileSync(join(dir, 'effort-3.onnx'), 'not a model');
    const err = await sessionError(dir, 3);
    assert.match(err.message, /effort-3\.onnx: onnxruntime cannot load it/);
  });
});
