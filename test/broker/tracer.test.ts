/**
 * The vhost's tracer, in the pure domain with a fake clock: which events each step of a message's path
 * produces, in what order, with what, and that nothing is built while nobody listens.
 */
import { describe, expect, it, vi } from 'vitest';
import type { TraceEvent, TraceListener, TraceOrigin } from '../../src/broker/trace-event.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { bytes, consumerOptions, publish, queueOf, world, type World } from './fixtures.js';

const ORIGIN: TraceOrigin = { connection: 'conn-1', connectionName: 'orders-service', channel: 3, user: 'alice', protocol: 'amqp091' };

class Recorder implements TraceListener {
  readonly events: TraceEvent[] = [];
  closedWith: string | undefined;
  event(event: TraceEvent): void {
    this.events.push(event);
  }
  closed(reason: string): void {
    this.closedWith = reason;
  }
  kinds(): string[] {
    return this.events.map((event) => event.kind);
  }
}

function setup(): World & { clock: FakeClock; recorder: Recorder; stop: () => void } {
  const clock = new FakeClock(1_800_000_000_000);
  const w = world({ clock });
  const recorder = new Recorder();
  const stop = w.vhost.tracer.subscribe(recorder);
  return { ...w, clock, recorder, stop };
}

describe('Tracer', () => {
  it('is inactive until someone listens, and again once the last one leaves', () => {
    const w = world();
    const tracer = w.vhost.tracer;
    expect(tracer.active).toBe(false);
    const first = tracer.subscribe(new Recorder());
    const second = tracer.subscribe(new Recorder());
    expect(tracer.active).toBe(true);
    first();
    expect(tracer.active).toBe(true);
    second();
    expect(tracer.active).toBe(false);
    tracer.firehoseOn = true;
    expect(tracer.active).toBe(true);
    tracer.firehoseOn = false;
    expect(tracer.active).toBe(false);
  });

  it('follows the vhost tracing flag, as a definitions replay sets it', () => {
    const w = world();
    w.vhost.updateMetadata({ tracing: true });
    expect(w.vhost.tracer.firehoseOn).toBe(true);
    w.vhost.updateMetadata({ tracing: false });
    expect(w.vhost.tracer.firehoseOn).toBe(false);
    expect(w.vhost.tracer.active).toBe(false);
  });

  it('builds no event while inactive: the hot paths stop at the flag', () => {
    const w = world();
    w.vhost.declareQueue({ queue: 'q' }, null);
    const stop = w.vhost.tracer.subscribe(new Recorder());
    stop();
    const tracer = w.vhost.tracer;
    const calls = (['published', 'delivered', 'settled', 'died', 'deadLettered', 'unrouted'] as const).map((method) => vi.spyOn(tracer, method));
    publish(w.vhost, '', 'q', 'quiet');
    publish(w.vhost, '', 'q', 'quiet');
    const { channel, sink } = w.channel();
    const got = channel.get(queueOf(w.vhost, 'q'), false);
    channel.ack(got?.deliveryTag ?? 0, false);
    channel.consume(queueOf(w.vhost, 'q'), consumerOptions('c'));
    channel.nack(sink.last().deliveryTag, false, false);
    for (const call of calls) expect(call).not.toHaveBeenCalled();
  });

  it('reports publish, routing, delivery and ack with the time, the origin and one trace id', () => {
    const w = setup();
    w.vhost.declareExchange({ exchange: 'x', type: 'fanout' });
    w.vhost.declareQueue({ queue: 'a' }, null);
    w.vhost.declareQueue({ queue: 'b' }, null);
    w.vhost.bind({ source: 'x', destination: 'a', destinationKind: 'queue' });
    w.vhost.bind({ source: 'x', destination: 'b', destinationKind: 'queue' });
    const { channel, sink } = w.channel();
    channel.origin = { connection: 'conn-2', connectionName: null, channel: 1, user: 'bob', protocol: 'websocket' };
    channel.consume(queueOf(w.vhost, 'a'), consumerOptions('c1'));
    w.vhost.publish({ exchange: 'x', routingKey: 'rk', properties: { headers: { CC: ['cc1'] } }, body: bytes('hi') }, null, ORIGIN);
    w.clock.advance(250);
    channel.ack(sink.last().deliveryTag, false);

    expect(w.recorder.kinds()).toEqual(['published', 'routed', 'delivered', 'acked']);
    const [published, routed, delivered, acked] = w.recorder.events as [TraceEvent, TraceEvent, TraceEvent, TraceEvent];
    expect(new Set(w.recorder.events.map((e) => e.traceId)).size).toBe(1);
    expect(published).toMatchObject({ at: 1_800_000_000_000, origin: ORIGIN, routingKeys: ['rk', 'cc1'], queues: ['a', 'b'] });
    expect(published.content?.exchange).toBe('x');
    expect(routed).toMatchObject({ queues: ['a', 'b'] });
    expect(delivered).toMatchObject({ queue: 'a', consumerTag: 'c1', redelivered: false, deliveryCount: 1, origin: channel.origin });
    expect(acked).toMatchObject({ kind: 'acked', queue: 'a', at: 1_800_000_000_250 });
  });

  it('counts deliveries across requeues, and tells a nack from a reject', () => {
    const w = setup();
    w.vhost.declareQueue({ queue: 'q' }, null);
    const { channel, sink } = w.channel();
    publish(w.vhost, '', 'q', 'again');
    const queue = queueOf(w.vhost, 'q');
    const first = channel.get(queue, false);
    channel.nack(first?.deliveryTag ?? 0, false, true);
    const second = channel.get(queue, false);
    channel.nack(second?.deliveryTag ?? 0, false, false, 'rejected');
    expect(sink.deliveries).toEqual([]);
    const kinds = w.recorder.events.map((e) => ('requeue' in e ? `${e.kind}:${e.requeue}` : e.kind));
    expect(kinds).toEqual(['published', 'routed', 'delivered', 'nacked:true', 'delivered', 'rejected:false']);
    const deliveries = w.recorder.events.filter((e) => e.kind === 'delivered');
    expect(deliveries.map((e) => (e.kind === 'delivered' ? [e.consumerTag, e.redelivered, e.deliveryCount] : []))).toEqual([
      [null, false, 1],
      [null, true, 2],
    ]);
  });

  it('reports an expiry, then the dead-lettering, then the copy routed with a new id from the original', () => {
    const w = setup();
    w.vhost.declareExchange({ exchange: 'dlx', type: 'fanout' });
    w.vhost.declareQueue({ queue: 'dead' }, null);
    w.vhost.bind({ source: 'dlx', destination: 'dead', destinationKind: 'queue' });
    w.vhost.declareQueue({ queue: 'q', arguments: { 'x-message-ttl': 1000, 'x-dead-letter-exchange': 'dlx' } }, null);
    publish(w.vhost, '', 'q', 'old');
    w.clock.advance(1000);
    expect(w.recorder.kinds()).toEqual(['published', 'routed', 'expired', 'dead-lettered', 'routed']);
    const [published, , expired, dead, copy] = w.recorder.events as [TraceEvent, TraceEvent, TraceEvent, TraceEvent, TraceEvent];
    expect(expired).toMatchObject({ queue: 'q', traceId: published.traceId, at: 1_800_000_001_000 });
    expect(dead).toMatchObject({ queue: 'q', reason: 'expired', deadLetterExchange: 'dlx', traceId: published.traceId });
    expect(copy).toMatchObject({ kind: 'routed', queues: ['dead'], fromTraceId: published.traceId });
    expect(copy.traceId).not.toBe(published.traceId);
    expect(copy.content?.exchange).toBe('dlx');
  });

  it('reports a rejected message dead-lettered, and one whose dead-letter exchange is missing as dropped there', () => {
    const w = setup();
    w.vhost.declareQueue({ queue: 'q', arguments: { 'x-dead-letter-exchange': 'missing' } }, null);
    publish(w.vhost, '', 'q', 'doomed');
    const { channel } = w.channel();
    const got = channel.get(queueOf(w.vhost, 'q'), false);
    channel.nack(got?.deliveryTag ?? 0, false, false, 'rejected');
    expect(w.recorder.kinds()).toEqual(['published', 'routed', 'delivered', 'rejected', 'dead-lettered']);
    expect(w.recorder.events.at(-1)).toMatchObject({ queue: 'q', reason: 'rejected', deadLetterExchange: null });
  });

  it('reports a publish that no queue takes with no queues and no routed event', () => {
    const w = setup();
    publish(w.vhost, 'amq.direct', 'nowhere', 'lost');
    expect(w.recorder.events).toEqual([expect.objectContaining({ kind: 'published', queues: [] })]);
  });

  it('tells its listeners when the vhost is deleted, and goes inactive', () => {
    const w = world();
    w.broker.addVhost('other');
    const vhost = w.broker.vhost('other');
    const recorder = new Recorder();
    vhost.tracer.subscribe(recorder);
    w.broker.deleteVhost('other');
    expect(recorder.closedWith).toBe('vhost deleted');
    expect(vhost.tracer.active).toBe(false);
  });
});

