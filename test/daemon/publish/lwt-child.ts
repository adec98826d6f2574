/**
 * Child process for the LWT test: runs an MqttPublisher until it is killed.
 * argv: <broker url> <device id> <outbox dir>. Prints "connected" once the broker accepted it.
 */
import pino from 'pino';
import { MqttSchema } from '../../../src/daemon/config.js';
import { MqttPublisher, Outbox } from '../../../src/daemon/publish/index.js';

const [url, device, dir] = process.argv.slice(2) as [string, string, string];
const logger = pino({ level: 'warn' }, pino.destination(2));
const publisher = new MqttPublisher({
  mqtt: MqttSchema.parse({ url, reconnect_s: 0.2, keepalive_s: 60 }),
  device,
  outbox: new Outbox({ dir, max_messages: 100 }, logger),
  logger,
});
await publisher.start();
const timer = setInterval(() => {
  if (!publisher.connected) return;
  clearInterval(timer);
  process.stdout.write('connected\n');
}, 20);
setInterval(() => undefined, 60_000); // stay alive until killed
