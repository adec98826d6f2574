/**
 * A real Mosquitto broker for tests, on a free loopback port, plus a subscriber that collects
 * what arrives.
 *
 *   const broker = await startMosquitto();                  // anonymous; or { users: { alice: 'pw' } }
 *   // { persistence: true } keeps sessions and retained messages across kill()/start()/restart().
 *   const inbox = await subscribe(broker.url, 'pivot-edge/#');
 *   ...
 *   await inbox.waitFor((msgs) => msgs.length >= 3, '3 results');
 *   await broker.restart();                                  // same port: "the broker went away and came back"
 *   await inbox.close(); await broker.stop();                // always, e.g. in t.after()
 *
 * Needs /usr/sbin/mosquitto (Debian package `mosquitto`); mosquitto_passwd when `users` is given.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import getPort from 'get-port';
import { connectAsync, type MqttClient } from 'mqtt';

const MOSQUITTO = '/usr/sbin/mosquitto';
const START_TIMEOUT_MS = 10_000;

export interface Broker {
  /** mqtt://127.0.0.1:<port> (mqtts:// with `tls`; no credentials). */
  url: string;
  port: number;
  /** Kills the broker (SIGTERM, then SIGKILL) and waits for it to exit; removes its temp dir. */
  stop(): Promise<void>;
  /** Stops and starts again on the same port; sessions and retained messages are lost unless `persistence`. */
  restart(): Promise<void>;
  /** Stops without cleanup, keeping the port for a later start(); for "broker is down" tests. */
  kill(): Promise<void>;
  /** Starts a killed broker again on the same port. */
  start(): Promise<void>;
}

export interface BrokerOptions {
  /** user -> password; anonymous clients are refused when given. */
  users?: Record<string, string>;
  /**
   * Saves sessions (and messages queued for offline persistent subscribers) at stop and loads
   * them at start, so a `subscribe(..., { session })` collector misses nothing across a restart.
   */
  persistence?: boolean;
  /** Text of a Mosquitto ACL file (`user ...` / `topic ...` lines); needs `users`. */
  acl?: string;
  /** PEM file paths: the listener speaks TLS (url is mqtts://) and requires a client certificate signed by `ca`. */
  tls?: { ca: string; cert: string; key: string };
}

export async function startMosquitto(options: BrokerOptions = {}): Promise<Broker> {
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} not found: install the Debian package 'mosquitto'`);
  const dir = await mkdtemp(join(tmpdir(), 'pivot-mosquitto-'));
  const port = await getPort({ host: '127.0.0.1' });
  const lines = [
    `listener ${port} 127.0.0.1`,
    ...(options.persistence ? ['persistence true', `persistence_location ${dir}/`] : ['persistence false']),
    `log_dest file ${join(dir, 'mosquitto.log')}`,
    'log_type all',
  ];
  // Mosquitto drops root privileges to user "mosquitto", which cannot read our temp dir; keep them (ignored when not root).
  if (process.getuid?.() === 0) lines.push('user root');
  if (options.tls) {
    const { ca, cert, key } = options.tls;
    lines.push(`cafile ${ca}`, `certfile ${cert}`, `keyfile ${key}`, 'require_certificate true');
  }
  if (options.users && Object.keys(options.users).length > 0) {
    const passwords = join(dir, 'passwords');
    for (const [i, [user, password]] of Object.entries(options.users).entries()) {
      const result = spawnSync('mosquitto_passwd', [...(i === 0 ? ['-c'] : []), '-b', passwords, user, password], { encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`mosquitto_passwd failed for user ${user}: ${result.error?.message ?? result.stderr}`);
    }
    lines.push('allow_anonymous false', `password_file ${passwords}`);
    if (options.acl !== undefined) {
      await writeFile(join(dir, 'acl'), options.acl);
      lines.push(`acl_file ${join(dir, 'acl')}`);
    }
  } else {
    lines.push('allow_anonymous true');
  }
  const configFile = join(dir, 'mosquitto.conf');
  await writeFile(configFile, `${lines.join('\n')}\n`);

  let child: ChildProcess | undefined;
  const start = async () => {
    if (child) return;
    child = await launch(configFile, port, join(dir, 'mosquitto.log'));
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (running) await terminate(running);
  };
  await start();
  return {
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    start,
    kill,
    async restart() {
      await kill();
      await start();
    },
    async stop() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function launch(configFile: string, port: number, logFile: string): Promise<ChildProcess> {
  const child = spawn(MOSQUITTO, ['-c', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + START_TIMEOUT_MS;
  // A restart right after a stop may briefly find the port still held: keep polling until the deadline.
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      if (!exited) await terminate(child);
      throw new Error(`mosquitto did not start on port ${port}: ${(stderr + log).trim().split('\n').slice(-5).join(' | ')}`);
    }
    await sleep(50);
  }
  return child;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

export interface Collector {
  /** Everything received so far, in arrival order. */
  readonly messages: Received[];
  /** Resolves once `done(messages)` holds; rejects after `timeoutMs` naming `what` and what did arrive. */
  waitFor(done: (messages: Received[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Messages on exactly `topic`. */
  on(topic: string): Received[];
  close(): Promise<void>;
}

export interface SubscribeOptions {
  username?: string;
  password?: string;
  /** Client id of a persistent session (clean: false): QoS 1 messages sent while it is disconnected arrive later. */
  session?: string;
}

/**
 * Connects a plain mqtt.js client and collects messages on `topic` (wildcards allowed, QoS 1);
 * resolves after SUBACK. It reconnects and resubscribes after a broker restart.
 */
export async function subscribe(url: string, topic: string | string[], options: SubscribeOptions = {}): Promise<Collector> {
  const { session, ...auth } = options;
  const client: MqttClient = await connectAsync(url, {
    ...auth,
    reconnectPeriod: 200,
    ...(session ? { clientId: session, clean: false } : {}),
  });
  const messages: Received[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (t, payload, packet) => {
    messages.push({ topic: t, payload: payload.toString(), retain: packet.retain });
    for (const waiter of [...waiters]) waiter();
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return {
    messages,
    on: (t) => messages.filter((m) => m.topic === t),
    waitFor(done, what, timeoutMs = 15_000) {
      if (done(messages)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          const seen = messages.map((m) => `${m.topic}=${m.payload.slice(0, 40)}`).slice(-10);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last received: ${seen.join(', ') || 'nothing'}`));
        }, timeoutMs);
        const check = () => {
          if (!done(messages)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
    },
    close: () => client.endAsync(true),
  };
}
