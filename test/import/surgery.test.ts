/**
 * Structure detection and graph surgery on the fixtures: every effort graph of every mask
 * gives PyTorch's logits (attention bypassed) to 1e-4, skipped modules are gone and files
 * shrink, other outputs / metadata / opset / external data survive, and graphs that are not
 * ViT classifiers get one clear error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ModelLoadError } from '../../src/errors.js';
import { detectVit } from '../../src/import/detect.js';
import { encodeOnnx, externalDataFiles, FLOAT, INT64, type ModelProto, onnx, readOnnx, writeOnnx } from '../../src/import/onnx.js';
import { analysisModel, effortModel } from '../../src/import/surgery.js';
import { externalise, fixture, maxLogitError, reference } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'pivot-surgery-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const allMasks = (depth: number) =>
  Array.from({ length: 2 ** depth }, (_, m) => Array.from({ length: depth }, (_, i) => (m >> (depth - 1 - i)) & 1));
/**
 * The model at opset 18, where ReduceMean takes its axes as an input instead of an attribute
 * (the only op of these fixtures that changed; torch 1.13 and onnx 1.12 cannot export 18).
 */
function toOpset18(model: ModelProto): ModelProto {
  const initializer = [...model.graph!.initializer!];
  const node = model.graph!.node!.map((n, i) => {
    const axes = n.opType === 'ReduceMean' ? n.attribute!.find((a) => a.name === 'axes') : undefined;
    if (!axes) return n;
    const name = `reduce_axes_${i}`;
    const values = axes.ints!.map((v) => BigInt(Number(v)));
    initializer.push({ name, dataType: INT64, dims: [values.length], rawData: new Uint8Array(BigInt64Array.from(values).buffer) });
    return { ...n, input: [...n.input!, name], attribute: n.attribute!.filter((a) => a !== axes) };
  });
  const opsetImport = model.opsetImport!.map((o) => (!o.domain ? { ...o, version: 18 } : o));
  return { ...model, opsetImport, graph: { ...model.graph, node, initializer } };
}

const count = (model: ModelProto, op: string) => model.graph!.node!.filter((n) => n.opType === op).length;

const CASES = [
  { file: 'tv-vit-opset17.onnx', ref: 'tv-vit', input: 'x', what: 'torchvision VisionTransformer, opset 17 (LayerNormalization)' },
  { file: 'tv-vit-opset14.onnx', ref: 'tv-vit', input: 'x', what: 'torchvision VisionTransformer, opset 14 (decomposed LayerNorm)' },
  { file: 'tv-vit-fixed.onnx', ref: 'tv-vit', input: 'x', what: 'torchvision VisionTransformer, fixed batch 1' },
  { file: 'hf-vit.onnx', ref: 'hf-vit', input: 'pixel_values', what: 'Hugging Face ViT layout, opset 14' },
  { file: 'mean-vit.onnx', ref: 'mean-vit', input: 'pixel_values', what: "this repository's PivotViT (mean pooling)" },
] as const;

