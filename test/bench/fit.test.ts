/**
 * Device profiles: the fit recovers known costs from synthetic timings made with them (with
 * noise), a profile round-trips through YAML and bad files name the field, `pivot sim` with a
 * profile is the sum of the fitted costs over the operations, and Phase 2 with a profile picks
 * the pair whose predicted delay meets the target.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { stringify } from 'yaml';
import { crossModel, fitDevice, leaveOneEffortOut, leaveOneModelOut, type FitPoint } from '../../src/bench/fit.js';
import { DEFAULT_LADDER, probeVit } from '../../src/bench/ladder.js';
import { ConfigError } from '../../src/errors.js';
import { pairOrder, resolveTarget, selectPair, simDelays, thresholdGrid } from '../../src/search/phase2/index.js';
import {
  CPU_COSTS,
  cpuFeatures,
  isCpuDevice,
  loadHardware,
  resolveVit,
  runSim,
  simulateEfforts,
  type CpuCosts,
  type CpuDevice,
} from '../../src/sim/index.js';
import { buildWorkload } from '../../src/sim/workload.js';

const MODEL = join(import.meta.dirname, '..', '..', 'models', 'fmnist-vit');
const source = resolveVit(MODEL);
const dir = mkdtempSync(join(tmpdir(), 'pivot-device-'));

const TRUE_COSTS: CpuCosts = {
  inference: 40_000,
  op_call: 900,
  attention_call: 5000,
  gemm_mac: 0.03,
  attention_mac: 0.2,
  gemm_byte: 0.005,
  softmax: 2,
  layernorm: 3,
  gelu: 1.5,
  add: 0.5,
  entropy: 0,
};
const profile = (costs: CpuCosts = TRUE_COSTS): CpuDevice => ({
  kind: 'cpu',
  name: 'test-cpu',
  threads: 1,
  clock: 'wall',
  batch: 1,
  costs_ns: costs,
  power_w: 5,
});

/** Deterministic noise in [-amp, amp] (a linear congruential sequence from `seed`). */
function noise(amp: number, seed = 12345): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return ((state / 2 ** 31) * 2 - 1) * amp;
  };
}

function synthetic(costs: CpuCosts, batches: number[], amp: number): FitPoint[] {
  const jitter = noise(amp);
  return batches.flatMap((batch) =>
    [...source.efforts].map(([effort, active]) => {
      const f = cpuFeatures(buildWorkload(source.vit, active), batch);
      const ns = CPU_COSTS.reduce((s, c) => s + costs[c] * f[c], 0);
      return { effort, batch, measured_ms: (ns / 1e6) * (1 + jitter()) };
    }),
  );
}

