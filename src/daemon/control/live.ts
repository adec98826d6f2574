/**
 * Live control in the running daemon: a `set` command is validated like a deploy.json, the
 * cascade it describes is opened, the change is saved (so it survives a restart), takes over
 * between batches, and is acknowledged on `set/result`; the settings are then re-published,
 * retained, on `config`. A command that fails any step changes nothing.
 */
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { PivotError } from '../../errors.js';
import type { Cascades } from '../cascades.js';
import type { LoadedDaemonConfig } from '../config.js';
import { topics, type MqttPublisher, type OutboxMessage } from '../publish/index.js';
import { applySetCommand, commandId, parseSetCommand } from './commands.js';
import { configPayload, type ConfigPayload, type SetReply } from './payloads.js';
import { effectiveSettings, loadOverrides, saveOverrides, type ControlOverrides, type Settings } from './settings.js';

export interface LiveControlContext {
  device: string;
  cascades: Cascades;
  publisher: MqttPublisher;
  log: Logger;
  /** The config in force (a reload replaces it). */
  loaded(): LoadedDaemonConfig;
  sourceNames(): string[];
}

export class LiveControl {
  #overrides: ControlOverrides = {};

  constructor(private readonly context: LiveControlContext) {}

  /** The changes made over MQTT that are in force. */
  get overrides(): ControlOverrides {
    return this.#overrides;
  }

  /** The config file's deployment with the saved overrides; overrides that no longer validate are reported and dropped. */
  async startupSettings(): Promise<Settings> {
    const { config } = this.context.loaded();
    if (!config.control.enabled) return effectiveSettings(config.deploy, {});
    try {
      const overrides = await loadOverrides(config.control.file);
      const settings = effectiveSettings(config.deploy, overrides);
      this.#overrides = overrides;
      if (Object.keys(overrides).length)
        this.context.log.info(
          { file: config.control.file, overrides: Object.keys(overrides) },
          'settings changed over MQTT earlier are in force',
        );
      return settings;
    } catch (err) {
      this.context.log.warn(
        { file: config.control.file, reason: (err as Error).message },
        'ignoring the saved control settings: they no longer validate',
      );
      return effectiveSettings(config.deploy, {});
    }
  }

  /**
   * Applies a `set` command (JSON text) between batches: validated like a deploy.json, saved so it
   * survives a restart, acknowledged on `set/result`, and the settings re-published on `config`.
   */
  set(payload: string): Promise<SetReply> {
    const { cascades, publisher, log } = this.context;
    return cascades.serially(async () => {
      let reply: SetReply;
      const id = commandId(payload);
      const loaded = this.context.loaded();
      try {
        const command = parseSetCommand(payload);
        const overrides = applySetCommand(command, this.#overrides, dirname(loaded.path));
        const next = await cascades.open(effectiveSettings(loaded.config.deploy, overrides));
        try {
          await saveOverrides(loaded.config.control.file, overrides);
        } catch (err) {
          await cascades.dispose(next);
          throw new PivotError(`cannot save the change to ${loaded.config.control.file}: ${(err as Error).message}`, { cause: err });
        }
        this.#overrides = overrides;
        cascades.activate(next);
        const { id: _, ...applied } = command;
        reply = { ok: true, ...(id !== undefined ? { id } : {}), applied, config: this.configPayload() };
        log.info({ applied, settings: this.settingsSummary() }, 'settings changed over MQTT');
        publisher.publishNow(this.configMessage());
      } catch (err) {
        const error = err instanceof PivotError ? err.message : `${(err as Error).message}`;
        reply = { ok: false, ...(id !== undefined ? { id } : {}), error };
        log.warn({ error }, 'set command rejected; nothing changed');
      }
      publisher.publishNow({ topic: topics.setResult(publisher.base), payload: JSON.stringify(reply), qos: 1, retain: false });
      return reply;
    });
  }

  /** The settings the next batch runs with, as published on `config`. */
  configPayload(): ConfigPayload {
    const { device, cascades } = this.context;
    const { config } = this.context.loaded();
    return configPayload(device, cascades.active!.settings, this.#overrides, config.control.enabled, this.context.sourceNames());
  }

  /** The retained `config` message. */
  configMessage(): OutboxMessage {
    return { topic: topics.config(this.context.publisher.base), payload: JSON.stringify(this.configPayload()), qos: 1, retain: true };
  }

  /** The settings in force, for logs. */
  settingsSummary(): Record<string, unknown> {
    const { deployment, policy } = this.context.cascades.active!.settings;
    const { low, high, threshold } = deployment.config;
    return { deploy: deployment.path, low, high, threshold, policy };
  }
}
