/** `pivot bench`: measured device latency of a model family's efforts vs PIVOT-Sim (docs/bench.md). */
export { compareEfforts, correlate } from './compare.js';
export type { Correlation, EffortComparison, EffortsComparison } from './compare.js';
export { comparePair } from './pair.js';
export type { PairChoice, PairComparison, PairSide } from './pair.js';
export { BENCH_DEFAULTS, BENCH_NOTE, defaultIterations, runBench } from './run.js';
export type { BenchOptions, BenchReport } from './run.js';
export { benchCsv, benchJson, benchTable, CSV_COLUMNS } from './report.js';
export { crossModel, fitDevice, leaveOneEffortOut, leaveOneModelOut } from './fit.js';
export type { DeviceFit, FitPoint, FittedPoint, Transfer } from './fit.js';
export { FIT_DEFAULTS, fitTable, parseBatches, runFit } from './profile.js';
export type { FitOptions, FitReport } from './profile.js';
export { benchChartSpec } from './chart.js';
