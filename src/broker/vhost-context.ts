import type { ChannelTally } from './channel-tally.js';
import type { BrokerError } from './errors.js';
import type { Clock } from './clock.js';
import type { MessageStats } from './message-stats.js';
import type { DefinitionChange, MessageStore } from './persistence.js';
import type { QueueChurn } from './queue-churn.js';
import type { QueueObserver } from './queue.js';

/** What a vhost needs from the broker around it. */
export interface VHostContext {
  nextMessageId(): number;
  readonly maxBodySize: number;
  readonly queueObserver: QueueObserver;
  readonly messageStore: MessageStore | undefined;
  readonly stats: MessageStats;
  /** Channels by client protocol, for the broker-wide per-protocol counters. */
  readonly channelTally: ChannelTally;
  readonly queueChurn: QueueChurn;
  /** Persistent messages and durable definitions are refused (disk alarm, or too few in-sync replicas in a cluster). */
  readonly writeAlarm: boolean;
  /** The refusal while `writeAlarm` holds, naming why. */
  writeRefusal(what: string): BrokerError;
  readonly clock: Clock;
  /** Milliseconds an unacked delivery may wait when neither consume nor queue says; 0 = no limit. */
  readonly consumerTimeout: number;
  definitionChanged(change: DefinitionChange): void;
}

/** What an operator says about a vhost; RabbitMQ keeps the same three fields (and tracing) per vhost. */
export interface VHostMetadata {
  readonly description: string;
  readonly tags: readonly string[];
  readonly defaultQueueType: string;
  readonly tracing: boolean;
}
