/**
 * Where the client tests connect: a fresh Warren on ephemeral ports, or — with
 * WARREN_TEST_AGAINST_RABBITMQ=1 — the RabbitMQ on localhost:5672, so that anyone can check that the
 * tests themselves expect what RabbitMQ does. RabbitMQ has no AMQP-over-WebSocket listener, so `wsUrl`
 * (and `warren`, for the JSON protocol) are absent there and those cases skip.
 */
import { randomBytes } from 'node:crypto';
import { startWarren, type RunningWarren } from '../../../helpers/warren.js';

export const againstRabbitMQ = process.env['WARREN_TEST_AGAINST_RABBITMQ'] === '1';

const RABBITMQ_URL = process.env['WARREN_TEST_RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface AmqpTarget {
  /** `amqp://guest:guest@host:port` (default vhost). */
  readonly url: string;
  /** `ws://host:port/amqp`; absent against RabbitMQ. */
  readonly wsUrl?: string;
  /** The Warren under test (for its JSON WebSocket protocol); absent against RabbitMQ. */
  readonly warren?: RunningWarren;
  readonly name: 'warren' | 'rabbitmq';
  stop(): Promise<void>;
}

export async function amqpTarget(): Promise<AmqpTarget> {
  if (againstRabbitMQ) return { url: RABBITMQ_URL, name: 'rabbitmq', stop: async () => undefined };
  const warren = await startWarren();
  if (warren.amqpPort === 0) {
    // Port 0 in a URL means "default" to clients (amqplib then dials 5672, RabbitMQ's port): refuse it
    // rather than test RabbitMQ while believing it is Warren.
    await warren.stop();
    throw new Error('this Warren has no AMQP listener (amqpPort 0)');
  }
  return { url: warren.amqpUrl, wsUrl: warren.amqpWsUrl, warren, name: 'warren', stop: () => warren.stop() };
}

/**
 * Names unique to one run: RabbitMQ is shared by everyone and outlives the tests, so names must not
 * collide with another run's leftovers (every queue the tests declare is exclusive, auto-delete or
 * deleted at the end, but a crashed run can leave some behind).
 */
export function uniqueName(prefix: string): string {
  return `warren-clients.${prefix}.${randomBytes(4).toString('hex')}`;
}
