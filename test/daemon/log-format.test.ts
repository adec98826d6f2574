/** Logs: readable single lines when asked for (a terminal), pino JSON lines otherwise. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { prettyLogs } from '../../src/util/log.js';
import { ROOT } from '../runtime/helpers.js';

const log = (format: string) =>
  spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      `import { createLogger } from './src/util/log.ts'; createLogger().child({ component: 'daemon' }).info({ result: { label: 'Bag' } }, 'inbox: a.png -> Bag'); createLogger().warn({ password: 'hunter2' }, 'careful');`,
    ],
    { cwd: ROOT, env: { ...process.env, PIVOT_LOG_FORMAT: format }, encoding: 'utf8' },
  ).stderr;

test('pretty: one readable line per entry, component in brackets, secrets redacted', () => {
  const lines = log('pretty').trim().split('\n');
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0]!, /^\[\d\d:\d\d:\d\d\] INFO.*\[daemon\] inbox: a\.png -> Bag$/);
  assert.match(lines[1]!, /WARN.*careful.*\[redacted\]/);
  assert.ok(!lines.join('').includes('hunter2'));
});

test('json: pino lines, as for journald and docker logs', () => {
  const lines = log('json')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines[0]!.msg, 'inbox: a.png -> Bag');
  assert.deepEqual(lines[0]!.result, { label: 'Bag' });
  assert.equal(lines[1]!.password, '[redacted]');
});

test('a terminal gets pretty logs unless PIVOT_LOG_FORMAT=json; a pipe gets JSON unless PIVOT_LOG_FORMAT=pretty', () => {
  assert.equal(prettyLogs({}, true), true);
  assert.equal(prettyLogs({ PIVOT_LOG_FORMAT: 'json' }, true), false);
  assert.equal(prettyLogs({}, false), false);
  assert.equal(prettyLogs({ PIVOT_LOG_FORMAT: 'pretty' }, false), true);
});