describe('effort graphs by surgery', () => {
  for (const c of CASES)
    it(`${c.what}: every mask matches PyTorch to 1e-4, skipped attentions are absent`, async () => {
      const { model } = readOnnx(fixture(c.file));
      const found = detectVit(model, c.file);
      const ref = reference(c.ref);
      assert.equal(found.blocks.length, ref.architecture.depth);
      assert.equal(found.pooling, ref.architecture.pooling);
      assert.deepEqual(found.stemConv, { kernel: ref.architecture.patch, stride: ref.architecture.patch });
      const sizes = new Map<number, number[]>();
      for (const mask of allMasks(found.blocks.length)) {
        const effort = effortModel(model, found.blocks, mask);
        const active = mask.reduce((a, b) => a + b, 0);
        assert.equal(count(effort, 'Softmax'), active, `mask ${mask.join('')}: one Softmax per active attention`);
        const file = join(tmp, `${c.file}-${mask.join('')}.onnx`);
        const bytes = await writeOnnx(file, effort);
        sizes.set(active, [...(sizes.get(active) ?? []), bytes]);
        const error = await maxLogitError(file, ref, mask, c.input);
        assert.ok(error < 1e-4, `mask ${mask.join('')}: max |logit error| ${error}`);
      }
      // Each attention removed takes its weights with it: a smaller effort is a strictly smaller file.
      for (let k = 1; k <= found.blocks.length; k++)
        assert.ok(Math.max(...sizes.get(k - 1)!) < Math.min(...sizes.get(k)!), `effort ${k - 1} files are smaller than effort ${k}'s`);
    });

  it('opset 18: a ReduceMean whose axes are an input (mean pooling) and a relabelled class-token graph', async () => {
    for (const [file, ref, input] of [
      ['mean-vit.onnx', 'mean-vit', 'pixel_values'],
      ['tv-vit-opset17.onnx', 'tv-vit', 'x'],
    ] as const) {
      const opset18 = toOpset18(readOnnx(fixture(file)).model);
      const found = detectVit(opset18, file);
      assert.equal(found.pooling, reference(ref).architecture.pooling);
      for (const mask of allMasks(found.blocks.length).filter((_, i) => i % 3 === 0)) {
        const out = join(tmp, `18-${file}-${mask.join('')}.onnx`);
        await writeOnnx(out, effortModel(opset18, found.blocks, mask));
        assert.ok((await maxLogitError(out, reference(ref), mask, input)) < 1e-4, `${file} at opset 18, mask ${mask.join('')}`);
      }
    }
  });

  it('keeps the other graph outputs, the metadata, the opset and the IR version', async () => {
    const { model } = readOnnx(fixture('tv-vit-opset17.onnx'));
    const found = detectVit(model, 'tv-vit-opset17.onnx');
    const extra: ModelProto = {
      ...model,
      metadataProps: [{ key: 'author', value: 'someone' }],
      graph: {
        ...model.graph,
        output: [...model.graph!.output!, { name: found.blocks[0]!.mlpOut, type: { tensorType: { elemType: FLOAT } } }],
      },
    };
    const effort = onnx.ModelProto.decode(encodeOnnx(effortModel(extra, found.blocks, [0, 0, 0, 1])));
    assert.deepEqual(
      effort.graph!.output!.map((o) => o.name),
      ['logits', found.blocks[0]!.mlpOut],
    );
    assert.deepEqual(
      effort.metadataProps.map((p) => [p.key, p.value]),
      [['author', 'someone']],
    );
    assert.deepEqual(JSON.stringify(effort.opsetImport), JSON.stringify(model.opsetImport));
    assert.equal(Number(effort.irVersion), Number(model.irVersion));
    assert.equal(effort.producerName, model.producerName);
  });

  it('prunes initializers and value_info of the removed branch', () => {
    const { model } = readOnnx(fixture('hf-vit.onnx'));
    const found = detectVit(model, 'hf-vit.onnx');
    const full = effortModel(model, found.blocks, [1, 1, 1]);
    const low = effortModel(model, found.blocks, [0, 1, 1]);
    const names = (m: ModelProto) => new Set(m.graph!.initializer!.map((t) => t.name));
    const gone = [...names(full)].filter((n) => !names(low).has(n));
    assert.ok(gone.length >= 4, `query/key/value/output weights of attention 1 pruned (gone: ${gone.join(', ')})`);
    const used = new Set(low.graph!.node!.flatMap((n) => [...(n.input ?? []), ...(n.output ?? [])]));
    for (const t of low.graph!.initializer!) assert.ok(used.has(t.name!), `initializer ${t.name} is read`);
    for (const v of low.graph!.valueInfo ?? []) assert.ok(used.has(v.name!), `value_info ${v.name} names a live tensor`);
    assert.ok(!low.graph!.node!.some((n) => n.name?.startsWith('/vit/encoder/layer.0/attention/')), 'no node of the skipped attention');
  });

  it('keeps external-data weights external, next to the written graph', async () => {
    const { model } = readOnnx(fixture('tv-vit-opset17.onnx'));
    const external = externalise(model, tmp, 'weights.bin');
    const found = detectVit(external, 'external');
    const file = join(tmp, 'external-effort.onnx');
    await writeOnnx(file, effortModel(external, found.blocks, [1, 0, 1, 0]));
    const written = readOnnx(file).model;
    assert.deepEqual(externalDataFiles(written), ['weights.bin']);
    const inline = encodeOnnx(effortModel(model, found.blocks, [1, 0, 1, 0])).length;
    assert.ok(
      readFileSync(file).length < inline / 2,
      `the graph file holds no initializer bytes (${readFileSync(file).length} bytes, ${inline} inline)`,
    );
    assert.ok((await maxLogitError(file, reference('tv-vit'), [1, 0, 1, 0], 'x')) < 1e-4);
  });

  it('the analysis graph gates each attention and taps the residual stream', async () => {
    const { model } = readOnnx(fixture('mean-vit.onnx'));
    const found = detectVit(model, 'mean-vit.onnx');
    const { model: analysis, names } = analysisModel(model, found.blocks);
    assert.deepEqual(names, {
      gateInput: 'attn_gate',
      mlpOutputs: ['mlp_0', 'mlp_1', 'mlp_2', 'mlp_3'],
      attnOutputs: ['attn_1', 'attn_2', 'attn_3'],
    });
    const file = join(tmp, 'analysis.onnx');
    await writeOnnx(file, analysis);
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
    const ref = reference('mean-vit');
    const x = new ort.Tensor('float32', Float32Array.from(ref.inputs), ref.input_shape);
    for (const mask of [
      [1, 1, 1],
      [0, 1, 0],
    ]) {
      const out = await session.run({ pixel_values: x, attn_gate: new ort.Tensor('float32', Float32Array.from(mask), [3]) });
      const got = out.logits!.data as Float32Array;
      const expected = ref.logits[mask.join('')]!;
      assert.ok(Math.max(...expected.map((v, i) => Math.abs(v - got[i]!))) < 1e-4, `gate ${mask.join('')} gives that mask's logits`);
      assert.deepEqual(out.mlp_0!.dims, [3, 16, 32]);
      assert.deepEqual(out.attn_3!.dims, [3, 16, 32]);
    }
    await session.release();
  });
});