describe('device profile fit', () => {
  it("a GEMM's features: MACs, and operand bytes with a linear layer's weight shared by the batch", () => {
    const gemm = (kind: 'fc1' | 'qk', repeat: number) => [
      { unit: 'pl' as const, name: kind, kind, module: 'mlp' as const, gemm: { m: 2, k: 3, n: 4 }, repeat },
    ];
    const linear = cpuFeatures(gemm('fc1', 1), 2);
    assert.equal(linear.gemm_mac, 24);
    assert.equal(linear.gemm_byte, 4 * (2 * 3 + 2 * 4 + (3 * 4) / 2));
    assert.equal(linear.op_call, 1 / 2);
    const attention = cpuFeatures(gemm('qk', 2), 2);
    assert.equal(attention.attention_mac, 48);
    assert.equal(attention.gemm_byte, 4 * 2 * (2 * 3 + 2 * 4 + 3 * 4));
  });

  it('pooled over two families: one fit, and each family predicted from the other alone', () => {
    const deit = resolveVit('deit-t');
    const points: FitPoint[] = [
      ...synthetic(TRUE_COSTS, [1, 2], 0).map((p) => ({ ...p, model: source.vit.name })),
      ...[1, 2].flatMap((batch) =>
        [1, 6, 12].map((count) => {
          const active = Array.from({ length: 12 }, (_, i) => (i < count ? 1 : 0));
          const f = cpuFeatures(buildWorkload(deit.vit, active), batch);
          return {
            model: deit.vit.name,
            effort: count,
            mask: active.join(''),
            batch,
            measured_ms: CPU_COSTS.reduce((s, c) => s + TRUE_COSTS[c] * f[c], 0) / 1e6,
          };
        }),
      ),
    ];
    const fit = fitDevice([source, deit], points);
    assert.ok(fit.max_error < 1e-6, `max residual ${fit.max_error}`);
    // Only shipped efforts are predicted (the DeiT-T points here are all extra masks).
    const held = leaveOneModelOut([source, deit], points, 1);
    assert.deepEqual(
      held.map((p) => [p.model, p.effort]),
      [...source.efforts.keys()].map((e) => [source.vit.name, e]),
    );
    assert.deepEqual(leaveOneModelOut(source, synthetic(TRUE_COSTS, [1, 2], 0), 1), [], 'one family: nothing to leave out');
    // Every ordered pair: DeiT-T's points alone predict fmnist-vit's efforts (its own shipped efforts: none here).
    assert.deepEqual(
      crossModel([source, deit], points, 1).map((t) => [t.from, t.to, t.rows.length]),
      [
        [source.vit.name, deit.vit.name, 0],
        [deit.vit.name, source.vit.name, source.efforts.size],
      ],
    );
  });

  it('recovers the per-call costs and the total per-image work from timings made with known costs (1% noise)', () => {
    const fit = fitDevice(source, synthetic(TRUE_COSTS, [1, 2, 4, 8], 0.01));
    // Per-call costs are told apart by the batch sizes; within one model every encoder has the
    // same shape, so the per-image costs are only identified through what they add up to.
    for (const [effort, active] of source.efforts) {
      const ops = buildWorkload(source.vit, active);
      const ns = (c: CpuCosts, batch: number) => {
        const f = cpuFeatures(ops, batch);
        return CPU_COSTS.reduce((s, k) => s + c[k] * f[k], 0);
      };
      // ns per image = perCall / batch + perImage.
      const perImage = (c: CpuCosts) => ns(c, 1e9);
      const perCall = (c: CpuCosts) => ns(c, 1) - perImage(c);
      assert.ok(Math.abs(perCall(fit.costs) / perCall(TRUE_COSTS) - 1) < 0.05, `effort ${effort} per call`);
      assert.ok(Math.abs(perImage(fit.costs) / perImage(TRUE_COSTS) - 1) < 0.05, `effort ${effort} per image`);
    }
    assert.ok(fit.rms_error < 0.01 && fit.max_error < 0.02, `rms ${fit.rms_error}, max ${fit.max_error}`);
    for (const p of leaveOneEffortOut(source, synthetic(TRUE_COSTS, [1, 2, 4, 8], 0.01), 1))
      assert.ok(Math.abs(p.error) < 0.05, `effort ${p.effort}: ${p.error}`);
  });

  it('reproduces noise-free timings exactly (the model can express them; NNLS finds a zero-residual solution)', () => {
    const fit = fitDevice(source, synthetic(TRUE_COSTS, [1, 2, 4, 8, 16], 0));
    assert.ok(fit.max_error < 1e-9, `max residual ${fit.max_error}`);
  });

  describe('with the calibration ladder', () => {
    const probes = DEFAULT_LADDER.map((p) => probeVit(p));
    const ladderSources = probes.map((vit) => ({
      vit,
      efforts: new Map(Array.from({ length: vit.depth + 1 }, (_, e) => [e, Array.from({ length: vit.depth }, (_, i) => (i < e ? 1 : 0))])),
      origin: 'manifest' as const,
    }));
    const sources = [source, ...ladderSources];
    const timed = (costs: CpuCosts, amp: number): FitPoint[] => {
      const jitter = noise(amp);
      const ladder = [1, 2, 4].flatMap((batch) =>
        ladderSources.flatMap(({ vit, efforts }) =>
          [...efforts].map(([effort, active]) => {
            const f = cpuFeatures(buildWorkload(vit, active), batch);
            const ns = CPU_COSTS.reduce((s, c) => s + costs[c] * f[c], 0);
            return { model: vit.name, effort, batch, ladder: true, measured_ms: (ns / 1e6) * (1 + jitter()) };
          }),
        ),
      );
      return [...synthetic(costs, [1, 2, 4], amp).map((p) => ({ ...p, model: source.vit.name })), ...ladder];
    };

    it('recovers every cost from timings made with known costs: the probes tell them apart', () => {
      const exact = fitDevice(sources, timed(TRUE_COSTS, 0));
      // Every LayerNorm of a mean-pooled ViT comes with an add of as many elements: only their sum is identified.
      const lnAdd = (c: CpuCosts) => c.layernorm + c.add;
      assert.ok(Math.abs(lnAdd(exact.costs) / lnAdd(TRUE_COSTS) - 1) < 1e-6, `layernorm + add: ${lnAdd(exact.costs)}`);
      for (const c of CPU_COSTS.filter((c) => c !== 'layernorm' && c !== 'add'))
        assert.ok(Math.abs(exact.costs[c] / TRUE_COSTS[c] - 1) < 1e-6, `${c}: ${exact.costs[c]} vs ${TRUE_COSTS[c]}`);
      // With 1% noise: the costs that dominate some probe within 10% (operand bytes, a small share of every point, less exactly).
      const noisy = fitDevice(sources, timed(TRUE_COSTS, 0.01));
      for (const c of ['inference', 'op_call', 'attention_call', 'gemm_mac', 'attention_mac', 'softmax', 'gelu'] as const)
        assert.ok(Math.abs(noisy.costs[c] / TRUE_COSTS[c] - 1) < 0.1, `${c}: ${noisy.costs[c]} vs ${TRUE_COSTS[c]}`);
      assert.ok(noisy.max_error < 0.02, `max residual ${noisy.max_error}`);
    });

    it('per-call costs do not trade for per-operation ones: DeiT-S + ladder predicts the shipped model (3% noise, 40 draws)', () => {
      // Costs shaped like this machine's pooled fits: a call and an attention branch cost tens of
      // us, an operation nothing beyond its work. The ladder runs 9-28 operations per call, DeiT-S
      // 70-147 and the shipped model 34-76, so a per-operation cost fitted on the first two is an
      // extrapolation for the third: left to trade with the per-call cost, the noise decides it.
      const machine: CpuCosts = { ...TRUE_COSTS, inference: 55_000, op_call: 0, attention_call: 30_000, gemm_byte: 0.02, layernorm: 0 };
      const deit = resolveVit('deit-s');
      const all = [source, deit, ...ladderSources];
      const deitMasks = Array.from({ length: 12 }, (_, i) => Array.from({ length: 12 }, (_, k) => (k <= i ? 1 : 0)));
      for (let seed = 1; seed <= 40; seed++) {
        const jitter = noise(0.03, seed);
        const at = (vit: typeof deit.vit, active: number[], batch: number) => {
          const f = cpuFeatures(buildWorkload(vit, active), batch);
          return (CPU_COSTS.reduce((s, c) => s + machine[c] * f[c], 0) / 1e6) * (1 + jitter());
        };
        const points: FitPoint[] = [1, 2].flatMap((batch) => [
          ...[...source.efforts].map(([effort, active]) => ({
            model: source.vit.name,
            effort,
            batch,
            measured_ms: at(source.vit, active, batch),
          })),
          ...deitMasks.map((active, i) => ({
            model: deit.vit.name,
            effort: i + 1,
            mask: active.join(''),
            batch,
            measured_ms: at(deit.vit, active, batch),
          })),
          ...ladderSources.flatMap(({ vit, efforts }) =>
            [...efforts].map(([effort, active]) => ({ model: vit.name, effort, batch, ladder: true, measured_ms: at(vit, active, batch) })),
          ),
        ]);
        const fromDeit = crossModel(all, points, 1).find((t) => t.from === deit.vit.name)!;
        assert.equal(fromDeit.rows.length, source.efforts.size);
        for (const p of fromDeit.rows) assert.ok(Math.abs(p.error) < 0.1, `draw ${seed}, effort ${p.effort}: ${p.error}`);
      }
    });

    it('probes are fitted but never predicted, and stay in every check: the model plus the ladder predicts it', () => {
      const points = timed(TRUE_COSTS, 0);
      const loo = leaveOneEffortOut(sources, points, 1);
      assert.deepEqual(
        loo.map((p) => p.model),
        [...source.efforts.keys()].map(() => source.vit.name),
      );
      for (const p of loo) assert.ok(Math.abs(p.error) < 1e-6, `effort ${p.effort}: ${p.error}`);
      assert.deepEqual(leaveOneModelOut(sources, points, 1), [], 'one family and the ladder: nothing to leave out');
      // The ladder alone predicts the family it never saw (noise-free timings: exactly).
      const transfers = crossModel(sources, points, 1);
      assert.deepEqual(
        transfers.map((t) => [t.from, t.to]),
        [['ladder', source.vit.name]],
      );
      for (const p of transfers[0]!.rows) assert.ok(Math.abs(p.error) < 1e-6, `effort ${p.effort}: ${p.error}`);
    });
  });

  it('a point spoilt by a burst of load is down-weighted, not followed', () => {
    const points = synthetic(TRUE_COSTS, [1, 2, 4], 0.01);
    points[5] = { ...points[5]!, measured_ms: points[5]!.measured_ms * 2.5 };
    const fit = fitDevice(source, points);
    assert.ok(fit.weights[5]! < 0.2, `weight ${fit.weights[5]}`);
    fit.points.forEach((p, i) => i !== 5 && assert.ok(Math.abs(p.error) < 0.05, `point ${i}: ${p.error}`));
  });
});

