/**
 * `pivot run`: the long-running daemon (sources -> cascade -> MQTT), until SIGINT/SIGTERM.
 * With no config file it runs the built-in default (see src/daemon/defaults.ts); SIGHUP
 * reloads a config file.
 */
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { chooseDeployment } from '../cascade/index.js';
import {
  BUILT_IN,
  builtInConfig,
  Daemon,
  defaultStateDir,
  EMBEDDED,
  loadDaemonConfig,
  seedInbox,
  type LoadedDaemonConfig,
} from '../daemon/index.js';
import { ConfigError, PivotError } from '../errors.js';
import { createLogger, prettyLogs } from '../util/log.js';
import { redactUrl } from '../util/url.js';

/** A second SIGINT/SIGTERM within this long is the same request delivered twice, not a "stop now". */
const SAME_SIGNAL_MS = 1_000;

interface RunOptions {
  config?: string;
  check?: boolean;
  state?: string;
  port?: string;
  samples?: string;
}

/** A port or count option (or its environment variable), 0-65535; `what` names it in the error. */
function portOrCount(value: string | undefined, what: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${what}: expected a whole number from 0 to 65535, got '${value}'`);
  return n;
}

export function register(program: Command): void {
  program
    .command('run')
    .description(
      'run the daemon: classify frames from the configured sources and publish the results over MQTT (no --config: the built-in default)',
    )
    .option(
      '-c, --config <file>',
      'daemon config, YAML or JSON (see deploy/daemon.example.yaml); default $PIVOT_CONFIG, else the built-in default',
    )
    .option('--check', 'validate the config and the deployment it names, print a summary, and exit')
    .option(
      '--state <dir>',
      'built-in default only: the state folder (inbox, .done, .failed, outbox) [$PIVOT_STATE_DIR, default <checkout>/state]',
    )
    .option('--port <n>', 'built-in default only: the embedded MQTT broker port [$PIVOT_MQTT_PORT, default 1883]')
    .option(
      '--samples <n>',
      'built-in default only: how many bundled sample images seed the inbox on the first run [$PIVOT_SEED_SAMPLES, default all]',
    )
    .action(async (opts: RunOptions) => {
      const file = opts.config ?? process.env.PIVOT_CONFIG;
      const defaultOnly = (['state', 'port', 'samples'] as const).filter((k) => opts[k] !== undefined);
      if (file && defaultOnly.length)
        throw new ConfigError(
          `${defaultOnly.map((k) => `--${k}`).join(', ')}: only for the built-in default; with --config, set it in the file`,
        );
      const stateDir = opts.state ?? process.env.PIVOT_STATE_DIR ?? defaultStateDir();
      const loaded = file
        ? loadDaemonConfig(file)
        : builtInConfig({
            stateDir,
            ...optional('port', portOrCount(opts.port ?? process.env.PIVOT_MQTT_PORT, '--port')),
            ...optional('httpPort', portOrCount(process.env.PIVOT_HTTP_PORT, 'PIVOT_HTTP_PORT')),
          });
      if (opts.check) return check(loaded);
      const readable = prettyLogs();
      const logger = createLogger(undefined, readable);
      if (!file) {
        const limit = portOrCount(opts.samples ?? process.env.PIVOT_SEED_SAMPLES, '--samples');
        await seedInbox(stateDir, logger, limit);
      }
      await serve(loaded, file, logger, readable);
    });
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function check(loaded: LoadedDaemonConfig): void {
  const { config } = loaded;
  const { path, config: deploy } = chooseDeployment({ ...(config.deploy ? { deploy: config.deploy } : {}) });
  const sources = config.sources.map((s) => `${s.name} (${s.type})`).join(', ');
  const { url, embedded } = config.mqtt;
  const broker =
    url === EMBEDDED
      ? `embedded broker on ${embedded.host}:${embedded.port}`
      : `broker ${(Array.isArray(url) ? url : [url]).map(redactUrl).join(', ')}`;
  process.stdout.write(
    `${basename(loaded.path) === BUILT_IN ? BUILT_IN : loaded.path}: ok\n  device ${config.device_id}, sources ${sources}, ${broker}\n` +
      `  deploy ${path}: low ${deploy.low}, high ${deploy.high}, threshold ${deploy.threshold}\n`,
  );
}

async function serve(loaded: LoadedDaemonConfig, file: string | undefined, logger: Logger, readable: boolean): Promise<void> {
  const daemon = new Daemon(loaded, logger, { resultLogLevel: readable ? 'info' : 'debug', httpNextFreePort: !file });
  // A stray rejection is logged, not fatal: one bad frame or broker hiccup must not take the service down.
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
  process.on('SIGHUP', () => {
    if (!file) {
      logger.warn('SIGHUP: nothing to reload (running the built-in default, not a config file)');
      return;
    }
    let next: LoadedDaemonConfig;
    try {
      next = loadDaemonConfig(file);
    } catch (err) {
      logger.error({ reason: (err as Error).message }, 'SIGHUP: the config file does not validate; keeping the running config');
      return;
    }
    daemon
      .reload(next)
      .catch((err: unknown) => logger.error({ reason: (err as Error).message }, 'SIGHUP: reload failed; keeping the running config'));
  });
  let firstSignalAt: number | undefined;
  const stopped = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (firstSignalAt !== undefined) {
        // Ctrl-C under `npm start` arrives twice (from the terminal, and forwarded by npm): one stop.
        if (Date.now() - firstSignalAt < SAME_SIGNAL_MS) return;
        logger.warn({ signal }, 'second signal: exiting without a clean stop');
        process.exit(PivotError.exitCode);
      }
      firstSignalAt = Date.now();
      logger.info({ signal }, 'shutting down');
      daemon.stop().then(resolve, (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exitCode = PivotError.exitCode;
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  try {
    await daemon.start();
  } catch (err) {
    // Release whatever did start (broker connection, watchers) so the process can exit with the error.
    await daemon.stop().catch(() => undefined);
    throw err;
  }
  if (daemon.broker)
    logger.info(`watch the results: mosquitto_sub -h 127.0.0.1 -p ${daemon.broker.port} -t '${loaded.config.mqtt.topic_prefix}/#' -v`);
  await stopped;
}
