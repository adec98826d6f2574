/** The daemon (`pivot run`): config, composition root and the parts it wires together. */
export { DaemonConfigSchema, defaultDeviceId, loadDaemonConfig, validateDaemonConfig } from './config.js';
export type { DaemonConfig, LoadedDaemonConfig, SourceConfig } from './config.js';
export { Daemon } from './controller.js';
export type { Component, Frame, FrameOutcome, FrameSource, SourceStats } from './types.js';
