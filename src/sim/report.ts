/** Output formats of a simulation: JSON for programs, CSV, a readable table, an SVG breakdown chart. */
import Table from 'cli-table3';
import { mappingName } from './dataflow/index.js';
import { COMPONENTS, type PowerComponent } from './hardware.js';
import type { PairResult } from './pair.js';
import type { LayerResult, ModuleRecord, SimResult } from './simulate.js';
import { MODULES } from './workload.js';

type Json = Record<string, unknown>;

const layerJson = (l: LayerResult): Json => ({
  name: l.name,
  module: l.module,
  unit: l.unit,
  ...(l.encoder !== undefined ? { encoder: l.encoder } : {}),
  total_cycles: l.totalCycles,
  compute_cycles: l.computeCycles,
  stall_cycles: l.stallCycles,
  time_ms: l.timeMs,
  ...(l.gemm && l.compute && l.traffic
    ? {
        m: l.gemm.m,
        k: l.gemm.k,
        n: l.gemm.n,
        repeat: l.gemm.repeat,
        ...(l.mapping ? { dataflow: mappingName(l.mapping) } : {}),
        folds: l.compute.folds,
        cycles_per_fold: l.compute.cyclesPerFold,
        mapping_efficiency: l.compute.mappingEfficiency,
        compute_utilization: l.compute.computeUtilization,
        sram_reads: l.traffic.sram.inputReads + l.traffic.sram.weightReads,
        sram_writes: l.traffic.sram.outputWrites,
        dram_bytes: l.traffic.dramBytes,
      }
    : { elements: l.hostElements }),
});

function summaryJson(r: SimResult): Json {
  return {
    model: r.model,
    hardware: r.hardware,
    dataflow: r.dataflow,
    clock_mhz: r.clockMhz,
    active: r.active,
    effort: r.effort,
    delay_ms: r.delayMs,
    energy_j: r.energyJ,
    edp: r.edp,
    fps_per_w: r.fpsPerW,
    power_w: r.powerW,
    breakdown: r.breakdown,
    breakdown_ms: r.breakdownMs,
    energy_breakdown_j: r.energy.byComponent,
    pl_ms: r.plMs,
    host_ms: r.hostMs,
    compute_cycles: r.computeCycles,
    stall_cycles: r.stallCycles,
    macs: r.macs,
    utilization: {
      overall: r.utilization.overall,
      mapping_efficiency: r.utilization.mappingEfficiency,
      compute_utilization: r.utilization.computeUtilization,
    },
  };
}

export function resultJson(r: SimResult): Json {
  return { ...summaryJson(r), layers: r.layers.map(layerJson) };
}

export function pairJson(p: PairResult): Json {
  return {
    pair: { low: p.low.effort, high: p.high.effort, fl: p.fl, fh: p.fh },
    delay_ms: p.delayMs,
    energy_j: p.energyJ,
    edp: p.edp,
    fps_per_w: p.fpsPerW,
    recompute_ms: p.recomputeMs,
    breakdown: p.breakdown,
    breakdown_ms: p.breakdownMs,
    energy_breakdown_j: p.energyByComponent,
    low: summaryJson(p.low),
    high: summaryJson(p.high),
  };
}

const csvCell = (v: unknown) => (typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v ?? ''));

const LAYER_COLUMNS = [
  'name',
  'module',
  'unit',
  'm',
  'k',
  'n',
  'repeat',
  'dataflow',
  'folds',
  'compute_cycles',
  'stall_cycles',
  'total_cycles',
  'time_ms',
  'dram_bytes',
  'elements',
];

