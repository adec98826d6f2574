/** The daemon config file: defaults, path resolution, secrets from files, and readable errors. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { loadDaemonConfig, validateDaemonConfig } from '../../src/daemon/index.js';

const dir = mkdtempSync(join(tmpdir(), 'pivot-daemon-config-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
const inbox = [{ name: 'inbox', type: 'directory', path: 'in' }];

describe('daemon config', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('fills the defaults: loopback HTTP, local broker, QoS 1, discovery on', () => {
    const { config } = validateDaemonConfig({ sources: inbox }, join(dir, 'd.yaml'));
    assert.equal(config.http.host, '127.0.0.1');
    assert.equal(config.mqtt.url, 'mqtt://127.0.0.1:1883');
    assert.equal(config.mqtt.qos, 1);
    assert.equal(config.mqtt.discovery.enabled, true);
    assert.match(config.device_id, /^[a-z0-9_-]+$/);
  });

  it('resolves relative paths against the config file', () => {
    const { config } = validateDaemonConfig({ sources: inbox, outbox: { dir: 'box' }, deploy: 'deploy.json' }, join(dir, 'd.yaml'));
    const source = config.sources[0]!;
    assert.equal(source.type === 'directory' && source.path, join(dir, 'in'));
    assert.equal(source.type === 'directory' && source.done_dir, join(dir, 'in', '.done'));
    assert.equal(config.outbox.dir, join(dir, 'box'));
    assert.equal(config.deploy, join(dir, 'deploy.json'));
  });

  it('mqtt.url: embedded (own broker, 127.0.0.1:1883 by default); control on, its file beside the outbox', () => {
    const { config } = validateDaemonConfig(
      { sources: inbox, mqtt: { url: 'embedded' }, outbox: { dir: 'state/box' } },
      join(dir, 'd.yaml'),
    );
    assert.equal(config.mqtt.url, 'embedded');
    assert.deepEqual(config.mqtt.embedded, { host: '127.0.0.1', port: 1883 });
    assert.equal(config.control.enabled, true);
    assert.equal(config.control.file, join(dir, 'state', 'control.json'));
    assert.throws(() => validateDaemonConfig({ sources: inbox, mqtt: { url: 'embeded' } }, join(dir, 'd.yaml')), /mqtt\.url/);
    assert.throws(
      () => validateDaemonConfig({ sources: inbox, control: { enable: false } }, join(dir, 'd.yaml')),
      /control: Unrecognized key/,
    );
  });

  it('reads the MQTT password from password_file', () => {
    file('pw', 'hunter2\n');
    const { config } = validateDaemonConfig({ sources: inbox, mqtt: { username: 'u', password_file: 'pw' } }, join(dir, 'd.yaml'));
    assert.equal(config.mqtt.password, 'hunter2');
    assert.throws(
      () => validateDaemonConfig({ sources: inbox, mqtt: { password_file: 'missing' } }, join(dir, 'd.yaml')),
      (err: Error) => err instanceof ConfigError && /mqtt\.password_file: .*missing: no such file/.test(err.message),
    );
  });

  it('names the field of each mistake', () => {
    const bad = (value: unknown, pattern: RegExp) =>
      assert.throws(
        () => validateDaemonConfig(value, 'd.yaml'),
        (err: Error) => err instanceof ConfigError && pattern.test(err.message),
      );
    bad({ sources: [] }, /d\.yaml: sources: /);
    bad({ sources: [{ name: 'cam', type: 'webcam' }] }, /sources\.0\.type/);
    bad({ sources: [...inbox, ...inbox] }, /sources\.1\.name: duplicate source name 'inbox'/);
    bad({ sources: [{ name: 'a/b', type: 'directory', path: 'x' }] }, /sources\.0\.name/);
    bad({ sources: inbox, http: { port: 70000 } }, /http\.port/);
    bad({ sources: inbox, extra: 1 }, /extra/);
  });

  it('refuses a broker URL it cannot use without echoing its password', () => {
    assert.throws(
      () => validateDaemonConfig({ sources: inbox, mqtt: { url: 'ftp://me:s3cret@host' } }, 'd.yaml'),
      (err: Error) => err instanceof ConfigError && /mqtt\.url: not a broker URL/.test(err.message) && !err.message.includes('s3cret'),
    );
    assert.throws(() => validateDaemonConfig({ sources: inbox, mqtt: { url: ['mqtt://a:1883', 'nope'] } }, 'd.yaml'), /mqtt\.url\.1/);
    const cluster = validateDaemonConfig({ sources: inbox, mqtt: { url: ['mqtt://a:1883', 'mqtts://b:8883'] } }, 'd.yaml');
    assert.deepEqual(cluster.config.mqtt.url, ['mqtt://a:1883', 'mqtts://b:8883']);
  });

  it('reads YAML and JSON files, and says which file is broken', () => {
    assert.equal(loadDaemonConfig(file('a.yaml', 'sources:\n  - {name: inbox, type: directory, path: in}\n')).config.sources.length, 1);
    assert.equal(loadDaemonConfig(file('a.json', JSON.stringify({ sources: inbox }))).config.sources.length, 1);
    assert.throws(
      () => loadDaemonConfig(file('b.yaml', 'sources: [\n')),
      (err: Error) => err instanceof ConfigError && /b\.yaml: not valid YAML/.test(err.message),
    );
    assert.throws(() => loadDaemonConfig(join(dir, 'none.yaml')), /none\.yaml: no such file/);
  });
});
