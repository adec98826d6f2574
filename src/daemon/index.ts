/** The daemon (`pivot run`): config, composition root and the parts it wires together. */
export { DaemonConfigSchema, EMBEDDED, defaultDeviceId, loadDaemonConfig, validateDaemonConfig } from './config.js';
export type { DaemonConfig, LoadedDaemonConfig, SourceConfig } from './config.js';
export { Daemon, type DaemonOptions } from './controller.js';
export { BUILT_IN, builtInConfig, defaultStateDir, seedInbox, type BuiltInOptions } from './defaults.js';
export type { Component, Frame, FrameOutcome, FrameSource, SourceStats } from './types.js';