describe('graphs pivot import refuses', () => {
  const refuses = (file: string, pattern: RegExp) => {
    assert.throws(
      () => {
        const { model } = readOnnx(file);
        detectVit(model, file);
      },
      (err: unknown) => err instanceof ModelLoadError && pattern.test(err.message),
    );
  };

  it('a CNN: no Softmax branch on a residual Add', () =>
    refuses(fixture('cnn.onnx'), /cnn\.onnx: not a ViT classifier .*no Softmax branch on a residual Add/));
  it('a ViT without classifier head', () => refuses(fixture('vit-features.onnx'), /no classifier head/));
  it('a truncated file', () => {
    const file = join(tmp, 'truncated.onnx');
    const bytes = readFileSync(fixture('tv-vit-opset17.onnx'));
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    refuses(file, /truncated\.onnx: .*truncated/);
  });
  it('a file that is not ONNX, and a missing file', () => {
    refuses(fixture('labels.txt'), /not (a readable ONNX model|an ONNX model)/);
    refuses(join(tmp, 'missing.onnx'), /missing\.onnx: no such file/);
  });
  it('more than one image input', () => {
    const { model } = readOnnx(fixture('tv-vit-opset17.onnx'));
    const second = { ...model.graph!.input![0]!, name: 'y' };
    const file = join(tmp, 'two-inputs.onnx');
    writeFileSync(file, encodeOnnx({ ...model, graph: { ...model.graph, input: [...model.graph!.input!, second] } }));
    refuses(file, /more than one image input \(x, y\)/);
  });
});