describe('Firehose', () => {
  it('publishes publish.<exchange> and deliver.<queue> copies to amq.rabbitmq.trace, never tracing its own', () => {
    const w = world({ clock: new FakeClock() });
    w.vhost.updateMetadata({ tracing: true });
    w.vhost.declareQueue({ queue: 'trace' }, null);
    w.vhost.bind({ source: 'amq.rabbitmq.trace', destination: 'trace', destinationKind: 'queue', routingKey: '#' });
    w.vhost.declareQueue({ queue: 'q' }, null);
    const { channel } = w.channel();
    channel.origin = { connection: 'c', connectionName: null, channel: 7, user: 'u', protocol: 'amqp091' };
    w.vhost.publish({ exchange: '', routingKey: 'q', properties: { priority: 3, headers: { h: 1 } }, body: bytes('payload') }, null, ORIGIN);
    channel.get(queueOf(w.vhost, 'q'), true);
    // Taking the trace messages is not traced in turn.
    const { channel: reader } = w.channel();
    const traced = [reader.get(queueOf(w.vhost, 'trace'), true), reader.get(queueOf(w.vhost, 'trace'), true), reader.get(queueOf(w.vhost, 'trace'), true)];
    expect(traced[2]).toBeUndefined();
    const [pub, del] = traced.map((got) => got?.entry.message.content);
    expect(pub?.routingKey).toBe('publish.');
    expect(new TextDecoder().decode(pub?.body)).toBe('payload');
    expect(pub?.properties).toEqual({
      headers: {
        exchange_name: '',
        routing_keys: ['q'],
        properties: { priority: 3, headers: { h: 1 } },
        node: expect.any(String),
        vhost: '/',
        connection: 'conn-1',
        channel: 3,
        user: 'alice',
        routed_queues: ['q'],
      },
    });
    expect(del?.routingKey).toBe('deliver.q');
    expect(del?.properties.headers).toMatchObject({ redelivered: 0, connection: 'c', channel: 7, user: 'u', vhost: '/' });
  });
});

