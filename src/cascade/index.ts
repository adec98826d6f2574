export { normalizedEntropy, predict, predictBatch } from './entropy.js';
export type { Prediction } from './entropy.js';
export { POLICIES, escalations, firstEffort, shouldEscalate } from './policy.js';
export type { EffortPair, Policy } from './policy.js';
export { Cascade } from './runner.js';
export type {
  BatchReport,
  CascadeConfig,
  CascadeOptions,
  CascadeResult,
  Classification,
  Failure,
  NamedInput,
  RunOptions,
  StageLatency,
} from './runner.js';
export { classificationFields } from './json.js';
export type { ClassificationFields } from './json.js';
export { evaluate } from './evaluate.js';
export type { EvalSummary, EvaluateOptions, LatencyStats } from './evaluate.js';
export { chooseDeployment, openCascade } from './open.js';
export type { CascadeChoice, OpenedCascade } from './open.js';
export { routingScore } from './score.js';
export type { RoutingScore } from './score.js';
