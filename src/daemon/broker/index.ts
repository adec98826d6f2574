export { EmbeddedBroker } from './embedded.js';
