// The failure harness's load: one publisher (confirms, at-least-once) and one consumer (manual acks),
// both reconnecting to any node, journaling everything for the checker. `drain()` stops the load,
// waits for every publish to be confirmed and every queue to be empty, and hands back the journal.
import { backoff, connectWithin, getJson, pick, type Endpoints } from './amqp-endpoints.js';
import type { ConfirmRecord } from './checker.js';
import { Consumer } from './consumer.js';
import { JournalWriter, type DriverJournal } from './journal.js';
import { Publisher } from './publisher.js';

export type { NodeEndpoint, Endpoints } from './amqp-endpoints.js';
export type { DriverJournal, ConnectionRecord } from './journal.js';

export interface LoadDriverOptions {
  readonly endpoints: Endpoints;
  /** Durable queue names (declared by both clients on every connect). */
  readonly queues: readonly string[];
  /** Messages per second, spread at random over the queues. */
  readonly ratePerSec?: number;
  /** Unconfirmed messages at most. */
  readonly maxInFlight?: number;
  readonly prefetch?: number;
  /** AMQP heartbeat: how soon a client notices a stopped node. */
  readonly heartbeatSeconds?: number;
  readonly bodyBytes?: number;
}

async function declareQueues(endpoints: Endpoints, queues: readonly string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (let turn = 0; ; turn++) {
    try {
      const model = await connectWithin(pick(endpoints, turn).amqpUrl, 0, 3000);
      try {
        const channel = await model.createChannel();
        for (const queue of queues) await channel.assertQueue(queue, { durable: true });
        return;
      } finally {
        await model.close().catch(() => undefined);
      }
    } catch (error) {
      if (Date.now() > until) throw new Error(`could not declare the queues in ${timeoutMs} ms: ${(error as Error).message}`);
    }
    await backoff();
  }
}

export class LoadDriver {
  readonly journal = new JournalWriter();
  readonly publisher: Publisher;
  readonly consumer: Consumer;

  private constructor(private readonly o: LoadDriverOptions) {
    const heartbeatSeconds = o.heartbeatSeconds ?? 2;
    this.publisher = new Publisher({
      endpoints: o.endpoints,
      queues: o.queues,
      ratePerSec: o.ratePerSec ?? 500,
      maxInFlight: o.maxInFlight ?? 100,
      heartbeatSeconds,
      bodyBytes: o.bodyBytes ?? 64,
      journal: this.journal,
      firstTurn: 0,
    });
    this.consumer = new Consumer({ endpoints: o.endpoints, queues: o.queues, prefetch: o.prefetch ?? 50, heartbeatSeconds, journal: this.journal, firstTurn: 1 });
  }

  /** Declares the queues (on any node that takes it, within `timeoutMs`), then starts both clients. */
  static async start(o: LoadDriverOptions, timeoutMs = 60_000): Promise<LoadDriver> {
    await declareQueues(o.endpoints, o.queues, timeoutMs);
    const driver = new LoadDriver(o);
    driver.publisher.start();
    driver.consumer.start();
    return driver;
  }

  /** Resolves with the `count`-th confirm that arrived at or after `since` (wall clock ms). */
  confirmsSince(since: number, count = 1, timeoutMs = 30_000): Promise<ConfirmRecord> {
    const already = this.journal.confirms.filter((c) => c.at >= since);
    const hit = already[count - 1];
    if (hit) return Promise.resolve(hit);
    let seen = already.length;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new Error(`${count} confirms since ${new Date(since).toISOString()} not reached in ${timeoutMs} ms (seen ${seen}; unconfirmed ${this.publisher.unconfirmed}; publisher: ${this.publisher.lastError})`));
      }, timeoutMs);
      const unsubscribe = this.publisher.onConfirm((record) => {
        if (record.at < since) return;
        if (++seen >= count) {
          clearTimeout(timer);
          unsubscribe();
          resolve(record);
        }
      });
    });
  }

  /** Messages in the driver's queues (ready + unacked), as the leader counts them. */
  async queued(): Promise<number> {
    let total = 0;
    for (const queue of this.o.queues) {
      const body = await getJson(this.o.endpoints, `/api/queues/%2F/${encodeURIComponent(queue)}`);
      const messages = typeof body === 'object' && body !== null && 'messages' in body ? Number(body.messages) : NaN;
      if (!Number.isFinite(messages)) throw new Error(`GET /api/queues/%2F/${queue}: no message count in ${JSON.stringify(body)}`);
      total += messages;
    }
    return total;
  }

  /** Stops publishing, waits until all is confirmed and consumed, closes both clients. */
  async drain(timeoutMs = 60_000): Promise<DriverJournal> {
    const until = Date.now() + timeoutMs;
    this.publisher.stopSending();
    try {
      await this.publisher.settled(timeoutMs);
      let last = '';
      for (;;) {
        try {
          if ((await this.queued()) === 0) break;
          last = 'queues not empty';
        } catch (error) {
          last = (error as Error).message;
        }
        if (Date.now() > until) throw new Error(`drain: not empty after ${timeoutMs} ms (${last}; consumer: ${this.consumer.lastError})`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await this.close();
    }
    return this.journal.snapshot();
  }

  async close(): Promise<void> {
    await Promise.all([this.publisher.close(), this.consumer.close()]);
  }
}
