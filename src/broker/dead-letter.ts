/**
 * RabbitMQ's dead-lettering rules, as pure functions: where a queue sends the messages that die in it,
 * the `x-death` history the copy carries, and which targets would close an automatic cycle.
 * `DeadLetterer` (dead-letterer.ts) applies them.
 */
import { TextContent, type HeaderValue, type Headers, type MessageContent } from './message.js';
import type { QueueEntry } from './queue-entry.js';
import type { Queue } from './queue.js';

/** Why a message died, as RabbitMQ spells it in `x-death`. */
export const DeathReasons = ['rejected', 'expired', 'maxlen', 'delivery_limit'] as const;
export type DeathReason = (typeof DeathReasons)[number];

/** Takes over the entries that die in a queue with a dead-letter exchange; it settles them in the source. */
export interface DeadLetterSink {
  deadLetter(queue: Queue, entry: QueueEntry, reason: DeathReason): void;
}

/** Where a queue's dead letters go: `x-dead-letter-exchange`, and `x-dead-letter-routing-key` when set. */
export interface DeadLetterTarget {
  readonly exchange: string;
  readonly routingKey: string | undefined;
}

/** Undefined when the queue does not dead-letter (its dying messages are simply dropped). */
export function deadLetterTarget(args: Readonly<Record<string, unknown>>): DeadLetterTarget | undefined {
  const exchange = args['x-dead-letter-exchange'];
  if (typeof exchange !== 'string') return undefined;
  const routingKey = args['x-dead-letter-routing-key'];
  return { exchange, routingKey: typeof routingKey === 'string' ? routingKey : undefined };
}

/** One death: which queue, why, and when (seconds since the epoch, as AMQP's timestamp). */
export interface Death {
  readonly queue: string;
  readonly reason: DeathReason;
  readonly time: number;
}

/**
 * The content of the copy that is republished to the dead-letter exchange: published there with the
 * dead-letter routing key (or its own), its `expiration` moved into the death record so it does not
 * expire again, and the death recorded in `x-death` and the first/last-death headers.
 */
export function deadLetterContent(content: MessageContent, death: Death, target: DeadLetterTarget): MessageContent {
  const { expiration, ...rest } = content.properties;
  const headers = recordDeath(content.properties.headers ?? {}, death, content, expiration);
  const properties = { ...rest, headers };
  const routingKey = target.routingKey ?? content.routingKey;
  return content instanceof TextContent
    ? new TextContent(target.exchange, routingKey, properties, content.text, content.size)
    : { exchange: target.exchange, routingKey, properties, body: content.body };
}

/**
 * The headers with `death` recorded. `x-death` holds one entry per {queue, reason}, newest first: a death
 * already there has its count raised and moves to the front, keeping its first time, exchange and
 * routing keys (RabbitMQ keeps `time` as the first death's). `x-first-death-*` is set once (3.10),
 * `x-last-death-*` every time (3.13).
 */
export function recordDeath(headers: Headers, death: Death, content: MessageContent, expiration: string | undefined): Headers {
  const history = deathsIn(headers);
  const at = history.findIndex((entry) => isObject(entry) && entry.queue === death.queue && entry.reason === death.reason);
  let newest: Headers;
  if (at >= 0) {
    const found = history[at] as Headers;
    history.splice(at, 1);
    newest = { ...found, count: (typeof found.count === 'number' ? found.count : 0) + 1 };
  } else {
    newest = {
      count: 1,
      reason: death.reason,
      queue: death.queue,
      time: death.time,
      exchange: content.exchange,
      // Warren routes by the one routing key (no CC/BCC headers), so that is the list RabbitMQ would record.
      'routing-keys': [content.routingKey],
      ...(expiration !== undefined ? { 'original-expiration': expiration } : {}),
    };
  }
  const out: Headers = { ...headers, 'x-death': [newest, ...history] };
  if (out['x-first-death-queue'] === undefined) {
    out['x-first-death-queue'] = death.queue;
    out['x-first-death-reason'] = death.reason;
    out['x-first-death-exchange'] = content.exchange;
  }
  out['x-last-death-queue'] = death.queue;
  out['x-last-death-reason'] = death.reason;
  out['x-last-death-exchange'] = content.exchange;
  return out;
}

/**
 * Whether delivering a dead-lettered copy (its deaths already recorded) to `queue` closes a cycle that
 * no client broke: the queue died the message before, and no death since then, that one included, was
 * `rejected`. RabbitMQ drops the copy for such a target, and checks only deaths that are not rejections
 * (a client rejecting in a loop is the client's choice). An entry that is not a death table was put there
 * by a client, so it breaks the cycle too.
 */
export function isDeathCycle(queue: string, headers: Headers | undefined): boolean {
  const history = deathsIn(headers ?? {});
  const at = history.findIndex((entry) => isObject(entry) && entry.queue === queue);
  if (at < 0) return false;
  return history.slice(0, at + 1).every((entry) => isObject(entry) && entry.reason !== 'rejected');
}

/** Seconds since the epoch, the unit of `x-death`'s `time` (an AMQP timestamp in RabbitMQ). */
export function deathTime(ms: number): number {
  return Math.floor(ms / 1000);
}

function deathsIn(headers: Headers): HeaderValue[] {
  const deaths = headers['x-death'];
  return Array.isArray(deaths) ? [...deaths] : [];
}

function isObject(value: HeaderValue | undefined): value is Headers {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
