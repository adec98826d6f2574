/** Phase 2 (paper Section 3.3, Fig. 2c): the (low, high) effort pair and threshold that meet a delay target. */
export { drawBatch, predictEffort, RUN_BATCH } from './batch.js';
export type { BatchOptions, SearchBatch } from './batch.js';
export { COST_SOURCES, deviceDelays, simDelays } from './cost.js';
export type { CostSource, EffortDelay, EffortDelays } from './cost.js';
export { deployConfig, writeDeploy } from './deploy.js';
export { DelayTargetError } from './errors.js';
export { pairOrder } from './order.js';
export type { EffortPair } from './order.js';
export { searchReport, targetText, trialRow } from './report.js';
export type { TrialRow } from './report.js';
export { runSearch } from './run.js';
export type { SearchOptions, SearchResult } from './run.js';
export { meetsTarget, PICKS, resolveTarget, selectPair } from './select.js';
export type { DelayTarget, PairTrial, Pick, Selection } from './select.js';
export { operatingPoint, pointAt, sweep, thresholdGrid } from './sweep.js';
export type { EffortPredictions, OperatingPoint } from './sweep.js';
