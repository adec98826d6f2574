/**
 * Home Assistant MQTT discovery: the retained config messages that make each source's label
 * and probability, and the device's health, appear as sensors of one device in Home Assistant,
 * and (with live control on) the threshold as a number and the routing policy as a select.
 * Field names follow https://www.home-assistant.io/integrations/sensor.mqtt/, number.mqtt/
 * and select.mqtt/.
 */
import { POLICIES } from '../../cascade/index.js';
import type { OutboxMessage } from './outbox.js';
import { topics } from './topics.js';

export interface DiscoveryInfo {
  /** Device id (config device_id): one Home Assistant device per daemon. */
  device: string;
  /** The device's base topic, `<topic_prefix>/<device>`. */
  base: string;
  /** Source names (config sources[].name). */
  sources: readonly string[];
  /** Home Assistant's discovery prefix (config mqtt.discovery.prefix). */
  prefix: string;
  /** Shown as the device's model, e.g. the deployed model's name. */
  model: string;
  /** pivot-edge's version. */
  swVersion: string;
  /** Live control on: announce the threshold and policy controls (commands to `<base>/set`, state from `<base>/config`). */
  control?: boolean;
}

type Component = 'sensor' | 'number' | 'select';

/** One entity's discovery config, before the fields every entity shares. */
interface SensorSpec {
  component?: Component;
  objectId: string;
  name: string;
  stateTopic: string;
  valueTemplate: string;
  extra?: Record<string, unknown>;
}

/** Whole percent, or None (Home Assistant's "unknown") before the first frame. */
const FRACTION_LOW_PERCENT = '{{ (value_json.fraction_low * 100) | round(1) if value_json.fraction_low is not none else None }}';

function sensorSpecs(info: DiscoveryInfo): SensorSpec[] {
  const telemetry = topics.telemetry(info.base);
  const measurement = { state_class: 'measurement' };
  const diagnostic = { ...measurement, entity_category: 'diagnostic' };
  const perSource = info.sources.flatMap((source): SensorSpec[] => {
    const result = topics.result(info.base, source);
    return [
      {
        objectId: `${source}_label`,
        name: `${source} label`,
        stateTopic: result,
        valueTemplate: '{{ value_json.label }}',
        // The whole result (effort, entropy, latency, ...) as attributes of the label.
        extra: { json_attributes_topic: result, icon: 'mdi:tag' },
      },
      {
        objectId: `${source}_probability`,
        name: `${source} probability`,
        stateTopic: result,
        valueTemplate: '{{ value_json.probability }}',
        extra: { ...measurement, suggested_display_precision: 3 },
      },
    ];
  });
  return [
    ...perSource,
    ...(info.control ? controlSpecs(info) : []),
    {
      objectId: 'cpu_load',
      name: 'CPU load',
      stateTopic: telemetry,
      valueTemplate: '{{ value_json.cpu_load_percent }}',
      extra: { ...diagnostic, unit_of_measurement: '%', suggested_display_precision: 0 },
    },
    {
      objectId: 'cpu_temperature',
      name: 'CPU temperature',
      stateTopic: telemetry,
      // null on boards without a sensor renders as None, which Home Assistant shows as unknown.
      valueTemplate: '{{ value_json.cpu_temp_c }}',
      extra: { ...diagnostic, device_class: 'temperature', unit_of_measurement: '°C' },
    },
    {
      objectId: 'fraction_low',
      name: 'Answered by low effort',
      stateTopic: telemetry,
      valueTemplate: FRACTION_LOW_PERCENT,
      extra: { ...measurement, unit_of_measurement: '%' },
    },
    {
      objectId: 'outbox_depth',
      name: 'Outbox depth',
      stateTopic: telemetry,
      valueTemplate: '{{ value_json.outbox_depth }}',
      extra: { ...diagnostic, unit_of_measurement: 'messages' },
    },
  ];
}

/** The threshold and the policy as dashboard controls: commands go to `set`, the state comes back on `config`. */
function controlSpecs(info: DiscoveryInfo): SensorSpec[] {
  const common = { command_topic: topics.set(info.base), entity_category: 'config' };
  return [
    {
      component: 'number',
      objectId: 'threshold',
      name: 'Entropy threshold',
      stateTopic: topics.config(info.base),
      valueTemplate: '{{ value_json.threshold }}',
      extra: { ...common, command_template: '{"threshold": {{ value }}}', min: 0, max: 1, step: 0.01, mode: 'box', icon: 'mdi:tune' },
    },
    {
      component: 'select',
      objectId: 'policy',
      name: 'Routing policy',
      stateTopic: topics.config(info.base),
      valueTemplate: '{{ value_json.policy }}',
      extra: { ...common, command_template: '{"policy": "{{ value }}"}', options: [...POLICIES], icon: 'mdi:call-split' },
    },
  ];
}

/** The config topic Home Assistant reads for one entity. */
export function discoveryTopic(prefix: string, device: string, objectId: string, component: Component = 'sensor'): string {
  return `${prefix}/${component}/${device}/${objectId}/config`;
}

/** Empty retained configs that make Home Assistant remove the entities of sources that are gone. */
export function discoveryRemovals(info: Pick<DiscoveryInfo, 'prefix' | 'device'>, sources: readonly string[]): OutboxMessage[] {
  return sources.flatMap((source) =>
    ['label', 'probability'].map((what) => ({
      topic: discoveryTopic(info.prefix, info.device, `${source}_${what}`),
      payload: '',
      qos: 1 as const,
      retain: true,
    })),
  );
}

/** Retained discovery config messages for every sensor of the device (QoS 1). */
export function discoveryMessages(info: DiscoveryInfo): OutboxMessage[] {
  const device = {
    identifiers: [`pivot_edge_${info.device}`],
    name: info.device,
    model: info.model,
    manufacturer: 'pivot-edge',
    sw_version: info.swVersion,
  };
  const origin = { name: 'pivot-edge', sw_version: info.swVersion };
  return sensorSpecs(info).map((spec) => ({
    topic: discoveryTopic(info.prefix, info.device, spec.objectId, spec.component),
    payload: JSON.stringify({
      name: spec.name,
      unique_id: `pivot_edge_${info.device}_${spec.objectId}`,
      state_topic: spec.stateTopic,
      value_template: spec.valueTemplate,
      availability_topic: topics.availability(info.base),
      payload_available: 'online',
      payload_not_available: 'offline',
      ...spec.extra,
      device,
      origin,
    }),
    qos: 1,
    retain: true,
  }));
}
