/**
 * The BenchConnection contract over amqplib, for RabbitMQ (scenarios 8 and 12) and Warren's AMQP 0-9-1
 * listener (scenario 12): one AMQP connection with a plain channel (no-confirm publishes, consuming)
 * and a confirm channel.
 */
import amqp from 'amqplib';
import type { BenchConnection, OnDelivery } from './adapter.js';
import { readStamp } from './adapter.js';

/** Resolves when a RabbitMQ answers at `url` (used to decide whether scenario 8 runs). */
export async function amqpReachable(url: string): Promise<boolean> {
  try {
    const conn = await amqp.connect(url, { timeout: 2000 });
    await conn.close();
    return true;
  } catch {
    return false;
  }
}

export async function openAmqp(url: string): Promise<BenchConnection> {
  // Nagle off, as Warren's WebSocket (ws sets TCP_NODELAY) and RabbitMQ's own listener have it.
  const model = await amqp.connect(url, { noDelay: true });
  model.on('error', (error: Error) => process.stderr.write(`[generator] amqp error: ${error.message}\n`));
  const channel = await model.createChannel();
  return new AmqpBench(model, channel);
}

class AmqpBench implements BenchConnection {
  private confirmChannel: amqp.ConfirmChannel | undefined;
  private confirmOpening: Promise<amqp.ConfirmChannel> | undefined;

  constructor(
    private readonly model: amqp.ChannelModel,
    private readonly channel: amqp.Channel,
  ) {}

  async declareQueue(queue: string, o: { durable?: boolean; arguments?: Record<string, unknown> } = {}): Promise<void> {
    await this.channel.assertQueue(queue, { durable: o.durable ?? false, arguments: o.arguments });
  }

  async messageCount(queue: string): Promise<number | undefined> {
    // A failed passive declare closes the channel it ran on: use a throwaway one.
    const probe = await this.model.createChannel();
    probe.on('error', () => {});
    try {
      const ok = await probe.checkQueue(queue);
      await probe.close();
      return ok.messageCount;
    } catch {
      return undefined;
    }
  }

  async deleteQueue(queue: string): Promise<void> {
    await this.channel.deleteQueue(queue);
  }

  async declareExchange(exchange: string, type: 'fanout' | 'topic' | 'direct'): Promise<void> {
    await this.channel.assertExchange(exchange, type, { durable: false });
  }

  async deleteExchange(exchange: string): Promise<void> {
    await this.channel.deleteExchange(exchange);
  }

  async bindQueue(queue: string, exchange: string, routingKey: string): Promise<void> {
    await this.channel.bindQueue(queue, exchange, routingKey);
  }

  publish(exchange: string, routingKey: string, body: string, persistent: boolean): void {
    this.channel.publish(exchange, routingKey, Buffer.from(body, 'latin1'), { persistent });
  }

  async publishConfirm(exchange: string, routingKey: string, body: string, persistent: boolean): Promise<void> {
    const channel = this.confirmChannel ?? (await this.openConfirmChannel());
    await new Promise<void>((resolve, reject) => {
      channel.publish(exchange, routingKey, Buffer.from(body, 'latin1'), { persistent }, (error: unknown) =>
        error ? reject(error instanceof Error ? error : new Error('nacked')) : resolve(),
      );
    });
  }

  private openConfirmChannel(): Promise<amqp.ConfirmChannel> {
    this.confirmOpening ??= this.model.createConfirmChannel().then((channel) => {
      this.confirmChannel = channel;
      return channel;
    });
    return this.confirmOpening;
  }

  async consume(queue: string, prefetch: number, onDelivery: OnDelivery): Promise<void> {
    await this.channel.prefetch(prefetch);
    await this.channel.consume(
      queue,
      (message) => {
        if (message) onDelivery(message.fields.deliveryTag, readStamp(message.content.toString('latin1', 0, 16)));
      },
      { noAck: false },
    );
  }

  ack(deliveryTag: number, multiple: boolean): void {
    // amqplib only reads the tag from the message it is given.
    this.channel.ack({ fields: { deliveryTag } } as amqp.Message, multiple);
  }

  async close(): Promise<void> {
    await this.confirmChannel?.close().catch(() => {});
    await this.model.close();
  }
}
