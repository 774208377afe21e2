// The load driver's publisher: persistent messages with unique ids into durable queues at a target
// rate, at most `maxInFlight` unconfirmed, on a confirm channel. At-least-once: when its connection
// is lost it reconnects to the next node and sends every unconfirmed message again (same id, next
// attempt, a new per-queue seq); a nacked message is sent again the same way a moment later.
import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { backoff, closeWithin, connectWithin, pick, type Endpoints } from './amqp-endpoints.js';
import type { ConfirmRecord } from './checker.js';
import type { JournalWriter } from './journal.js';

export interface PublisherOptions {
  readonly endpoints: Endpoints;
  readonly queues: readonly string[];
  readonly ratePerSec: number;
  readonly maxInFlight: number;
  readonly heartbeatSeconds: number;
  readonly bodyBytes: number;
  readonly journal: JournalWriter;
  /** Where reconnects start in the endpoint list. */
  readonly firstTurn?: number;
}

interface Outgoing {
  readonly id: string;
  readonly queue: string;
  seq: number;
  attempt: number;
}

interface Live {
  readonly generation: number;
  readonly label: string;
  readonly channel: ConfirmChannel;
}

const TICK_MS = 10;
const NACK_RETRY_MS = 200;

export class Publisher {
  /** Unconfirmed messages in first-send order (a re-send keeps its place). */
  readonly #pending = new Map<string, Outgoing>();
  readonly #seqs = new Map<string, number>();
  readonly #body: Buffer;
  readonly #confirmWaiters = new Set<(record: ConfirmRecord) => void>();
  #live: Live | undefined;
  #model: ChannelModel | undefined;
  #generation = 0;
  #turn: number;
  #sending = true;
  #closed = false;
  #tokens = 0;
  #ticker: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;
  #lastError = '';

  constructor(private readonly o: PublisherOptions) {
    this.#body = Buffer.alloc(o.bodyBytes, 0x61);
    this.#turn = o.firstTurn ?? 0;
  }

  get unconfirmed(): number {
    return this.#pending.size;
  }

  get lastError(): string {
    return this.#lastError;
  }

  start(): void {
    this.#loop = this.run();
    let last = performance.now();
    this.#ticker = setInterval(() => {
      const now = performance.now();
      this.#tokens = Math.min(this.o.maxInFlight, this.#tokens + (this.o.ratePerSec * (now - last)) / 1000);
      last = now;
      this.pump();
    }, TICK_MS);
  }

  /** Called with every confirm as it is journaled; returns the unsubscribe. */
  onConfirm(listener: (record: ConfirmRecord) => void): () => void {
    this.#confirmWaiters.add(listener);
    return () => this.#confirmWaiters.delete(listener);
  }

  /** No new messages from now on; unconfirmed ones are still sent again until confirmed. */
  stopSending(): void {
    this.#sending = false;
  }

  /** Resolves once every message sent has been confirmed. */
  async settled(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.#pending.size > 0) {
      if (Date.now() > until) throw new Error(`publisher: ${this.#pending.size} messages still unconfirmed after ${timeoutMs} ms (last error: ${this.#lastError})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#ticker);
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
        const lost = new Promise<string>((resolve) => {
          model.on('error', (error: Error) => resolve(error.message));
          model.on('close', (error?: Error) => resolve(error?.message ?? 'closed'));
        });
        const channel = await model.createConfirmChannel();
        const channelLost = new Promise<string>((resolve) => {
          channel.on('error', (error: Error) => resolve(`channel: ${error.message}`));
          channel.on('close', () => resolve('channel closed'));
        });
        for (const queue of this.o.queues) await channel.assertQueue(queue, { durable: true });
        const generation = ++this.#generation;
        const label = `pub${generation}@${endpoint.node}`;
        const record = this.o.journal.opened(label, 'publisher', endpoint.node, openedAt);
        this.#live = { generation, label, channel };
        for (const message of [...this.#pending.values()]) this.send(message);
        const reason = await Promise.race([lost, channelLost]);
        this.#live = undefined;
        record.closedAt = Date.now();
        record.closeReason = reason;
        this.#lastError = reason;
        await model.close().catch(() => undefined);
      } catch (error) {
        this.#live = undefined;
        this.#lastError = (error as Error).message;
        if (this.#model) await closeWithin(this.#model);
      }
      if (!this.#closed) await backoff();
    }
  }

  private pump(): void {
    if (!this.#live || !this.#sending) return;
    while (this.#tokens >= 1 && this.#pending.size < this.o.maxInFlight) {
      this.#tokens -= 1;
      const queue = this.o.queues[Math.floor(Math.random() * this.o.queues.length)];
      if (queue === undefined) return;
      const message: Outgoing = { id: randomUUID(), queue, seq: 0, attempt: 0 };
      this.#pending.set(message.id, message);
      this.send(message);
    }
  }

  private send(message: Outgoing): void {
    const live = this.#live;
    if (!live) return;
    message.attempt++;
    message.seq = (this.#seqs.get(message.queue) ?? 0) + 1;
    this.#seqs.set(message.queue, message.seq);
    const { attempt, seq } = message;
    const current = (): boolean => this.#live?.generation === live.generation && this.#pending.get(message.id) === message && message.attempt === attempt;
    const options = { persistent: true, messageId: message.id, headers: { 'x-seq': seq, 'x-attempt': attempt } };
    try {
      live.channel.sendToQueue(message.queue, this.#body, options, (error: unknown) => {
        if (!current()) return;
        if (error) {
          setTimeout(() => {
            if (current()) this.send(message);
          }, NACK_RETRY_MS);
          return;
        }
        this.#pending.delete(message.id);
        const confirmed = this.o.journal.confirm({ id: message.id, queue: message.queue, seq, attempt, connection: live.label });
        for (const listener of this.#confirmWaiters) listener(confirmed);
      });
    } catch (error) {
      // The channel closed under us: the reconnect sends it again.
      this.#lastError = (error as Error).message;
    }
  }
}
