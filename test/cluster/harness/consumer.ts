// The load driver's consumer: manual acks, prefetch 50, every queue on one channel; journals each
// delivery (with its redelivered flag) and each ack as it sends it. Reconnects to the next node when
// its connection is lost or the broker cancels it. The queues exist before it starts (LoadDriver.start).
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { backoff, closeWithin, connectWithin, pick, type Endpoints } from './amqp-endpoints.js';
import type { JournalWriter } from './journal.js';

export interface ConsumerOptions {
  readonly endpoints: Endpoints;
  readonly queues: readonly string[];
  readonly prefetch: number;
  readonly heartbeatSeconds: number;
  readonly journal: JournalWriter;
  readonly firstTurn?: number;
}

function header(message: ConsumeMessage, name: string): number {
  const value: unknown = (message.properties.headers as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'number' ? value : Number(value ?? NaN);
}

export class Consumer {
  #model: ChannelModel | undefined;
  #turn: number;
  #closed = false;
  #loop: Promise<void> | undefined;
  #generation = 0;
  #lastError = '';
  /** Deliveries without a message id: not the driver's messages (should stay 0). */
  foreign = 0;

  constructor(private readonly o: ConsumerOptions) {
    this.#turn = o.firstTurn ?? 1;
  }

  get lastError(): string {
    return this.#lastError;
  }

  start(): void {
    this.#loop = this.run();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#model) await closeWithin(this.#model);
    await this.#loop;
  }

  private async run(): Promise<void> {
    while (!this.#closed) {
      try {
        const endpoint = pick(this.o.endpoints, this.#turn++);
        const model = await connectWithin(endpoint.amqpUrl, this.o.heartbeatSeconds, 3000);
        this.#model = model;
        const openedAt = Date.now();
        let cancelled: (reason: string) => void = () => undefined;
        const lost = new Promise<string>((resolve) => {
          cancelled = resolve;
          model.on('error', (error: Error) => resolve(error.message));
          model.on('close', (error?: Error) => resolve(error?.message ?? 'closed'));
        });
        const channel = await model.createChannel();
        channel.on('error', (error: Error) => cancelled(`channel: ${error.message}`));
        channel.on('close', () => cancelled('channel closed'));
        await channel.prefetch(this.o.prefetch);
        const generation = ++this.#generation;
        const label = `con${generation}@${endpoint.node}`;
        const record = this.o.journal.opened(label, 'consumer', endpoint.node, openedAt);
        for (const queue of this.o.queues) {
          // Passive: a durable declare is refused while the ISR is short, consuming is not.
          await channel.checkQueue(queue);
          await channel.consume(queue, (message) => {
            if (message === null) cancelled(`consumer of ${queue} cancelled by the broker`);
            else this.received(channel, queue, message);
          });
        }
        const reason = await lost;
        record.closedAt = Date.now();
        record.closeReason = reason;
        this.#lastError = reason;
        await model.close().catch(() => undefined);
      } catch (error) {
        this.#lastError = (error as Error).message;
        if (this.#model) await closeWithin(this.#model);
      }
      if (!this.#closed) await backoff();
    }
  }

  private received(channel: Channel, queue: string, message: ConsumeMessage): void {
    const id: unknown = message.properties.messageId;
    if (typeof id !== 'string') {
      this.foreign++;
      channel.ack(message);
      return;
    }
    const attempt = header(message, 'x-attempt');
    this.o.journal.delivery({ id, queue, seq: header(message, 'x-seq'), attempt, redelivered: message.fields.redelivered });
    try {
      channel.ack(message);
      this.o.journal.ack({ id, attempt });
    } catch (error) {
      // The channel is closing: the message comes back (flagged) on the next connection.
      this.#lastError = (error as Error).message;
    }
  }
}
