/**
 * SIGHUP: the daemon takes a new config file, already validated. Sources added, removed or
 * changed are started and stopped; a new deployment is loaded first (if that fails, nothing
 * has changed) and takes over between batches. Parts that need a restart (broker, outbox,
 * HTTP, ...) are named in a warning and keep running as they are.
 */
import type { Logger } from 'pino';
import type { Active, Cascades } from './cascades.js';
import type { DaemonConfig, LoadedDaemonConfig, SourceConfig } from './config.js';
import type { LiveControl } from './control/live.js';
import { effectiveSettings } from './control/settings.js';
import { discoveryRemovals, type MqttPublisher } from './publish/index.js';

export interface ReloadContext {
  device: string;
  cascades: Cascades;
  control: LiveControl;
  publisher: MqttPublisher;
  log: Logger;
  /** The config in force. */
  loaded(): LoadedDaemonConfig;
  /** Puts `loaded` in force (its sources and deploy; the rest waits for a restart). */
  replace(loaded: LoadedDaemonConfig): void;
  /** The running sources' configs by name. */
  running(): ReadonlyMap<string, SourceConfig>;
  startSource(config: SourceConfig): Promise<void>;
  stopSource(name: string): Promise<void>;
  sourceLabels(): string[];
}

/** The config keys a reload cannot apply to a running daemon. */
const RESTART_KEYS = ['device_id', 'mqtt', 'outbox', 'control', 'runtime', 'telemetry', 'http'] as const satisfies (keyof DaemonConfig)[];

/** Applies `next` after the live changes queued before it. */
export function reloadConfig(context: ReloadContext, next: LoadedDaemonConfig): Promise<void> {
  const { cascades, control, publisher, log } = context;
  return cascades.serially(async () => {
    const before = context.loaded().config;
    const after = next.config;
    // Load the new deployment first: if it fails, nothing has changed yet.
    let deployment: Active | undefined;
    if (after.deploy !== before.deploy) {
      if (control.overrides.deploy)
        log.warn(
          'the config file names a new deploy, but a deployment set over MQTT stays in force (send {"reset": true} to return to the file)',
        );
      else deployment = await cascades.open(effectiveSettings(after.deploy, control.overrides));
    }
    const restart = RESTART_KEYS.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]));
    if (restart.length) log.warn({ keys: restart }, `reload: ${restart.join(', ')} changed; those take effect at the next restart`);
    const wanted = new Map(after.sources.map((s) => [s.name, s]));
    const removed: string[] = [];
    for (const [name, config] of [...context.running()]) {
      const replacement = wanted.get(name);
      if (replacement && JSON.stringify(replacement) === JSON.stringify(config)) continue;
      await context.stopSource(name);
      if (!replacement) removed.push(name);
    }
    context.replace({ path: next.path, config: { ...before, deploy: after.deploy, sources: after.sources } });
    if (deployment) cascades.activate(deployment);
    const running = context.running();
    for (const source of after.sources) {
      if (running.has(source.name)) continue;
      try {
        await context.startSource(source);
      } catch (err) {
        log.error({ err, source: source.name }, `reload: source '${source.name}' could not start; it stays off until the next reload`);
      }
    }
    publisher.publishDiscovery(discoveryRemovals({ prefix: before.mqtt.discovery.prefix, device: context.device }, removed));
    publisher.publishNow(control.configMessage());
    log.info({ path: next.path, sources: context.sourceLabels(), settings: control.settingsSummary() }, 'config reloaded');
  });
}
