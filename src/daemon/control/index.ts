/** Live control over MQTT: the `set` command, the overrides it leaves, and where they are kept. */
export { applySetCommand, commandId, parseSetCommand } from './commands.js';
export { effectiveSettings, loadOverrides, saveOverrides, type ControlOverrides, type Settings } from './settings.js';
export { configPayload, type ConfigPayload, type SetReply } from './payloads.js';
export { LiveControl } from './live.js';
