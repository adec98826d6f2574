export * from './manifest.js';
export { EffortSession, ModelRuntime } from './session.js';
export type { SessionOptions } from './session.js';