/** One row per operation. */
export function layersCsv(r: SimResult): string {
  const rows = r.layers.map((l) => {
    const j = layerJson(l);
    return LAYER_COLUMNS.map((c) => csvCell(j[c])).join(',');
  });
  return [LAYER_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

/** One summary row per result (effort or pair). */
export function summaryCsv(
  rows: { label: string; delayMs: number; energyJ: number; edp: number; fpsPerW: number; breakdown: ModuleRecord }[],
): string {
  const head = ['label', 'delay_ms', 'energy_j', 'edp', 'fps_per_w', ...MODULES.map((m) => `share_${m}`)];
  const body = rows.map((r) => [csvCell(r.label), r.delayMs, r.energyJ, r.edp, r.fpsPerW, ...MODULES.map((m) => r.breakdown[m])].join(','));
  return [head.join(','), ...body].join('\n') + '\n';
}

/** No ANSI colours: the tables are often piped or logged. */
const PLAIN = { head: [], border: [] };

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const f = (x: number, d = 3) => x.toFixed(d);
const maskText = (a: number[]) => a.join('');

function breakdownTables(ms: ModuleRecord, share: ModuleRecord, energy: Record<PowerComponent, number>): string {
  const delay = new Table({ head: ['module (Fig. 6a)', 'ms', 'share'], style: PLAIN });
  for (const m of MODULES) delay.push([m, f(ms[m]), pct(share[m])]);
  const total = COMPONENTS.reduce((s, c) => s + energy[c], 0);
  const en = new Table({ head: ['component (Fig. 6b)', 'J', 'share'], style: PLAIN });
  for (const c of COMPONENTS) en.push([c, f(energy[c], 4), pct(total > 0 ? energy[c] / total : 0)]);
  return `${delay.toString()}\n${en.toString()}`;
}

/** One row per operation: GEMM shape, folds, cycles, stalls, time. */
export function layersTable(r: SimResult): string {
  const lt = new Table({ head: ['op', 'M x K x N (x rep)', 'dataflow', 'folds', 'cycles', 'stalls', 'ms'], style: PLAIN });
  for (const l of r.layers)
    lt.push([
      l.name,
      l.gemm ? `${l.gemm.m}x${l.gemm.k}x${l.gemm.n}${l.gemm.repeat > 1 ? ` x${l.gemm.repeat}` : ''}` : `${l.hostElements} el (host)`,
      l.mapping ? mappingName(l.mapping).toUpperCase() : '',
      l.compute ? String(l.compute.folds) : '',
      String(l.totalCycles),
      String(l.stallCycles),
      f(l.timeMs, 4),
    ]);
  return lt.toString();
}

export function resultTable(r: SimResult, withLayers = false): string {
  const t = new Table({ style: PLAIN });
  t.push(
    { model: `${r.model} (effort ${r.effort}, active ${maskText(r.active)})` },
    {
      hardware:
        r.dataflow === 'cpu'
          ? `${r.hardware}: measured device profile (kind: cpu)`
          : `${r.hardware}: ${r.dataflow.toUpperCase()} @ ${r.clockMhz} MHz`,
    },
    { 'delay (ms)': f(r.delayMs) },
    { 'energy (J)': f(r.energyJ, 4) },
    { 'EDP (J x ms)': f(r.edp) },
    { 'FPS/W': f(r.fpsPerW) },
    { 'avg power (W)': f(r.powerW) },
  );
  if (r.dataflow !== 'cpu')
    t.push(
      { 'PL / host (ms)': `${f(r.plMs)} / ${f(r.hostMs)}` },
      { 'cycles compute / stall': `${r.computeCycles} / ${r.stallCycles}` },
      { 'PE utilization': `${pct(r.utilization.overall)} (mapping ${pct(r.utilization.mappingEfficiency)})` },
    );
  let out = `${t.toString()}\n${breakdownTables(r.breakdownMs, r.breakdown, r.energy.byComponent)}`;
  if (withLayers) out += `\n${layersTable(r)}`;
  return out;
}

export function pairTable(p: PairResult): string {
  const t = new Table({ style: PLAIN });
  t.push(
    { pair: `low effort ${p.low.effort} (${maskText(p.low.active)}), high effort ${p.high.effort} (${maskText(p.high.active)})` },
    { 'F_L / F_H': `${f(p.fl)} / ${f(p.fh)}` },
    { 'D_L / D_H (ms)': `${f(p.low.delayMs)} / ${f(p.high.delayMs)}` },
    { 'delay (ms)': `${f(p.delayMs)} (re-computation ${f(p.recomputeMs)})` },
    { 'energy (J)': f(p.energyJ, 4) },
    { 'EDP (J x ms)': f(p.edp) },
    { 'FPS/W': f(p.fpsPerW) },
  );
  return `${t.toString()}\n${breakdownTables(p.breakdownMs, p.breakdown, p.energyByComponent)}`;
}
