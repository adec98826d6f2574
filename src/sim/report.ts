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

const LAYER_COLUMNS = ['name', 'module', 'unit', 'm', 'k', 'n', 'repeat', 'dataflow', 'folds', 'compute_cycles', 'stall_cycles', 'total_cycles', 'time_ms', 'dram_bytes', 'elements'];

/** One row per operation. */
export function layersCsv(r: SimResult): string {
  const rows = r.layers.map((l) => {
    const j = layerJson(l);
    return LAYER_COLUMNS.map((c) => csvCell(j[c])).join(',');
  });
  return [LAYER_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

/** One summary row per result (effort or pair). */
export function summaryCsv(rows: { label: string; delayMs: number; energyJ: number; edp: number; fpsPerW: number; breakdown: ModuleRecord }[]): string {
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
    { hardware: `${r.hardware}: ${r.dataflow.toUpperCase()} @ ${r.clockMhz} MHz` },
    { 'delay (ms)': f(r.delayMs) },
    { 'energy (J)': f(r.energyJ, 4) },
    { 'EDP (J x ms)': f(r.edp) },
    { 'FPS/W': f(r.fpsPerW) },
    { 'avg power (W)': f(r.powerW) },
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

const MODULE_COLORS: Record<string, string> = {
  attention_mac: '#4e79a7', softmax: '#e15759', mlp: '#59a14f', other: '#bab0ac',
  ps: '#f28e2b', pe_array: '#4e79a7', sram: '#76b7b2', periphery: '#bab0ac',
};

export interface ChartBar {
  label: string;
  /** Segment name -> value; drawn as shares of the bar's total. */
  parts: Record<string, number>;
  /** Printed right of the bar (the absolute total, say). */
  note?: string;
}

const escapeXml = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/** Two panels of 100%-stacked horizontal bars: delay by module (Fig. 6a) and energy by component (Fig. 6b). */
export function breakdownSvg(delayBars: ChartBar[], energyBars: ChartBar[]): string {
  const width = 720;
  const barH = 26;
  const labelW = 170;
  const noteW = 90;
  const plotW = width - labelW - noteW - 10;
  const parts: string[] = [];
  let y = 10;
  const panel = (title: string, bars: ChartBar[]) => {
    parts.push(`<text x="10" y="${y + 14}" font-weight="bold">${escapeXml(title)}</text>`);
    y += 24;
    const keys = new Set<string>();
    for (const bar of bars) {
      const total = Object.values(bar.parts).reduce((s, v) => s + v, 0) || 1;
      parts.push(`<text x="10" y="${y + 17}">${escapeXml(bar.label)}</text>`);
      let x = labelW;
      for (const [key, value] of Object.entries(bar.parts)) {
        keys.add(key);
        const w = (value / total) * plotW;
        parts.push(`<rect x="${x.toFixed(2)}" y="${y}" width="${w.toFixed(2)}" height="${barH}" fill="${MODULE_COLORS[key] ?? '#999'}"><title>${escapeXml(`${key}: ${((value / total) * 100).toFixed(1)}%`)}</title></rect>`);
        if (w > 34) parts.push(`<text x="${(x + w / 2).toFixed(2)}" y="${y + 17}" text-anchor="middle" fill="#fff">${((value / total) * 100).toFixed(0)}%</text>`);
        x += w;
      }
      if (bar.note) parts.push(`<text x="${labelW + plotW + 8}" y="${y + 17}">${escapeXml(bar.note)}</text>`);
      y += barH + 6;
    }
    let lx = labelW;
    for (const key of keys) {
      parts.push(`<rect x="${lx}" y="${y + 4}" width="12" height="12" fill="${MODULE_COLORS[key] ?? '#999'}"/><text x="${lx + 16}" y="${y + 15}">${escapeXml(key)}</text>`);
      lx += 16 + key.length * 8 + 20;
    }
    y += 30;
  };
  panel('Delay breakdown by module', delayBars);
  panel('Energy breakdown by component', energyBars);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="sans-serif" font-size="13">\n${parts.join('\n')}\n</svg>\n`;
}
