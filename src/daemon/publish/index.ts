/** Publishing side of the daemon: the on-disk outbox, the MQTT publisher and Home Assistant discovery. */
export * from './topics.js';
export { Outbox, OutboxMessageSchema, REJECTED_DIR, type OutboxEntry, type OutboxMessage } from './outbox.js';
export { redactUrl } from '../../util/url.js';
export { MqttPublisher, type MqttPublisherOptions, type Outgoing, type MqttPublisherStats } from './mqtt.js';
export { discoveryMessages, discoveryRemovals, discoveryTopic, type DiscoveryInfo } from './discovery.js';
