/**
 * Broker-wide queue counters (RabbitMQ's `rabbitmq_queues_{declared,created,deleted}_total`): on the
 * broker, so they stay monotonic as queues and vhosts come and go.
 */
export class QueueChurn {
  /** Successful queue declarations, passive and redeclares included. */
  declared = 0;
  /** Declarations that created a queue (recovery at start-up does not count). */
  created = 0;
  /** Queues deleted, however: by a client, auto-delete, exclusive owner gone, expiry, vhost deletion. */
  deleted = 0;
}
