/** `pivot run`: the long-running daemon (sources -> cascade -> MQTT), until SIGINT/SIGTERM. */
import type { Command } from 'commander';
import { chooseDeployment } from '../cascade/index.js';
import { Daemon, loadDaemonConfig } from '../daemon/index.js';
import { createLogger } from '../util/log.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('run the daemon: classify frames from the configured sources and publish the results over MQTT')
    .option('-c, --config <file>', 'daemon config, YAML or JSON (see deploy/daemon.example.yaml)', process.env.PIVOT_CONFIG ?? '/etc/pivot-edge/daemon.yaml')
    .option('--check', 'validate the config and the deployment it names, print a summary, and exit')
    .action(async (opts: { config: string; check?: boolean }) => {
      const loaded = loadDaemonConfig(opts.config);
      if (opts.check) {
        const { path, config } = chooseDeployment({ ...(loaded.config.deploy ? { deploy: loaded.config.deploy } : {}) });
        const sources = loaded.config.sources.map((s) => `${s.name} (${s.type})`).join(', ');
        process.stdout.write(
          `${loaded.path}: ok\n  device ${loaded.config.device_id}, sources ${sources}\n` +
            `  deploy ${path}: low ${config.low}, high ${config.high}, threshold ${config.threshold}\n`,
        );
        return;
      }
      const logger = createLogger();
      const daemon = new Daemon(loaded, logger);
      // A stray rejection is logged, not fatal: one bad frame or broker hiccup must not take the service down.
      process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
      let signals = 0;
      const stopped = new Promise<void>((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          if (++signals > 1) {
            logger.warn({ signal }, 'second signal: exiting without a clean stop');
            process.exit(1);
          }
          logger.info({ signal }, 'shutting down');
          daemon.stop().then(resolve, (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exitCode = 1;
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
      await stopped;
    });
}
