/**
 * The README's commands, run as written in a copy of the checkout in a temp folder: the
 * quickstart (`npm start`, watched with the README's `mosquitto_sub`) and the daemon quickstart
 * (`cp deploy/daemon.example.yaml daemon.yaml`, `--check`, run). The copy links everything but
 * `deploy/` (copied), so the real checkout gains no state folder or daemon.yaml.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import getPort from 'get-port';
import { startMosquitto, subscribe } from '../../helpers/mosquitto.js';
import { waitFor } from '../../helpers/wait.js';
import { ROOT, sampleFiles } from '../../runtime/helpers.js';
import { start, waitForLog, type Proc } from './helpers.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The commands of the first ```sh block after `heading`, comments and blank lines dropped. */
function commandsAfter(heading: string): string[] {
  const section = README.slice(README.indexOf(heading));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  assert.ok(block, `a sh block after '${heading}'`);
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

/** Runs one README line with sh in the copy; `detached`: in its own process group, so a signal reaches npm and node, like Ctrl-C. */
function shell(command: string, cwd: string, env: NodeJS.ProcessEnv = {}, detached = false): Proc {
  return start('sh', ['-c', command], { cwd, env: { PIVOT_LOG_FORMAT: 'json', PIVOT_CONFIG: '', ...env }, detached });
}
/**
 * Ctrl-C: SIGINT to the whole process group. npm re-raises the signal on itself once its script
 * has exited, so a clean stop shows as npm "killed by SIGINT"; the daemon's own stop is in its log.
 */
async function interrupt(proc: Proc): Promise<void> {
  process.kill(-proc.child.pid!, 'SIGINT');
  const code = await proc.exited;
  assert.ok(code === 0 || proc.child.signalCode === 'SIGINT', `exit ${code} ${proc.child.signalCode}\n${proc.err().slice(-2000)}`);
  assert.match(proc.err(), /"msg":"stopped"/);
  assert.doesNotMatch(proc.err(), /shutdown failed|second signal/);
}
const running = (proc: Proc | undefined) => proc !== undefined && proc.child.exitCode === null && proc.child.signalCode === null;
function kill(proc: Proc | undefined): void {
  try {
    if (running(proc)) process.kill(-proc!.child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

describe("the README's commands, literally", () => {
  let copy: string;
  before(() => {
    copy = mkdtempSync(join(tmpdir(), 'pivot-readme-'));
    for (const entry of readdirSync(ROOT)) {
      if (['.git', 'state', 'deploy', 'daemon.yaml'].includes(entry)) continue;
      symlinkSync(join(ROOT, entry), join(copy, entry));
    }
    cpSync(join(ROOT, 'deploy'), join(copy, 'deploy'), { recursive: true });
  });
  after(() => rmSync(copy, { recursive: true, force: true }));

  it('quickstart: npm start runs the daemon; the README’s mosquitto_sub sees its results; Ctrl-C exits 0', async () => {
    const [install, watchCommand] = [commandsAfter('## Quickstart'), commandsAfter('Watch the results')];
    assert.deepEqual(install, ['npm ci && npm start']);
    assert.match(watchCommand[0]!, /^mosquitto_sub -h 127\.0\.0\.1 -t 'pivot-edge\/#' -v$/);
    const port = await getPort({ host: '127.0.0.1' });
    // `npm ci` is done already (node_modules is linked); the port, state folder and sample count are moved for the test.
    const env = {
      PIVOT_STATE_DIR: join(copy, 'npm-start-state'),
      PIVOT_MQTT_PORT: String(port),
      PIVOT_HTTP_PORT: '0',
      PIVOT_SEED_SAMPLES: '10',
      PIVOT_LOG_LEVEL: 'debug',
    };
    const daemon = start('npm', ['start'], { cwd: copy, env: { PIVOT_LOG_FORMAT: 'json', PIVOT_CONFIG: '', ...env }, detached: true });
    let watch: Proc | undefined;
    try {
      await waitForLog(daemon, 'embedded MQTT broker listening');
      // exec: the sh becomes mosquitto_sub, so stopping it stops the client.
      watch = shell(`exec ${watchCommand[0]} -p ${port}`, copy);
      const results = () =>
        watch!
          .out()
          .split('\n')
          .filter((l) => / pivot-edge\/[^ ]+\/inbox\/result /.test(` ${l}`) || l.includes('/inbox/result '));
      await waitFor(() => results().length >= 10, '10 results in mosquitto_sub', 60_000).catch((err: Error) => {
        throw new Error(`${err.message}\nsub: ${watch!.out().slice(-500)}\nlog: ${daemon.err().slice(-2000)}`);
      });
      await interrupt(daemon);
      await waitFor(() => /\/status offline/.test(watch!.out()), 'offline in mosquitto_sub');
    } finally {
      kill(daemon);
      watch?.child.kill();
    }
  });

  it('daemon quickstart: cp the example, --check passes, the daemon runs on it', async () => {
    const [copyCommand, checkCommand, runCommand, ...rest] = commandsAfter('## The daemon');
    assert.equal(rest.length, 0);
    assert.equal(copyCommand, 'cp deploy/daemon.example.yaml daemon.yaml');
    assert.equal(await shell(copyCommand, copy).exited, 0);
    // The README's "edit sources and mqtt.url": point it at this test's broker (and a free HTTP port).
    const broker = await startMosquitto();
    const yaml = join(copy, 'daemon.yaml');
    const original = readFileSync(yaml, 'utf8');
    assert.match(original, /^ {2}url: mqtt:\/\/127\.0\.0\.1:1883$/m);
    writeFileSync(
      yaml,
      original.replace(/^ {2}url: mqtt:\/\/127\.0\.0\.1:1883$/m, `  url: ${broker.url}`).replace(/^ {2}port: 9464/m, '  port: 0'),
    );
    const watch = await subscribe(broker.url, 'pivot-edge/#');
    let daemon: Proc | undefined;
    try {
      const check = shell(checkCommand!, copy);
      assert.equal(await check.exited, 0, check.err());
      assert.match(check.out(), /daemon\.yaml: ok/);
      daemon = shell(runCommand!, copy, {}, true);
      await waitForLog(daemon, 'daemon running');
      const sample = sampleFiles()[0]!.source as string;
      copyFileSync(sample, join(copy, 'state', 'inbox', basename(sample)));
      await watch.waitFor(
        (m) => m.some((x) => x.topic.endsWith('/inbox/result') && x.payload.includes(basename(sample))),
        'the result',
        60_000,
      );
      await waitFor(() => readdirSync(join(copy, 'state', '.done')).includes(basename(sample)), 'the file moved to state/.done');
      await interrupt(daemon);
      await watch.waitFor((m) => m.some((x) => x.topic.endsWith('/status') && x.payload === 'offline'), 'offline');
    } finally {
      kill(daemon);
      await watch.close();
      await broker.stop();
    }
  });
});
