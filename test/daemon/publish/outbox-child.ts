/**
 * A process that writes to an outbox and is killed (SIGKILL) by outbox.test.ts between a
 * write and its fsync. Usage: outbox-child.ts <dir>
 * Prints `durable <seq>` once the first batch is on disk, then `written` when the second
 * batch has been written but not yet fsynced, and waits there to be killed.
 */
import pino from 'pino';
import { Outbox } from '../../../src/daemon/publish/index.js';

const dir = process.argv[2]!;
let commits = 0;
const outbox = new Outbox({ dir, max_messages: 1000 }, pino({ level: 'silent' }), {
  beforeSync: async () => {
    if (++commits < 2) return;
    process.stdout.write('written\n');
    await new Promise(() => {}); // hang until killed
  },
});
await outbox.open();
const batch = () =>
  Array.from({ length: 5 }, () => {
    const seq = outbox.nextSeq('cam');
    return { topic: 'pivot-edge/dev/cam/result', payload: JSON.stringify({ seq }), qos: 1 as const, retain: false, stream: 'cam', seq };
  });
const first = batch();
await outbox.appendMany(first);
process.stdout.write(`durable ${first.at(-1)!.seq}\n`);
await outbox.appendMany(batch());