describe('device profile files', () => {
  it('round-trips through YAML and is told apart from an accelerator by kind', () => {
    const file = join(dir, 'dev.yaml');
    writeFileSync(file, stringify(profile()));
    const loaded = loadHardware(file);
    assert.ok(isCpuDevice(loaded));
    assert.deepEqual(loaded, profile());
    assert.match(readFileSync(file, 'utf8'), /^kind: cpu$/m);
  });

  it('bad files name the field', () => {
    const bad = (name: string, value: unknown, ...patterns: RegExp[]) => {
      const file = join(dir, name);
      writeFileSync(file, stringify(value));
      assert.throws(
        () => loadHardware(file),
        (e: unknown) => e instanceof ConfigError && patterns.every((p) => p.test(e.message)) && e.message.includes(name),
      );
    };
    bad('neg.yaml', { ...profile(), costs_ns: { ...TRUE_COSTS, gemm_mac: -1 } }, /costs_ns\.gemm_mac/);
    bad('missing.yaml', { ...profile(), costs_ns: { inference: 1 } }, /costs_ns\.op_call/);
    bad('typo.yaml', { ...profile(), power: 3 }, /power/);
    bad('batch.yaml', { ...profile(), batch: 0 }, /batch/);
  });
});

describe('PIVOT-Sim on a device profile', () => {
  const file = join(dir, 'sim.yaml');
  writeFileSync(file, stringify(profile()));

  it('an effort costs the sum of the fitted costs over its operations, energy = power x delay', async () => {
    const active = source.efforts.get(3)!;
    const ops = buildWorkload(source.vit, active);
    const c = TRUE_COSTS;
    let ns = c.inference;
    for (const op of ops) {
      ns += c.op_call;
      // Each active attention's own call overhead (one softmax per attention).
      if (op.kind === 'softmax') ns += c.attention_call;
      if (op.unit === 'pl') {
        const { m, k, n } = op.gemm;
        const attention = op.kind === 'qk' || op.kind === 'smv';
        ns += m * k * n * op.repeat * (attention ? c.attention_mac : c.gemm_mac);
        // Operand bytes at batch 1: input, weight (or second activation) and output, float32.
        ns += 4 * op.repeat * (m * k + k * n + m * n) * c.gemm_byte;
      } else ns += op.elements * c[op.kind as 'softmax' | 'layernorm' | 'gelu' | 'add'];
    }
    const out = await runSim({ vit: MODEL, hw: file, effort: 3, json: true });
    const json = out.json as { delay_ms: number; energy_j: number; dataflow: string; layers: { time_ms: number }[] };
    assert.ok(Math.abs(json.delay_ms - ns / 1e6) < 1e-12, `${json.delay_ms} vs ${ns / 1e6}`);
    assert.ok(Math.abs(json.layers.reduce((s, l) => s + l.time_ms, 0) - json.delay_ms) < 1e-12);
    assert.ok(Math.abs(json.energy_j - (5 * json.delay_ms) / 1000) < 1e-15);
    assert.equal(json.dataflow, 'cpu');
  });

  it('accelerator-only options are refused with a profile', async () => {
    await assert.rejects(
      runSim({ vit: MODEL, hw: file, dataflow: 'ws' }),
      (e: unknown) => e instanceof ConfigError && /kind: cpu/.test(e.message),
    );
  });

  it('Phase 2 with a profile picks the first pair whose predicted delay meets the target', () => {
    const efforts = [...source.efforts.keys()].sort((a, b) => a - b);
    const delays = simDelays(MODEL, file, efforts);
    const costs = simulateEfforts(source, loadHardware(file));
    assert.equal(delays.byEffort.get(6)!.asHigh, costs.find((c) => c.effort === 6)!.asHigh.delayMs);
    // Every image sure on every effort: F_L = 1, so a pair costs its low effort's delay.
    const n = 8;
    const predictions = new Map(efforts.map((e) => [e, { classes: new Int32Array(n), entropies: new Float64Array(n).fill(0.01) }]));
    const target = resolveTarget({ delayRatio: 0.5, tolerance: 0 }, delays);
    const { tried, chosen } = selectPair(pairOrder(efforts), predictions, new Int32Array(n), delays, 0.5, thresholdGrid(0.05), target);
    assert.ok(chosen, 'some pair meets half the full effort');
    assert.ok(chosen.delay_ms! <= target.ms);
    for (const t of tried.slice(0, -1)) assert.ok(t.delay_ms! > target.ms, `(${t.low},${t.high}) met the target before the chosen one`);
    assert.ok(Math.abs(chosen.delay_ms! - delays.byEffort.get(chosen.low)!.asLow) < 1e-12);
  });
});
