/**
 * PIVOT-Sim speed: ms per DeiT-S effort and per full Phase 2 pair/threshold sweep, with
 * side-by-side references measured in the same run (ratios, not absolute claims):
 * - closed form (what the simulator does) vs a fold-by-fold loop vs a cycle-by-cycle loop
 *   over the same GEMMs (the cost SCALE-Sim-style iteration would pay just to count);
 * - a full Phase 2 sweep: every effort simulated as low and high, then every pair x F_L combined.
 * Run: npm run bench:sim
 */
import { computeGemm, DATAFLOWS, type DataflowName, type Gemm } from '../src/sim/dataflow/index.js';
import { ZCU102 } from '../src/sim/hardware.js';
import { pairResult } from '../src/sim/pair.js';
import { VIT_PRESETS } from '../src/sim/presets.js';
import { simulateEfforts, type EffortCost } from '../src/sim/efforts.js';
import { simulateVit } from '../src/sim/simulate.js';
import { resolveVit } from '../src/sim/vit-source.js';
import { buildWorkload, deepestSkippedMask } from '../src/sim/workload.js';

const vit = VIT_PRESETS['deit-s']!;
const hw = ZCU102;
/** The transformer GEMMs' fixed dataflow (the cycle-count comparison below is per dataflow). */
const df: DataflowName = hw.dataflow === 'best' ? 'is' : hw.dataflow;
const efforts = Array.from({ length: vit.depth + 1 }, (_, e) => e);
const masks = efforts.map((e) => deepestSkippedMask(vit.depth, e));
const THRESHOLDS = 101; // F_L values per pair, 0.00 .. 1.00

/** Median ms per call of fn over `rounds` rounds of `iters` calls. */
function time(fn: () => unknown, iters: number, rounds = 7): number {
  fn();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) fn();
    samples.push((performance.now() - t0) / iters);
  }
  return samples.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

const gemms: { g: Gemm; repeat: number }[] = buildWorkload(vit, masks[vit.depth]!).flatMap((op) =>
  op.unit === 'pl' ? [{ g: op.gemm, repeat: op.repeat }] : [],
);

function foldLoopCycles(): number {
  let total = 0;
  for (const { g, repeat } of gemms) {
    const map = DATAFLOWS[df].map(g);
    for (let r = 0; r < repeat; r++)
      for (let fc = 0; fc < Math.ceil(map.sc / hw.array.cols); fc++)
        for (let fr = 0; fr < Math.ceil(map.sr / hw.array.rows); fr++) total += DATAFLOWS[df].foldCycles(map, hw.array);
  }
  return total;
}

function cycleLoopCycles(): number {
  let total = 0;
  for (const { g, repeat } of gemms) {
    const c = computeGemm(df, g, hw.array);
    for (let f = 0; f < c.folds * repeat; f++) for (let cyc = 0; cyc < c.cyclesPerFold; cyc++) total++;
  }
  return total;
}

const closedCycles = (): number => gemms.reduce((s, { g, repeat }) => s + computeGemm(df, g, hw.array).computeCycles * repeat, 0);

const sweepPairs = (costs: EffortCost[]): number => {
  let best = Infinity;
  for (let lo = 0; lo < costs.length; lo++)
    for (let hi = lo + 1; hi < costs.length; hi++)
      for (let t = 0; t < THRESHOLDS; t++) best = Math.min(best, pairResult(costs[lo]!.asLow, costs[hi]!.asHigh, t / (THRESHOLDS - 1)).edp);
  return best;
};

if (closedCycles() !== foldLoopCycles() || closedCycles() !== cycleLoopCycles())
  throw new Error('reference loops disagree with the closed form');

const perEffort = time(() => masks.forEach((m) => simulateVit(vit, hw, m)), 20) / masks.length;
const closed = time(closedCycles, 200);
const foldLoop = time(foldLoopCycles, 50);
const cycleLoop = time(cycleLoopCycles, 3, 5);
const pairs = (efforts.length * (efforts.length - 1)) / 2;
const source = resolveVit('deit-s');
const cachedCosts = simulateEfforts(source, hw);
const fullSweep = time(() => sweepPairs(simulateEfforts(source, hw)), 3, 5);
const combineOnly = time(() => sweepPairs(cachedCosts), 3, 5);

const row = (label: string, ms: number, note = '') => console.log(`${label.padEnd(60)} ${ms.toFixed(4).padStart(10)} ms ${note}`);
console.log(
  `PIVOT-Sim benchmark: DeiT-S on ${hw.name} (${hw.array.rows}x${hw.array.cols} ${hw.dataflow.toUpperCase()}), node ${process.version}`,
);
row('simulate one effort (full result, all ops)', perEffort, '(budget: well under 10 ms)');
row('GEMM cycles, closed form (baseline effort)', closed, '1.0x');
row('GEMM cycles, fold-by-fold loop', foldLoop, `${(foldLoop / closed).toFixed(0)}x slower`);
row('GEMM cycles, cycle-by-cycle loop', cycleLoop, `${(cycleLoop / closed).toFixed(0)}x slower`);
row(`full sweep: ${efforts.length} efforts x 2 + ${pairs} pairs x ${THRESHOLDS} F_L`, fullSweep);
row(
  '  of which combining pairs (D = F_L*D_L + F_H*(D_L+D_H))',
  combineOnly,
  `${((combineOnly / (pairs * THRESHOLDS)) * 1000).toFixed(2)} us per pair and F_L`,
);
