import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { SnapshotSourceSchema, type SnapshotSourceConfig } from '../../../src/daemon/config.js';
import { SnapshotSource } from '../../../src/daemon/sources/index.js';
import { capturingLogger, silentLogger } from '../../helpers/log.js';
import { waitFor } from '../../helpers/wait.js';
import { within } from './helpers.js';

type Mode = 'ok' | 'error500' | 'hang' | 'html';

const USER = 'viewer';
const PASSWORD = 'p@ss:word';

let server: Server;
let base: string;
let png: Buffer;
let mode: Mode = 'ok';
let requests = 0;

/** An IP camera's snapshot endpoint behind Basic auth; `mode` says how it misbehaves. */
function handle(req: IncomingMessage, res: ServerResponse): void {
  requests++;
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  if (req.headers.authorization !== expected) {
    res.writeHead(401, { 'www-authenticate': 'Basic realm="camera"' }).end();
    return;
  }
  switch (mode) {
    case 'ok':
      res.writeHead(200, { 'content-type': 'image/png' }).end(png);
      return;
    case 'error500':
      res.writeHead(500).end('sensor failure');
      return;
    case 'html':
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>');
      return;
    case 'hang':
      return; // never answers
  }
}

function snapshot(extra: Partial<SnapshotSourceConfig>, logger = silentLogger()): SnapshotSource {
  return new SnapshotSource(SnapshotSourceSchema.parse({ name: 'porch', type: 'snapshot', url: `${base}/snap.png`, ...extra }), logger);
}

const authUrl = () => base.replace('http://', `http://${USER}:${encodeURIComponent(PASSWORD)}@`) + '/snap.png';

describe('snapshot source (local HTTP server)', () => {
  before(async () => {
    png = await sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 10, g: 120, b: 240 } } })
      .png()
      .toBuffer();
    server = createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fetches the image with Basic credentials taken from the URL', async () => {
    mode = 'ok';
    const src = snapshot({ url: authUrl(), interval_s: 0.1 });
    await src.start();
    try {
      const [first] = await src.take(4, within(15_000));
      assert.ok(first);
      assert.deepEqual(first.image, png);
      assert.match(first.id, /^porch#\d+$/);
      const [second] = await src.take(4, within(15_000));
      assert.ok(second && Number(second.id.split('#')[1]) > Number(first.id.split('#')[1]));
      assert.equal(src.stats().errors, 0);
    } finally {
      await src.stop();
    }
  });

  it('counts a 401 without credentials as an error', async () => {
    mode = 'ok';
    const src = snapshot({ interval_s: 0.1 });
    await src.start();
    try {
      await waitFor(() => src.stats().errors >= 1, 'a failed request');
      assert.match(src.stats().lastError!, /HTTP 401/);
    } finally {
      await src.stop();
    }
  });

  it('counts a 500, a non-image and a timeout as errors, then recovers; credentials stay out of logs', async () => {
    const { logger, text } = capturingLogger();
    const src = snapshot({ url: authUrl(), interval_s: 0.1, timeout_s: 0.3 }, logger);
    mode = 'error500';
    await src.start();
    try {
      await waitFor(() => src.stats().errors >= 2, 'two HTTP 500s');
      assert.match(src.stats().lastError!, /HTTP 500/);
      assert.ok(src.stats().lastError!.includes(`${base}/snap.png`), src.stats().lastError);

      mode = 'html';
      await waitFor(() => /not an image \(content-type text\/html/.test(src.stats().lastError ?? ''), 'a non-image answer');

      mode = 'hang';
      await waitFor(() => /no response within 0.3 s/.test(src.stats().lastError ?? ''), 'a timeout');

      mode = 'ok';
      const [frame] = await src.take(1, within(15_000));
      assert.ok(frame);
      assert.deepEqual(frame.image, png);
      assert.equal(src.stats().produced, 1);
    } finally {
      await src.stop();
    }
    const log = text.join('');
    assert.match(log, /recovered after/);
    assert.ok(!log.includes('p@ss') && !log.includes(encodeURIComponent(PASSWORD)) && !log.includes(USER), log);
  });

  it('keeps only the newest image when nobody takes, and stops fetching on stop()', async () => {
    mode = 'ok';
    const src = snapshot({ url: authUrl(), interval_s: 0.05 });
    await src.start();
    await waitFor(() => src.stats().dropped >= 2, 'replaced snapshots');
    const { dropped } = src.stats();
    const [frame] = await src.take(1, within(15_000));
    // Every image fetched so far was replaced but the one held: the one handed out is at least the newest seen.
    assert.ok(frame && Number(frame.id.split('#')[1]) >= dropped + 1, `${frame?.id} after ${dropped} dropped`);
    await src.stop();
    const after = requests;
    assert.deepEqual(await src.take(1, within(15_000)), []);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(requests, after, 'no request after stop()');
  });
});
