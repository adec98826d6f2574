/**
 * Home Assistant MQTT discovery: the retained config messages that make each source's label
 * and probability, and the device's health, appear as sensors of one device in Home Assistant.
 * Field names follow https://www.home-assistant.io/integrations/sensor.mqtt/.
 */
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
}

/** One sensor's discovery config, before the fields every sensor shares. */
interface SensorSpec {
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

/** The config topic Home Assistant reads for one sensor. */
export function discoveryTopic(prefix: string, device: string, objectId: string): string {
  return `${prefix}/sensor/${device}/${objectId}/config`;
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
    topic: discoveryTopic(info.prefix, info.device, spec.objectId),
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
