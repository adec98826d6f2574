/** Live control over MQTT: the `set` command, the overrides it leaves, and where they are kept. */
export { applySetCommand, commandId, parseSetCommand, SetCommandSchema, type SetCommand } from './commands.js';
export {
  ControlOverridesSchema,
  effectiveSettings,
  loadOverrides,
  saveOverrides,
  SET_OVER_MQTT,
  type ControlOverrides,
  type Settings,
} from './settings.js';
export { configPayload, type ConfigPayload, type SetReply } from './payloads.js';
