/**
 * `pivot sim` as a library call: resolves the inputs, simulates, and renders the requested
 * format. The CLI only parses flags and prints; tests call this directly.
 */
import { writeFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import { isCpuDevice, loadHardware, type Device, type Hardware } from './hardware.js';
import { checkFraction, pairResult } from './pair.js';
import { breakdownSpec, writeChart, type ChartBar } from './chart.js';
import { layersCsv, layersTable, pairJson, pairTable, resultJson, resultTable, summaryCsv } from './report.js';
import { computeReport, readScaleSimConfig, readTopology, scaleSimLayers, topologyName } from './scalesim.js';
import { simulateOps, simulateVit, type SimResult } from './simulate.js';
import { foldTrace } from './trace.js';
import { resolveMask, resolveVit, type VitSource } from './vit-source.js';

export interface SimOptions {
  vit?: string;
  hw?: string;
  active?: string;
  effort?: number;
  pair?: string;
  fl?: number;
  entropy?: boolean;
  dataflow?: string;
  idealBandwidth?: boolean;
  json?: boolean;
  csv?: boolean;
  layers?: boolean;
  chart?: string;
  /** Fold-level PL timeline CSV (slow path). */
  trace?: string;
  scalesimConfig?: string;
  topology?: string;
}

export interface SimOutput {
  /** What the CLI prints on stdout. */
  text: string;
  /** Structured result (the JSON document). */
  json: Record<string, unknown>;
  /** Files written (the chart). */
  files: string[];
}

function applyOverrides(hw: Device, o: SimOptions): Device {
  if (isCpuDevice(hw)) {
    if (o.dataflow !== undefined || o.idealBandwidth || o.trace)
      throw new ConfigError(
        `--dataflow, --ideal-bandwidth and --trace describe an accelerator; ${hw.name} is a measured device profile (kind: cpu)`,
      );
    return hw;
  }
  return overrideAccelerator(hw, o);
}

function overrideAccelerator(hw: Hardware, o: SimOptions): Hardware {
  let out = hw;
  if (o.dataflow !== undefined) {
    const df = o.dataflow.toLowerCase();
    if (df !== 'os' && df !== 'ws' && df !== 'is' && df !== 'best')
      throw new ConfigError(`--dataflow: must be os, ws, is or best, got ${JSON.stringify(o.dataflow)}`);
    // One dataflow for every layer, convolutions included.
    out = { ...out, dataflow: df, conv_dataflow: undefined };
  }
  if (o.idealBandwidth) out = { ...out, dram_bandwidth_gbps: 'ideal' };
  return out;
}

function checkExclusive(o: SimOptions): void {
  const fail = (msg: string): never => {
    throw new ConfigError(msg);
  };
  if (o.json && o.csv) fail('--json and --csv are exclusive');
  if (o.scalesimConfig || o.topology) {
    if (!o.scalesimConfig || !o.topology) fail('--scalesim-config and --topology go together');
    if (o.vit) fail('--vit cannot be combined with --scalesim-config/--topology');
    if (o.chart) fail('--chart needs --vit (the breakdown is by ViT module)');
    if (o.trace) fail('--trace needs --vit');
    return;
  }
  if (!o.vit) fail('--vit <preset | manifest.json> is required (or --scalesim-config with --topology)');
  if (o.active !== undefined && o.effort !== undefined) fail('--active and --effort are exclusive');
  if (o.pair !== undefined && (o.active !== undefined || o.effort !== undefined))
    fail('--pair takes the efforts itself; drop --active/--effort');
  if ((o.pair === undefined) !== (o.fl === undefined)) fail('--pair <low>,<high> and --fl <F_L> go together');
  if (o.trace && o.pair !== undefined) fail('--trace is for one effort; drop --pair');
}

function parsePair(text: string): [number, number] {
  const parts = text.split(',').map((s) => Number(s.trim()));
  if (parts.length !== 2 || parts.some((n) => !Number.isInteger(n) || n < 0))
    throw new ConfigError(`--pair: expected "<low>,<high>" efforts, got ${JSON.stringify(text)}`);
  return parts as [number, number];
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((s, v) => s + v, 0);
const delayBar = (label: string, ms: SimResult['breakdownMs']): ChartBar => ({ label, parts: { ...ms }, note: `${sum(ms).toFixed(2)} ms` });
const energyBar = (label: string, j: SimResult['energy']['byComponent']): ChartBar => ({
  label,
  parts: { ...j },
  note: `${sum(j).toFixed(3)} J`,
});

const writeBreakdown = (path: string, delay: ChartBar[], energy: ChartBar[]): Promise<string> =>
  writeChart(path, breakdownSpec(delay, energy));

function runScaleSim(o: SimOptions): SimOutput {
  const hw = overrideAccelerator(readScaleSimConfig(o.scalesimConfig!), o);
  const ops = readTopology(o.topology!);
  const result = simulateOps(ops, hw, { model: topologyName(o.topology!), active: [] });
  const report = computeReport(result, hw);
  const reported = scaleSimLayers(result, hw);
  const json = {
    run_name: hw.name,
    topology: result.model,
    dataflow: hw.dataflow,
    array: hw.array,
    // SCALE-Sim's convention (last cycle index) so the numbers diff against its reports
    total_cycles: reported.reduce((s, r) => s + r.totalCycles, 0),
    stall_cycles: result.stallCycles,
    cycle_count: result.computeCycles + result.stallCycles,
    delay_ms: result.delayMs,
    clock_mhz: hw.clock_mhz,
    layers: result.layers.map((l, i) => ({
      name: l.name,
      total_cycles: reported[i]!.totalCycles,
      stall_cycles: l.stallCycles,
      cycle_count: l.totalCycles,
      overall_util: reported[i]!.overallUtil,
      mapping_efficiency: reported[i]!.mappingEfficiency,
      compute_util: reported[i]!.computeUtil,
      m: l.gemm?.m,
      n: l.gemm?.n,
      k: l.gemm?.k,
      folds: l.compute?.folds,
      dram_bytes: l.traffic?.dramBytes,
    })),
  };
  const summary =
    `${hw.name}: ${hw.array.rows}x${hw.array.cols} ${hw.dataflow.toUpperCase()}, ${json.cycle_count} cycles ` +
    `(compute ${result.computeCycles}, stall ${result.stallCycles}; SCALE-Sim prints ${json.total_cycles}; DRAM ${hw.dram_bandwidth_gbps === 'ideal' ? 'ideal' : `${hw.dram_bandwidth_gbps} GB/s`})`;
  const text = o.json
    ? JSON.stringify(json, null, 2) + '\n'
    : o.csv
      ? report
      : `${summary}\n${layersTable(result)}\n\nCOMPUTE_REPORT.csv\n${report}`;
  return { text, json, files: [] };
}

async function runPair(o: SimOptions, source: VitSource, hw: Device): Promise<SimOutput> {
  const [lowEffort, highEffort] = parsePair(o.pair!);
  if (lowEffort >= highEffort) throw new ConfigError(`--pair: the low effort (${lowEffort}) must be below the high effort (${highEffort})`);
  const fl = checkFraction(o.fl!);
  const low = simulateVit(source.vit, hw, resolveMask(source, { effort: lowEffort }), { entropy: true });
  const high = simulateVit(source.vit, hw, resolveMask(source, { effort: highEffort }));
  const pair = pairResult(low, high, fl);
  const json = pairJson(pair);
  const files: string[] = [];
  if (o.chart) {
    const [lowLabel, highLabel, pairLabel] = [`low (effort ${low.effort})`, `high (effort ${high.effort})`, `pair F_L=${fl}`];
    const delay = [delayBar(lowLabel, low.breakdownMs), delayBar(highLabel, high.breakdownMs), delayBar(pairLabel, pair.breakdownMs)];
    const energy = [
      energyBar(lowLabel, low.energy.byComponent),
      energyBar(highLabel, high.energy.byComponent),
      energyBar(pairLabel, pair.energyByComponent),
    ];
    files.push(await writeBreakdown(o.chart, delay, energy));
  }
  const csvRows = () =>
    summaryCsv([
      { label: `low-${low.effort}`, ...low },
      { label: `high-${high.effort}`, ...high },
      { label: `pair-${low.effort}-${high.effort}@${fl}`, ...pair },
    ]);
  const text = o.json ? JSON.stringify(json, null, 2) + '\n' : o.csv ? csvRows() : pairTable(pair) + '\n';
  return { text, json, files };
}

async function runEffort(o: SimOptions, source: VitSource, hw: Device): Promise<SimOutput> {
  const result = simulateVit(source.vit, hw, resolveMask(source, { active: o.active, effort: o.effort }), { entropy: o.entropy });
  const json = resultJson(result);
  const files: string[] = [];
  if (o.trace && !isCpuDevice(hw)) {
    writeFileSync(o.trace, foldTrace(result, hw));
    files.push(o.trace);
  }
  if (o.chart) {
    const label = `${result.model} effort ${result.effort}`;
    files.push(await writeBreakdown(o.chart, [delayBar(label, result.breakdownMs)], [energyBar(label, result.energy.byComponent)]));
  }
  const text = o.json ? JSON.stringify(json, null, 2) + '\n' : o.csv ? layersCsv(result) : resultTable(result, o.layers) + '\n';
  return { text, json, files };
}

export async function runSim(o: SimOptions): Promise<SimOutput> {
  checkExclusive(o);
  if (o.scalesimConfig) return runScaleSim(o);
  const source = resolveVit(o.vit!);
  const hw = applyOverrides(loadHardware(o.hw ?? 'zcu102'), o);
  return o.pair !== undefined ? runPair(o, source, hw) : runEffort(o, source, hw);
}
