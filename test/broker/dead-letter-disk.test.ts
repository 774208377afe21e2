/**
 * Dead-lettering is at-least-once: a dead-lettered message is never in neither its source nor its
 * target. The source is settled only once the copy is on disk; a copy the store refuses leaves its
 * targets and the message dies again; while the disk alarm is on, a copy that would have to be written
 * is not made and the death waits for the alarm to clear. A recording store stands in for the real one.
 */
import { describe, expect, it } from 'vitest';
import { publish, queueOf, text, world, type World } from './fixtures.js';
import { RecordingStore } from './recording-store.js';

const decoder = new TextDecoder();

const PERSISTENT = { deliveryMode: 2 } as const;

function setUp(workArguments: Record<string, unknown> = {}): { w: World; store: RecordingStore } {
  const store = new RecordingStore();
  const w = world({ messageStore: store });
  w.vhost.declareQueue({ queue: 'dead', durable: true }, null);
  w.vhost.declareQueue(
    { queue: 'work', durable: true, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead', ...workArguments } },
    null,
  );
  return { w, store };
}

/** Publishes one persistent message to `work`, on disk, and hands it to a new consumer; its delivery tag. */
function deliverOne(w: World, store: RecordingStore, body: string): { nack: (requeue: boolean) => void } {
  publish(w.vhost, '', 'work', body, PERSISTENT);
  store.sync();
  const { channel } = w.channel();
  const got = channel.get(queueOf(w.vhost, 'work'), false);
  if (!got) throw new Error('test setup: nothing to get');
  return { nack: (requeue) => channel.nack(got.deliveryTag, false, requeue) };
}

function deadBodies(w: World): string[] {
  return queueOf(w.vhost, 'dead').peek(0, 100).map(text);
}

describe('dead-lettering and the message store', () => {
  it('settles the source only once the copy is on disk', () => {
    const { w, store } = setUp();
    deliverOne(w, store, 'm').nack(false);
    expect(store.added.map((m) => decoder.decode(m.body))).toEqual(['m', 'm']);
    expect(store.removed).toEqual([]);

    store.sync();
    expect(store.removed).toEqual(['work:m']);
    expect(deadBodies(w)).toEqual(['m']);
    expect(w.vhost.deadLetterer.pending).toBe(0);
  });

  it('leaves the source unsettled when the copy is refused, and dead-letters it again', () => {
    const { w, store } = setUp();
    deliverOne(w, store, 'm').nack(false);

    store.fail();
    // The refused copy left its target; the source was not settled; a new copy went to the store.
    expect(store.removed).toEqual([]);
    expect(store.added).toHaveLength(3);
    expect(w.vhost.deadLetterer.pending).toBe(1);

    store.sync();
    expect(store.removed).toEqual(['work:m']);
    expect(deadBodies(w)).toEqual(['m']);
    const death = queueOf(w.vhost, 'dead').peek(0, 1)[0]?.message.properties.headers?.['x-death'];
    // One death, not two: the refused copy was never seen.
    expect(death).toEqual([expect.objectContaining({ count: 1, reason: 'rejected', queue: 'work' })]);
  });

  it('holds a death while the disk alarm is on, source unsettled, and dead-letters it when the alarm clears', () => {
    const { w, store } = setUp({ 'x-delivery-limit': 0 });
    const rejected = deliverOne(w, store, 'rejected');
    const returned = deliverOne(w, store, 'returned');
    w.broker.diskAlarm = true;
    rejected.nack(false);
    // Returned with a limit of 0: it dies (delivery_limit).
    returned.nack(true);
    expect(store.added).toHaveLength(2);
    expect(store.removed).toEqual([]);
    expect(deadBodies(w)).toEqual([]);
    expect(queueOf(w.vhost, 'work').messageCount).toBe(0);
    expect(w.vhost.deadLetterer.pending).toBe(2);

    w.broker.diskAlarm = false;
    expect(store.added).toHaveLength(4);
    expect(store.removed).toEqual([]);
    store.sync();
    expect(store.removed).toEqual(['work:rejected', 'work:returned']);
    expect(deadBodies(w)).toEqual(['rejected', 'returned']);
    expect(w.vhost.deadLetterer.pending).toBe(0);
  });

  it('drops a held death whose source queue is deleted before the alarm clears', () => {
    const { w, store } = setUp();
    const one = deliverOne(w, store, 'm');
    w.broker.diskAlarm = true;
    one.nack(false);
    w.vhost.deleteQueue('work');
    w.broker.diskAlarm = false;
    expect(deadBodies(w)).toEqual([]);
    expect(w.vhost.deadLetterer.pending).toBe(0);
  });

  it('does not hold a copy that needs no write while the alarm is on', () => {
    const { w } = setUp();
    w.vhost.declareQueue({ queue: 'transient-work', durable: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': 'dead' } }, null);
    publish(w.vhost, '', 'transient-work', 'm');
    w.broker.diskAlarm = true;
    const { channel } = w.channel();
    const got = channel.get(queueOf(w.vhost, 'transient-work'), false);
    if (!got) throw new Error('test setup: nothing to get');
    channel.nack(got.deliveryTag, false, false);
    expect(deadBodies(w)).toEqual(['m']);
    expect(w.vhost.deadLetterer.pending).toBe(0);
  });
});
