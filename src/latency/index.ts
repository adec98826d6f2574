/** Effort latency measured on this device with onnxruntime-node (one statistic for every caller). */
export { CLOCKS, checkCount, measureCases, measureEfforts, roundOrders, turnCalls } from './measure.js';
export type { Clock, EffortTiming, MeasureOptions, TimingCase } from './measure.js';
export { driftCorrected } from './drift.js';
