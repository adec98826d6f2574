export { EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded.js';
