export { HealthMonitor } from './health.js';
export type { HealthOptions, HealthReport } from './health.js';
export { HttpServer } from './server.js';
export type { HttpServerOptions } from './server.js';
