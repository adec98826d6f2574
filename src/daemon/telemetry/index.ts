export { DeviceReader, readDevice } from './device.js';
export type { DeviceReading, DeviceStats } from './device.js';
export { PipelineMetrics } from './metrics.js';
export type { LiveStats, PipelineCounters, PublisherStats } from './metrics.js';
export { Telemetry, sourcesPayload } from './telemetry.js';
export type { TelemetryOptions } from './telemetry.js';
