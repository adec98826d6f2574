/** What live control publishes: the current settings (retained `config`) and each command's reply (`set/result`). */
import type { Policy } from '../../cascade/index.js';
import type { ControlOverrides, Settings } from './settings.js';

/** Retained on `<base>/config`, at every connect and after every change. */
export interface ConfigPayload {
  device: string;
  model: string;
  /** The deploy file in use, or `(set over MQTT)`. */
  deploy: string;
  low: number;
  high: number;
  threshold: number;
  policy: Policy;
  /** Which settings differ from the config file because of `set` commands. */
  overridden: (keyof ControlOverrides)[];
  /** Whether `set` is listened to (config `control.enabled`). */
  control: boolean;
  sources: string[];
}

/** On `<base>/set/result`, once per command. */
export type SetReply =
  | { ok: true; id?: string | number; applied: Record<string, unknown>; config: ConfigPayload }
  | { ok: false; id?: string | number; error: string };

export function configPayload(
  device: string,
  settings: Settings,
  overrides: ControlOverrides,
  control: boolean,
  sources: string[],
): ConfigPayload {
  const { deployment, policy } = settings;
  const { low, high, threshold } = deployment.config;
  return {
    device,
    model: deployment.family.manifest.name,
    deploy: deployment.path,
    low,
    high,
    threshold,
    policy,
    overridden: (['deploy', 'threshold', 'policy'] as const).filter((k) => overrides[k] !== undefined),
    control,
    sources,
  };
}
