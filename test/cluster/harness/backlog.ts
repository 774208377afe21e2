// Data a fault case needs in place before the fault, beside the load driver's own queues: many durable
// queues, and persistent messages nobody consumes (a backlog to catch up on, or bytes to fill a disk).
// One connection to one node, no reconnects: it runs while the cluster is healthy, and a failure here
// is the test's failure.
import amqplib from 'amqplib';

export interface BacklogMessage {
  readonly queue: string;
  readonly body: Buffer;
}

/** Declares durable queues on `channels` channels at once (each declare waits for its reply). */
export async function declareDurableQueues(amqpUrl: string, queues: readonly string[], channels = 8): Promise<void> {
  const model = await amqplib.connect(amqpUrl);
  try {
    await Promise.all(
      Array.from({ length: channels }, async (_, k) => {
        const channel = await model.createChannel();
        for (let i = k; i < queues.length; i += channels) {
          const queue = queues[i];
          if (queue !== undefined) await channel.assertQueue(queue, { durable: true });
        }
        await channel.close();
      }),
    );
  } finally {
    await model.close().catch(() => undefined);
  }
}

/**
 * Publishes persistent messages on a confirm channel, `window` unconfirmed at most; resolves once every
 * one is confirmed, rejects on a nack or a lost connection.
 */
export async function publishConfirmed(amqpUrl: string, messages: Iterable<BacklogMessage>, window = 256): Promise<number> {
  const model = await amqplib.connect(amqpUrl);
  // What the broker said when it closed the channel or connection: amqplib's own rejection only says "channel closed".
  const said: string[] = [];
  model.on('error', (error: Error) => said.push(`connection: ${error.message}`));
  let count = 0;
  try {
    const channel = await model.createConfirmChannel();
    channel.on('error', (error: Error) => said.push(`channel: ${error.message}`));
    let unconfirmed = 0;
    for (const { queue, body } of messages) {
      channel.sendToQueue(queue, body, { persistent: true });
      count += 1;
      if (++unconfirmed >= window) {
        await channel.waitForConfirms();
        unconfirmed = 0;
      }
    }
    await channel.waitForConfirms();
    await channel.close();
  } catch (error) {
    throw new Error(`publishing the backlog failed after ${count} messages: ${(error as Error).message}${said.length > 0 ? ` (${said.join('; ')})` : ''}`, { cause: error });
  } finally {
    await model.close().catch(() => undefined);
  }
  return count;
}

/** `perQueue` messages of `bodyBytes` for each queue, queue by queue in turn. */
export function* spread(queues: readonly string[], perQueue: number, bodyBytes: number): Generator<BacklogMessage> {
  const body = Buffer.alloc(bodyBytes, 0x62);
  for (let round = 0; round < perQueue; round++) for (const queue of queues) yield { queue, body };
}
