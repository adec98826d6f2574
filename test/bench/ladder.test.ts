/**
 * The fit's calibration ladder: each probe is a real ONNX graph that onnxruntime runs, and its
 * PIVOT-Sim operation list describes that graph: as many Softmax and LayerNormalization nodes
 * as the list has softmax and LayerNorm operations, and the MACs of its MatMul, Gemm and Conv
 * nodes, computed from the shapes onnxruntime actually produced, equal the list's GEMM MACs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_LADDER, loadLadder, probeFamily, probeVit, type Probe } from '../../src/bench/ladder.js';
import { PROBE_INPUT } from '../../src/bench/probe-graph.js';
import { readOnnx, writeOnnx } from '../../src/import/onnx.js';
import { withOutputs } from '../../src/import/surgery.js';
import { ModelRuntime } from '../../src/model/index.js';
import { outputDims } from '../../src/model/probe.js';
import { buildWorkload } from '../../src/sim/workload.js';
import { ConfigError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'pivot-ladder-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** MACs of the graph's MatMul, Gemm and Conv nodes from the shapes of their inputs and outputs in a real run. */
async function graphMacs(file: string, image: number, channels: number): Promise<number> {
  const { model } = readOnnx(file);
  const nodes = model.graph!.node!.filter((n) => ['MatMul', 'Gemm', 'Conv'].includes(n.opType!));
  const tensors = [...new Set(nodes.flatMap((n) => [n.input![0]!, n.input![1]!, n.output![0]!]))];
  const tapped = join(dir, 'tapped.onnx');
  await writeOnnx(
    tapped,
    withOutputs(
      model,
      tensors.filter((t) => !model.graph!.initializer!.some((i) => i.name === t)),
    ),
  );
  const initDims = new Map(model.graph!.initializer!.map((i) => [i.name!, (i.dims ?? []).map(Number)]));
  const dims = {
    ...Object.fromEntries(initDims),
    ...(await outputDims(tapped, { name: PROBE_INPUT, dims: [1, channels, image, image] }, [...tensors.filter((t) => !initDims.has(t))])),
  } as Record<string, readonly number[]>;
  return nodes.reduce((s, n) => {
    const out = dims[n.output![0]!]!;
    const a = dims[n.input![0]!]!;
    const w = dims[n.input![1]!]!;
    // Conv: every output element sums kernel x kernel x input channels; MatMul/Gemm: the shared dimension.
    const k = n.opType === 'Conv' ? product(w.slice(1)) : a[a.length - 1]!;
    return s + product(out) * k;
  }, 0);
}

const count = (file: string, op: string) => readOnnx(file).model.graph!.node!.filter((n) => n.opType === op).length;

describe('calibration ladder probes', () => {
  const small = DEFAULT_LADDER.find((p) => p.name === 't64-d128')!;
  const deitBlock = DEFAULT_LADDER.find((p) => p.name === 't196-d192')!;

  for (const probe of [small, deitBlock])
    it(`${probe.name}: runs in onnxruntime, and every effort's graph matches its operation list`, async () => {
      const family = await probeFamily(probe, dir);
      const vit = probeVit(probe);
      assert.equal(family.manifest.efforts.length, probe.depth + 1);
      for (const e of family.manifest.efforts) {
        const file = family.file(e.file);
        const ops = buildWorkload(vit, e.active);
        assert.equal(count(file, 'Softmax'), e.effort, 'one Softmax per active attention');
        assert.equal(count(file, 'Softmax'), ops.filter((o) => o.kind === 'softmax').length);
        assert.equal(count(file, 'LayerNormalization'), ops.filter((o) => o.kind === 'layernorm').length);
        assert.equal(count(file, 'Erf'), ops.filter((o) => o.kind === 'gelu').length);
        const listMacs = ops.reduce((s, o) => s + (o.unit === 'pl' ? o.gemm.m * o.gemm.k * o.gemm.n * o.repeat : 0), 0);
        assert.equal(await graphMacs(file, probe.image, probe.channels), listMacs);
        assert.equal(e.macs, listMacs);
      }
      const runtime = new ModelRuntime(family, { intraOpThreads: 1 });
      try {
        const session = await runtime.session(probe.depth);
        const logits = await session.run(
          new Float32Array(2 * session.sampleSize).map((_, i) => Math.sin(i)),
          2,
        );
        assert.equal(logits.length, 2 * probe.classes);
        assert.ok(logits.every(Number.isFinite));
      } finally {
        await runtime.close();
      }
    });

  it('a probe is written once and reused; another description gets graphs of its own', async () => {
    const a = await probeFamily(small, dir);
    const b = await probeFamily(small, dir);
    assert.equal(a.dir, b.dir);
    const other = await probeFamily({ ...small, name: 'copy' }, dir);
    assert.notEqual(other.dir, a.dir);
  });

  it('a bad ladder file names the field', () => {
    const write = (name: string, text: string) => {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    };
    const good: Probe = { ...small };
    assert.deepEqual(loadLadder(write('ok.yaml', `probes:\n  - ${JSON.stringify(good)}\n`)), [good]);
    const cases: [string, RegExp][] = [
      [JSON.stringify({ probes: [{ ...good, patch: 5 }] }), /probes\.0\.patch: 5 does not divide image 32/],
      [JSON.stringify({ probes: [{ ...good, heads: 3 }] }), /probes\.0\.heads: 3 heads do not divide dim 128/],
      [JSON.stringify({ probes: [{ ...good, depth: 9 }] }), /probes\.0\.depth/],
      [JSON.stringify({ probes: [good, good] }), /probes\.1\.name: t64-d128 is listed twice/],
      [JSON.stringify({ probes: [{ ...good, width: 3 }] }), /probes\.0: Unrecognized key.*width/],
      [JSON.stringify({ probes: [] }), /probes:/],
    ];
    cases.forEach(([text, message], i) => {
      assert.throws(
        () => loadLadder(write(`bad-${i}.json`, text)),
        (err: Error) => err instanceof ConfigError && message.test(err.message),
      );
    });
    assert.throws(() => loadLadder(join(dir, 'missing.yaml')), /--calibration: .*missing\.yaml/);
  });
});
