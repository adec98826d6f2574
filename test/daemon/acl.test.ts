/**
 * The Mosquitto ACL that docs/daemon.md recommends, loaded into a real Mosquitto: Home Assistant
 * may publish to `set`, a read-only user may not (the broker drops it), and both read results.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectAsync } from 'mqtt';
import { startMosquitto, subscribe } from '../helpers/mosquitto.js';
import { ROOT } from '../runtime/helpers.js';

const DOC = readFileSync(join(ROOT, 'docs', 'daemon.md'), 'utf8');
const ACL = /and `\/etc\/mosquitto\/pivot-edge\.acl`:\n\n```\n([\s\S]*?)```/.exec(DOC)?.[1];

test('the documented ACL: only the daemon and Home Assistant can reach set; a viewer reads results only', async (t) => {
  assert.ok(ACL, 'the ACL block in docs/daemon.md');
  const users = { pivot: 'p-daemon', homeassistant: 'p-ha', viewer: 'p-viewer' };
  const broker = await startMosquitto({ users, acl: ACL });
  t.after(() => broker.stop());
  const as = (user: keyof typeof users) => ({ username: user, password: users[user] });
  const daemon = await subscribe(broker.url, 'pivot-edge/+/set', as('pivot'));
  const viewer = await subscribe(broker.url, 'pivot-edge/#', as('viewer'));
  t.after(() => Promise.all([daemon.close(), viewer.close()]));
  for (const user of ['viewer', 'homeassistant'] as const) {
    const client = await connectAsync(broker.url, as(user));
    await client.publishAsync('pivot-edge/kitchen-pi/set', JSON.stringify({ from: user }), { qos: 1 });
    await client.endAsync();
  }
  const sender = await connectAsync(broker.url, as('pivot'));
  await sender.publishAsync('pivot-edge/kitchen-pi/inbox/result', '{"label":"Bag"}', { qos: 1 });
  await sender.endAsync();
  await viewer.waitFor((m) => m.some((x) => x.topic.endsWith('/inbox/result')), 'the result for the viewer');
  await daemon.waitFor((m) => m.length >= 1, 'the command from Home Assistant');
  // The viewer's command was published first: had the broker taken it, it would be here by now.
  assert.deepEqual(
    daemon.messages.map((m) => JSON.parse(m.payload) as unknown),
    [{ from: 'homeassistant' }],
  );
});
