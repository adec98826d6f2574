/** Effort latency measured on this device with onnxruntime-node (one statistic for every caller). */
export { checkCount, measureEfforts } from './measure.js';
export type { EffortTiming, MeasureOptions } from './measure.js';
