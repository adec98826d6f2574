import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseTopic, discoveryMessages, topics } from '../../../src/daemon/publish/index.js';

const base = baseTopic('pivot-edge', 'kitchen-pi');
const info = { device: 'kitchen-pi', base, sources: ['door', 'yard'], prefix: 'ha', model: 'fmnist-vit', swVersion: '1.2.3' };
type Config = Record<string, unknown> & { device: Record<string, unknown> };
const configs = () => new Map(discoveryMessages(info).map((m) => [m.topic, JSON.parse(m.payload) as Config]));

test('one label and one probability sensor per source, reading the result topic', () => {
  const byTopic = configs();
  for (const source of info.sources) {
    const label = byTopic.get(`ha/sensor/kitchen-pi/${source}_label/config`);
    const probability = byTopic.get(`ha/sensor/kitchen-pi/${source}_probability/config`);
    assert.ok(label && probability, `sensors for ${source}`);
    assert.equal(label.state_topic, topics.result(base, source));
    assert.equal(label.value_template, '{{ value_json.label }}');
    assert.equal(label.json_attributes_topic, topics.result(base, source));
    assert.equal(probability.state_topic, topics.result(base, source));
    assert.equal(probability.value_template, '{{ value_json.probability }}');
  }
});

test('device-level sensors read the telemetry topic', () => {
  const byTopic = configs();
  const telemetry = [...byTopic.values()].filter((c) => c.state_topic === topics.telemetry(base));
  const templates = telemetry.map((c) => String(c.value_template)).join(' ');
  for (const field of ['cpu_load_percent', 'cpu_temp_c', 'fraction_low', 'outbox_depth'])
    assert.ok(templates.includes(`value_json.${field}`), field);
  assert.equal(byTopic.get('ha/sensor/kitchen-pi/cpu_temperature/config')?.device_class, 'temperature');
});

test('every config is retained, shares the availability topic and device block, and has a stable unique id', () => {
  const messages = discoveryMessages(info);
  assert.equal(messages.length, 2 * info.sources.length + 4);
  assert.ok(messages.every((m) => m.retain && m.qos === 1));
  const parsed = messages.map((m) => JSON.parse(m.payload) as Config);
  for (const c of parsed) {
    assert.equal(c.availability_topic, topics.availability(base));
    assert.deepEqual(c.device, {
      identifiers: ['pivot_edge_kitchen-pi'],
      name: 'kitchen-pi',
      model: 'fmnist-vit',
      manufacturer: 'pivot-edge',
      sw_version: '1.2.3',
    });
  }
  const ids = parsed.map((c) => c.unique_id);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual(discoveryMessages(info), messages, 'same input, same configs (ids stable across restarts)');
});

test('with live control: the threshold as a number and the policy as a select, commanding <base>/set and reading <base>/config', () => {
  const byTopic = new Map(discoveryMessages({ ...info, control: true }).map((m) => [m.topic, JSON.parse(m.payload) as Config]));
  const threshold = byTopic.get('ha/number/kitchen-pi/threshold/config');
  const policy = byTopic.get('ha/select/kitchen-pi/policy/config');
  assert.ok(threshold && policy, 'number and select entities');
  for (const entity of [threshold, policy]) {
    assert.equal(entity.command_topic, topics.set(base));
    assert.equal(entity.state_topic, topics.config(base));
    assert.equal(entity.entity_category, 'config');
  }
  assert.deepEqual([threshold.min, threshold.max, threshold.step], [0, 1, 0.01]);
  assert.equal(threshold.value_template, '{{ value_json.threshold }}');
  // What Home Assistant sends for a value of 0.25 must be a valid set command.
  assert.deepEqual(JSON.parse(String(threshold.command_template).replace('{{ value }}', '0.25')), { threshold: 0.25 });
  assert.deepEqual(policy.options, ['cascade', 'low', 'high']);
  assert.deepEqual(JSON.parse(String(policy.command_template).replace('{{ value }}', 'high')), { policy: 'high' });
  assert.ok(![...configs().keys()].some((t) => t.includes('/number/') || t.includes('/select/')), 'no controls without control');
});
