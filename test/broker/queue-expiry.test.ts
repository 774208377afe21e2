import { beforeEach, describe, expect, it } from 'vitest';
import type { Channel } from '../../src/broker/channel.js';
import type { DefinitionChange } from '../../src/broker/persistence.js';
import type { VHost } from '../../src/broker/vhost.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { consumerOptions, fill, queueOf, world, type World } from './fixtures.js';

const EXPIRES = 10_000;

let clock: FakeClock;
let changes: DefinitionChange[];
let w: World;
let vhost: VHost;

beforeEach(() => {
  clock = new FakeClock();
  changes = [];
  w = world({ clock, definitions: { definitionChanged: (change) => changes.push(change) } });
  vhost = w.vhost;
});

function declare(queue: string, extra: { durable?: boolean; exclusive?: boolean; autoDelete?: boolean } = {}, channel: Channel | null = null): void {
  vhost.declareQueue({ queue, ...extra, arguments: { 'x-expires': EXPIRES } }, channel);
}

const exists = (name: string): boolean => vhost.queues.has(name);

describe('x-expires', () => {
  it('deletes a queue left unused for its period, not before', () => {
    declare('q');
    clock.advance(EXPIRES - 1);
    expect(exists('q')).toBe(true);
    clock.advance(1);
    expect(exists('q')).toBe(false);
    expect(clock.pending).toBe(0);
  });

  it('leaves a queue without x-expires alone and schedules nothing for it', () => {
    vhost.declareQueue({ queue: 'plain' }, null);
    expect(clock.pending).toBe(0);
    clock.advance(10 * EXPIRES);
    expect(exists('plain')).toBe(true);
  });

  it.each([
    ['an empty basic.get', (): void => void w.channel().channel.get(queueOf(vhost, 'q'), true)],
    ['a basic.get that finds a message', (): void => {
      fill(vhost, 'q', ['m']);
      w.channel().channel.get(queueOf(vhost, 'q'), true);
    }],
    ['a redeclare', (): void => declare('q')],
    ['a passive declare', (): void => void vhost.declareQueue({ queue: 'q', passive: true }, null)],
    ['a consumer that comes and goes', (): void => {
      const { channel } = w.channel();
      channel.consume(queueOf(vhost, 'q'), consumerOptions('c'));
      channel.cancel('c');
    }],
  ])('%s starts the period again', (_use, use) => {
    declare('q');
    clock.advance(EXPIRES - 100);
    use();
    clock.advance(EXPIRES - 1);
    expect(exists('q')).toBe(true);
    clock.advance(1);
    expect(exists('q')).toBe(false);
  });

  it('does not count a failed (inequivalent) redeclare as a use', () => {
    declare('q');
    clock.advance(EXPIRES - 100);
    expect(() => vhost.declareQueue({ queue: 'q', durable: true, arguments: { 'x-expires': EXPIRES } }, null)).toThrow(/inequivalent/);
    clock.advance(100);
    expect(exists('q')).toBe(false);
  });

  it('does not count a publish or a purge as a use', () => {
    declare('q');
    clock.advance(EXPIRES / 2);
    fill(vhost, 'q', ['a', 'b']);
    vhost.purgeQueue('q', null);
    fill(vhost, 'q', ['c']);
    clock.advance(EXPIRES / 2);
    expect(exists('q')).toBe(false);
  });

  it('is kept alive by a consumer, and counts down again from when the last consumer leaves', () => {
    declare('q');
    const first = w.channel().channel;
    const second = w.channel().channel;
    first.consume(queueOf(vhost, 'q'), consumerOptions('a'));
    second.consume(queueOf(vhost, 'q'), consumerOptions('b'));
    clock.advance(5 * EXPIRES);
    expect(exists('q')).toBe(true);
    first.cancel('a');
    // Off the timer's beat, so that only the last consumer leaving can explain a full period after it.
    clock.advance(2 * EXPIRES + 300);
    expect(exists('q')).toBe(true);
    // A closing connection is a consumer leaving too.
    second.close();
    clock.advance(EXPIRES - 1);
    expect(exists('q')).toBe(true);
    clock.advance(1);
    expect(exists('q')).toBe(false);
  });

  it('deletes its messages with it, dead-lettering none of them', () => {
    vhost.declareExchange({ exchange: 'dlx', type: 'fanout' });
    vhost.declareQueue({ queue: 'dead' }, null);
    vhost.bind({ source: 'dlx', destination: 'dead', destinationKind: 'queue' });
    vhost.declareQueue({ queue: 'q', arguments: { 'x-expires': EXPIRES, 'x-dead-letter-exchange': 'dlx' } }, null);
    fill(vhost, 'q', ['one', 'two']);
    clock.advance(EXPIRES);
    expect(exists('q')).toBe(false);
    expect(w.observer.settledEntries).toEqual([
      { queue: 'q', body: 'one' },
      { queue: 'q', body: 'two' },
    ]);
    expect(queueOf(vhost, 'dead').messageCount).toBe(0);
  });

  it('goes through the one delete path: bindings removed, the durable deletion told', () => {
    vhost.declareExchange({ exchange: 'x', type: 'direct', durable: true });
    declare('q', { durable: true });
    vhost.bind({ source: 'x', destination: 'q', destinationKind: 'queue', routingKey: 'k' });
    changes.length = 0;
    clock.advance(EXPIRES);
    expect(vhost.bindings()).toEqual([]);
    expect(changes.map((c) => `${c.kind}${'deleted' in c && c.deleted ? ' deleted' : ''}`)).toEqual(['binding deleted', 'queue deleted']);
  });

  it('stops the timer of a queue deleted by other means', () => {
    declare('q');
    expect(clock.pending).toBe(1);
    vhost.deleteQueue('q');
    expect(clock.pending).toBe(0);
    // A queue of the same name declared later has a countdown of its own.
    clock.advance(EXPIRES / 2);
    declare('q');
    clock.advance(EXPIRES / 2);
    expect(exists('q')).toBe(true);
    clock.advance(EXPIRES / 2);
    expect(exists('q')).toBe(false);
  });

  it('re-arms one timer for what is left rather than one per use', () => {
    declare('q');
    const { channel } = w.channel();
    for (let i = 0; i < 100; i++) {
      clock.advance(10);
      channel.get(queueOf(vhost, 'q'), true);
    }
    expect(clock.pending).toBe(1);
  });

  it('expires an exclusive queue while its connection is still open', () => {
    const { channel } = w.channel();
    declare('mine', { exclusive: true }, channel);
    clock.advance(EXPIRES);
    expect(exists('mine')).toBe(false);
    // Its connection closing later has nothing left to delete.
    channel.close();
    expect(clock.pending).toBe(0);
  });

  it('lets an auto-delete queue expire before it ever had a consumer', () => {
    declare('q', { autoDelete: true });
    clock.advance(EXPIRES);
    expect(exists('q')).toBe(false);
  });

  it('expires queues of every vhost, and a deleted vhost leaves no timer behind', () => {
    const other = w.broker.addVhost('other');
    other.declareQueue({ queue: 'q', arguments: { 'x-expires': EXPIRES } }, null);
    other.declareQueue({ queue: 'later', arguments: { 'x-expires': 2 * EXPIRES } }, null);
    clock.advance(EXPIRES);
    expect(other.queues.has('q')).toBe(false);
    w.broker.deleteVhost('other');
    expect(clock.pending).toBe(0);
  });
});
