import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { generate } from 'selfsigned';
import { MqttSchema } from '../../../src/daemon/config.js';
import { MqttPublisher, Outbox } from '../../../src/daemon/publish/index.js';
import { startMosquitto } from '../../helpers/mosquitto.js';
import { capturingLogger } from '../../helpers/log.js';
import { waitFor } from '../../helpers/wait.js';

const DEVICE = 'tls-pi';

/** A CA, a server certificate for 127.0.0.1 and a client certificate it signed, plus an unrelated CA; as PEM files. */
async function certificates(dir: string) {
  const days = (n: number) => new Date(Date.now() + n * 86_400_000);
  const caExtensions = [
    { name: 'basicConstraints' as const, cA: true, critical: true },
    { name: 'keyUsage' as const, keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
  ];
  const common = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256', notBeforeDate: days(-1), notAfterDate: days(2) };
  const ca = await generate([{ name: 'commonName', value: 'pivot test CA' }], {
    ...common,
    extensions: caExtensions,
    clientCertificate: {
      cn: 'pivot-client',
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notBeforeDate: days(-1),
      notAfterDate: days(2),
    },
  });
  const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    ...common,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
      { name: 'extKeyUsage', serverAuth: true },
    ],
  });
  const other = await generate([{ name: 'commonName', value: 'some other CA' }], { ...common, extensions: caExtensions });
  const files = {
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    otherCa: join(dir, 'other-ca.pem'),
  };
  await writeFile(files.ca, ca.cert);
  await writeFile(files.serverCert, server.cert);
  await writeFile(files.serverKey, server.private);
  await writeFile(files.clientCert, ca.clientcert ?? '');
  await writeFile(files.clientKey, ca.clientprivate ?? '');
  await writeFile(files.otherCa, other.cert);
  return files;
}

test('TLS: connects with the CA and a client certificate; a wrong CA is refused with a logged reason', async (t: TestContext) => {
  const dir = await mkdtemp(join(tmpdir(), 'pivot-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const files = await certificates(dir);
  const broker = await startMosquitto({ tls: { ca: files.ca, cert: files.serverCert, key: files.serverKey } });
  t.after(() => broker.stop());
  assert.match(broker.url, /^mqtts:/);

  const start = async (ca: string, name: string) => {
    const { logger, lines } = capturingLogger();
    const publisher = new MqttPublisher({
      mqtt: MqttSchema.parse({ url: broker.url, reconnect_s: 0.2, tls: { ca, cert: files.clientCert, key: files.clientKey } }),
      device: DEVICE,
      outbox: new Outbox({ dir: join(dir, `outbox-${name}`), max_messages: 10 }, logger),
      logger,
    });
    t.after(() => publisher.stop());
    await publisher.start();
    return { publisher, lines };
  };

  const good = await start(files.ca, 'good');
  await waitFor(() => good.publisher.connected, 'a TLS connection');
  await good.publisher.enqueue('result', 'cam', {
    device: DEVICE,
    source: 'cam',
    frame: 'cam#1',
    input: 'cam#1',
    captured_at: new Date().toISOString(),
    label: 'Bag',
    class_index: 8,
    probability: 0.8,
    entropy: 0.2,
    effort: 1,
    escalated: false,
    latency_ms: { preprocess: 1 },
    model: 'm',
    low: 1,
    high: 6,
    threshold: 0.3,
    policy: 'cascade',
  });
  assert.equal(await good.publisher.flush(15_000), true, 'published over TLS');

  const bad = await start(files.otherCa, 'bad');
  await waitFor(
    () => bad.lines.some((l) => l.msg === 'MQTT broker unavailable; queuing to the outbox and retrying'),
    'a logged TLS failure',
  );
  const failure = bad.lines.find((l) => l.msg === 'MQTT broker unavailable; queuing to the outbox and retrying');
  assert.match(String(failure?.reason), /certificate/i);
  assert.equal(bad.publisher.connected, false);
});
