/** The package version, read from package.json so the CLI, MQTT discovery and logs agree. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const VERSION: string = (require('../package.json') as { version: string }).version;
