import type { Logger } from 'pino';
import type { SourceConfig } from '../config.js';
import type { FrameSource } from '../types.js';
import { CameraSource } from './camera.js';
import { CommandSource } from './command.js';
import type { SourceHooks } from './counters.js';
import { DirectorySource } from './directory.js';
import { SnapshotSource } from './snapshot.js';

export { CameraSource, offersMjpeg, type CameraOptions } from './camera.js';
export { CommandSource, jetsonCsiPlan, rpicamPlan } from './command.js';
export type { SourceHooks } from './counters.js';
export { stripCredentials } from '../../util/url.js';
export { DirectorySource, type DirectoryOptions } from './directory.js';
export { SnapshotSource } from './snapshot.js';

/** Builds the source a config entry describes (no I/O until start()). */
export function createSource(config: SourceConfig, logger: Logger, hooks: SourceHooks = {}): FrameSource {
  const log = logger.child({ source: config.name, source_type: config.type });
  switch (config.type) {
    case 'directory':
      return new DirectorySource(config, log, hooks);
    case 'camera':
      return new CameraSource(config, log, hooks);
    case 'command':
    case 'rpicam':
    case 'jetson-csi':
      return new CommandSource(config, log, hooks);
    case 'snapshot':
      return new SnapshotSource(config, log, hooks);
  }
}