describe('Tracer and a failing listener', () => {
  it('drops a listener that throws, and the delivery goes on', () => {
    const w = world();
    w.vhost.declareQueue({ queue: 'q' }, null);
    const good = new Recorder();
    let told: string | undefined;
    w.vhost.tracer.subscribe({
      event() {
        throw new Error('broken watcher');
      },
      closed(reason) {
        told = reason;
      },
    });
    w.vhost.tracer.subscribe(good);
    const { channel, sink } = w.channel();
    channel.consume(queueOf(w.vhost, 'q'), consumerOptions('c'));
    publish(w.vhost, '', 'q', 'still delivered');
    expect(sink.bodies()).toEqual(['still delivered']);
    expect(w.vhost.tracer.listenerCount).toBe(1);
    expect(good.kinds()).toEqual(['published', 'routed', 'delivered']);
    expect(told).toBe('trace listener failed');
  });
});

describe('Tracer: deaths without a dead-letter exchange', () => {
  it('shows a message pushed out by a length limit as dead-lettered to no exchange', () => {
    const w = setup();
    w.vhost.declareQueue({ queue: 'short', arguments: { 'x-max-length': 1 } }, null);
    publish(w.vhost, '', 'short', 'first');
    publish(w.vhost, '', 'short', 'second');
    const deaths = w.recorder.events.filter((e) => e.kind === 'dead-lettered');
    expect(deaths).toEqual([expect.objectContaining({ queue: 'short', reason: 'maxlen', deadLetterExchange: null, traceId: w.recorder.events[0]?.traceId })]);
  });

  it('shows a message past its delivery limit as dead-lettered to no exchange', () => {
    const w = setup();
    w.vhost.declareQueue({ queue: 'limited', arguments: { 'x-delivery-limit': 0 } }, null);
    publish(w.vhost, '', 'limited', 'once');
    const { channel } = w.channel();
    const got = channel.get(queueOf(w.vhost, 'limited'), false);
    channel.nack(got?.deliveryTag ?? 0, false, true);
    expect(w.recorder.kinds()).toEqual(['published', 'routed', 'delivered', 'nacked', 'dead-lettered']);
    expect(w.recorder.events.at(-1)).toMatchObject({ reason: 'delivery_limit', deadLetterExchange: null });
  });
});

describe('Tracer: a delayed exchange', () => {
  it('shows the publish held, then the routing at its due time from the held message', () => {
    const w = setup();
    w.vhost.declareExchange({ exchange: 'later', type: 'x-delayed-message', arguments: { 'x-delayed-type': 'direct' } });
    w.vhost.declareQueue({ queue: 'q' }, null);
    w.vhost.bind({ source: 'later', destination: 'q', destinationKind: 'queue', routingKey: 'k' });
    publish(w.vhost, 'later', 'k', 'wait', { headers: { 'x-delay': 5000 } });
    publish(w.vhost, 'later', 'nowhere', 'lost', { headers: { 'x-delay': 5000 } });
    expect(w.recorder.kinds()).toEqual(['published', 'published']);
    expect(w.recorder.events[0]).toMatchObject({ queues: [] });
    w.clock.advance(5000);
    expect(w.recorder.kinds()).toEqual(['published', 'published', 'routed', 'unroutable']);
    const [held, heldLost, routed, lost] = w.recorder.events as [TraceEvent, TraceEvent, TraceEvent, TraceEvent];
    expect(routed).toMatchObject({ queues: ['q'], fromTraceId: held.traceId });
    expect(routed.traceId).not.toBe(held.traceId);
    expect(lost).toMatchObject({ fromTraceId: heldLost.traceId });
  });
});
