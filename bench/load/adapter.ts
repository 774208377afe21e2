/**
 * What the load patterns need of a broker connection, so the same pattern drives Warren (bundled
 * client, WebSocket + JSON) and RabbitMQ (amqplib, see amqp.ts) with the same parameters.
 */
import { connect, type WarrenConnection } from '../../src/client/index.js';
import type { Target } from './job.js';

/** Called per delivery with its tag and the send time stamped into the body (see stampedBody). */
export type OnDelivery = (deliveryTag: number, stamp: number) => void;

export interface BenchConnection {
  declareQueue(queue: string, o?: { durable?: boolean; arguments?: Record<string, unknown> }): Promise<void>;
  /** Ready messages in an existing queue; undefined when the queue does not exist. */
  messageCount(queue: string): Promise<number | undefined>;
  deleteQueue(queue: string): Promise<void>;
  declareExchange(exchange: string, type: 'fanout' | 'topic' | 'direct'): Promise<void>;
  deleteExchange(exchange: string): Promise<void>;
  bindQueue(queue: string, exchange: string, routingKey: string): Promise<void>;
  /** Fire and forget. */
  publish(exchange: string, routingKey: string, body: string, persistent: boolean): void;
  /** Resolves with the publisher confirm. */
  publishConfirm(exchange: string, routingKey: string, body: string, persistent: boolean): Promise<void>;
  /** Starts a manual-ack consumer; resolves once it is registered. */
  consume(queue: string, prefetch: number, onDelivery: OnDelivery): Promise<void>;
  ack(deliveryTag: number, multiple: boolean): void;
  close(): Promise<void>;
}

export async function open(target: Target): Promise<BenchConnection> {
  if (target.kind === 'amqp') {
    const { openAmqp } = await import('./amqp.js');
    return openAmqp(target.url);
  }
  return WarrenBench.open(target.url);
}

/** Bodies carry their send time (benchNow(), ms) in the first 16 characters, padded to size. */
export function stampedBody(stamp: number, size: number, padding: string): string {
  const head = stamp.toFixed(3).padStart(15, '0') + '|';
  return size <= head.length ? head : head + padding.slice(0, size - head.length);
}

export function readStamp(bodyHead: string): number {
  return Number.parseFloat(bodyHead.slice(0, 15));
}

export function paddingFor(size: number): string {
  return 'x'.repeat(Math.max(0, size));
}

class WarrenBench implements BenchConnection {
  private constructor(private readonly conn: WarrenConnection) {}

  static async open(url: string): Promise<WarrenBench> {
    // Heartbeats off: an idle generator blocked on a mark must not be dropped.
    const conn = await connect(url, { username: 'guest', password: 'guest', heartbeat: 0 });
    conn.on('error', (error) => process.stderr.write(`[generator] warren error: ${error.message}\n`));
    return new WarrenBench(conn);
  }

  async declareQueue(queue: string, o: { durable?: boolean; arguments?: Record<string, unknown> } = {}): Promise<void> {
    await this.conn.queueDeclare({ queue, durable: o.durable ?? false, arguments: o.arguments as never });
  }

  async messageCount(queue: string): Promise<number | undefined> {
    try {
      return (await this.conn.queueDeclare({ queue, passive: true })).messageCount;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.conn.queueDelete({ queue });
  }

  async declareExchange(exchange: string, type: 'fanout' | 'topic' | 'direct'): Promise<void> {
    await this.conn.exchangeDeclare({ exchange, type });
  }

  async deleteExchange(exchange: string): Promise<void> {
    await this.conn.exchangeDelete({ exchange });
  }

  async bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    await this.conn.queueBind({ queue, exchange, routingKey });
  }

  publish(exchange: string, routingKey: string, body: string, persistent: boolean): void {
    this.conn.publishNoConfirm({ exchange, routingKey, body, properties: persistent ? PERSISTENT : TRANSIENT });
  }

  async publishConfirm(exchange: string, routingKey: string, body: string, persistent: boolean): Promise<void> {
    await this.conn.publish({ exchange, routingKey, body, properties: persistent ? PERSISTENT : TRANSIENT });
  }

  async consume(queue: string, prefetch: number, onDelivery: OnDelivery): Promise<void> {
    await this.conn.consume({ queue, prefetch }, (message) => onDelivery(message.deliveryTag, readStamp(message.text())));
  }

  ack(deliveryTag: number, multiple: boolean): void {
    this.conn.ack(deliveryTag, multiple);
  }

  async close(): Promise<void> {
    await this.conn.close();
  }
}

const PERSISTENT = { persistent: true } as const;
const TRANSIENT = {} as const;
