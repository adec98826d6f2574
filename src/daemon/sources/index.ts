import type { Logger } from 'pino';
import type { SourceConfig } from '../config.js';
import type { FrameSource } from '../types.js';
import { CameraSource } from './camera.js';
import { DirectorySource } from './directory.js';
import { SnapshotSource } from './snapshot.js';

export { CameraSource, type CameraOptions } from './camera.js';
export { stripCredentials } from '../../util/url.js';
export { DirectorySource, IMAGE_EXTENSIONS, type DirectoryOptions } from './directory.js';
export { SnapshotSource } from './snapshot.js';

/** Builds the source a config entry describes (no I/O until start()). */
export function createSource(config: SourceConfig, logger: Logger): FrameSource {
  const log = logger.child({ source: config.name, source_type: config.type });
  switch (config.type) {
    case 'directory':
      return new DirectorySource(config, log);
    case 'camera':
      return new CameraSource(config, log);
    case 'snapshot':
      return new SnapshotSource(config, log);
  }
}
