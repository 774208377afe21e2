/**
 * The live trace stream, `GET /api/trace/{vhost}/stream`, against a real server: traffic from the JSON
 * WebSocket client and amqplib, read back as JSON lines over a real socket.
 */
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, createUser, unique, type Api } from './support.js';
import { eventsOf, openTrace, type TraceLine } from './trace-support.js';

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(async () => {
  await warren.stop();
});

const isEvent = (kind: string, extra: (line: TraceLine) => boolean = () => true) => (line: TraceLine): boolean =>
  line.type === 'event' && line.event === kind && extra(line);

describe('trace stream', () => {
  it('shows a JSON client message published, routed, delivered and acked, in order, with who did it', async () => {
    const queue = unique('trace-json');
    const conn = await warren.connect();
    await conn.queueDeclare({ queue });
    const reader = await openTrace(warren.url, `/api/trace/%2F/stream?queue=${queue}`);
    expect(reader.status).toBe(200);
    expect(reader.headers['content-type']).toBe('application/x-ndjson');
    const hello = await reader.waitFor((line) => line.type === 'hello');
    expect(hello).toEqual({ type: 'hello', vhost: '/', stream: expect.stringMatching(/^[0-9a-f-]{36}$/), filter: { queue, max: 1000 } });

    await conn.consume({ queue }, (message) => message.ack());
    await conn.publish({ routingKey: queue, body: 'hello trace', properties: { headers: { k: 'v' }, contentType: 'text/plain' } });
    await reader.waitFor(isEvent('acked'), 'acked');
    const events = eventsOf(reader);
    expect(events.map((e) => e.event)).toEqual(['published', 'routed', 'delivered', 'acked']);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    const [published, routed, delivered, acked] = events as [TraceLine, TraceLine, TraceLine, TraceLine];
    expect(new Set(events.map((e) => e.trace_id)).size).toBe(1);
    expect(published).toMatchObject({
      exchange: '',
      routing_keys: [queue],
      properties: { headers: { k: 'v' }, content_type: 'text/plain' },
      payload: 'hello trace',
      payload_encoding: 'string',
      payload_bytes: 11,
      user: 'guest',
      protocol: 'websocket',
      channel: 1,
      queues: [queue],
    });
    expect(typeof published.connection).toBe('string');
    expect(published.connection_name).toBeNull();
    expect(Date.parse(published.at as string)).not.toBeNaN();
    expect(routed.queues).toEqual([queue]);
    expect(delivered).toMatchObject({ queue, redelivered: false, delivery_count: 1, user: 'guest', protocol: 'websocket', connection: published.connection });
    expect(typeof delivered.consumer_tag).toBe('string');
    expect(acked).toMatchObject({ queue });
    reader.close();
  });

  it('shows amqplib traffic with its connection, channel number and rejects, nacks and redeliveries', async () => {
    const queue = unique('trace-amqp');
    const connection = await amqp.connect(warren.amqpUrl, { clientProperties: { connection_name: 'orders-service' } });
    try {
      await connection.createChannel();
      const channel = await connection.createChannel();
      await channel.assertQueue(queue, { exclusive: true });
      const reader = await openTrace(warren.url, `/api/trace/%2F/stream?queue=${queue}`);
      await reader.waitFor((line) => line.type === 'hello');
      channel.publish('', queue, Buffer.from([0xff, 0x00, 0x01]), { messageId: 'm1' });
      let first = true;
      await channel.consume(queue, (message) => {
        if (!message) return;
        if (first) {
          first = false;
          channel.nack(message, false, true);
        } else channel.reject(message, false);
      });
      await reader.waitFor(isEvent('rejected'), 'rejected');
      const events = eventsOf(reader);
      expect(events.map((e) => e.event)).toEqual(['published', 'routed', 'delivered', 'nacked', 'delivered', 'rejected']);
      const [published, , first1, nacked, second, rejected] = events as TraceLine[] as [TraceLine, TraceLine, TraceLine, TraceLine, TraceLine, TraceLine];
      expect(published).toMatchObject({ protocol: 'amqp091', connection_name: 'orders-service', channel: 2, user: 'guest', payload: '/wAB', payload_encoding: 'base64', properties: { message_id: 'm1' } });
      expect(first1).toMatchObject({ redelivered: false, delivery_count: 1, channel: 2 });
      expect(nacked).toMatchObject({ requeue: true, queue });
      expect(second).toMatchObject({ redelivered: true, delivery_count: 2 });
      expect(rejected).toMatchObject({ requeue: false, queue });
      reader.close();
    } finally {
      await connection.close();
    }
  });
});

describe('trace stream: the JSON client settling', () => {
  it('shows a JSON reject as rejected and a nack as nacked, and a second watcher sees the same with its own numbering', async () => {
    const queue = unique('trace-json-settle');
    const conn = await warren.connect();
    await conn.queueDeclare({ queue });
    const first = await openTrace(warren.url, `/api/trace/%2F/stream?queue=${queue}`);
    await first.waitFor((line) => line.type === 'hello');
    await conn.publish({ routingKey: queue, body: 'a' });
    const second = await openTrace(warren.url, `/api/trace/%2F/stream?queue=${queue}`);
    await second.waitFor((line) => line.type === 'hello');
    const got = await conn.get({ queue, noAck: false });
    got?.nack({ requeue: true });
    const again = await conn.get({ queue, noAck: false });
    again?.reject(false);
    for (const reader of [first, second]) await reader.waitFor(isEvent('rejected'), 'rejected');
    expect(eventsOf(first).map((e) => e.event)).toEqual(['published', 'routed', 'delivered', 'nacked', 'delivered', 'rejected']);
    // The second began after the publish: it picks the message up at its first event in the queue.
    expect(eventsOf(second).map((e) => `${e.seq}:${e.event}`)).toEqual(['1:delivered', '2:nacked', '3:delivered', '4:rejected']);
    expect(eventsOf(second, 'rejected')[0]).toMatchObject({ requeue: false, protocol: 'websocket', user: 'guest', payload: 'a' });
    first.close();
    second.close();
  });
});

describe('trace stream: filters', () => {
  it('chooses messages by exchange, routing-key glob and header, and follows a chosen one', async () => {
    const exchange = unique('trace-x');
    const queue = unique('trace-fq');
    const conn = await warren.connect();
    await conn.exchangeDeclare({ exchange, type: 'topic' });
    await conn.queueDeclare({ queue });
    await conn.queueBind({ queue, exchange, routingKey: '#' });
    const byKey = await openTrace(warren.url, `/api/trace/%2F/stream?exchange=${exchange}&routing_key=order.*.eu`);
    const byHeader = await openTrace(warren.url, `/api/trace/%2F/stream?header=${encodeURIComponent('tenant=a=1')}`);
    await byKey.waitFor((line) => line.type === 'hello');
    await byHeader.waitFor((line) => line.type === 'hello');
    await conn.publish({ exchange, routingKey: 'order.42.us', body: 'no' });
    await conn.publish({ exchange, routingKey: 'order.42.eu', body: 'yes', properties: { headers: { tenant: 'a=1' } } });
    await conn.publish({ routingKey: queue, body: 'other exchange', properties: { headers: { tenant: 'b' } } });
    const got = await conn.get({ queue, noAck: false });
    expect(got?.routingKey).toBe('order.42.us');
    got?.ack();
    await conn.get({ queue, noAck: true });
    await byKey.waitFor(isEvent('delivered', (line) => line.payload === 'yes'), 'delivery of yes');
    await byHeader.waitFor(isEvent('delivered', (line) => line.payload === 'yes'), 'delivery of yes');
    for (const reader of [byKey, byHeader]) {
      expect(eventsOf(reader).map((e) => `${e.event}:${e.payload}`)).toEqual(['published:yes', 'routed:yes', 'delivered:yes']);
      const get = eventsOf(reader, 'delivered')[0];
      expect(get).toMatchObject({ consumer_tag: null, queue });
      reader.close();
    }
  });

  it('refuses bad filters with 400, a missing vhost with 404, a non-administrator with 403', async () => {
    const bad = await api('GET', '/api/trace/%2F/stream?header=novalue');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: 'bad_request' });
    expect((await api('GET', '/api/trace/%2F/stream?max=0')).status).toBe(400);
    expect((await api('GET', '/api/trace/%2F/stream?max=10001')).status).toBe(400);
    expect((await api('GET', '/api/trace/%2F/stream?max=1.5')).status).toBe(400);
    expect((await api('GET', `/api/trace/%2F/stream?queue=${'q'.repeat(256)}`)).status).toBe(400);
    const missing = await api('GET', '/api/trace/nowhere/stream');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'Object Not Found' });
    const monitor = await createUser(api, unique('trace-monitor'), 'monitoring');
    const refused = await api('GET', '/api/trace/%2F/stream', { as: monitor });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error: 'not_authorised', reason: 'Not administrator user' });
    expect((await api('GET', '/api/trace/%2F/stream', { as: null })).status).toBe(401);
  });
});

describe('trace stream: its end', () => {
  it('ends with a capped line after max events', async () => {
    const queue = unique('trace-cap');
    const conn = await warren.connect();
    await conn.queueDeclare({ queue });
    const reader = await openTrace(warren.url, `/api/trace/%2F/stream?queue=${queue}&max=3`);
    await reader.waitFor((line) => line.type === 'hello');
    for (let i = 0; i < 5; i++) await conn.publish({ routingKey: queue, body: `m${i}` });
    await reader.ended;
    expect(reader.lines.map((line) => line.type)).toEqual(['hello', 'event', 'event', 'event', 'capped']);
    expect(reader.lines.at(-1)).toEqual({ type: 'capped', events: 3 });
  });

  it('stops watching when the client hangs up: the tracer goes idle again', async () => {
    const vhost = warren.server.broker.vhost('/');
    expect(vhost.tracer.active).toBe(false);
    const reader = await openTrace(warren.url, '/api/trace/%2F/stream');
    await reader.waitFor((line) => line.type === 'hello');
    expect(vhost.tracer.listenerCount).toBe(1);
    expect(vhost.tracer.active).toBe(true);
    reader.close();
    await waitUntil(() => vhost.tracer.listenerCount === 0);
    expect(vhost.tracer.active).toBe(false);
  });

  it('closes the stream when its vhost is deleted', async () => {
    const name = unique('trace-vh');
    expect((await api('PUT', `/api/vhosts/${name}`)).status).toBe(201);
    const reader = await openTrace(warren.url, `/api/trace/${name}/stream`);
    await reader.waitFor((line) => line.type === 'hello');
    expect((await api('DELETE', `/api/vhosts/${name}`)).status).toBe(204);
    await reader.ended;
    expect(reader.lines.at(-1)).toEqual({ type: 'closed', reason: 'vhost deleted' });
  });
});

describe('trace stream: its watcher', () => {
  it('ends when the watching user is deleted or loses the administrator tag', async () => {
    const deleted = await createUser(api, unique('trace-admin'), 'administrator');
    const demoted = await createUser(api, unique('trace-admin'), 'administrator');
    const first = await openTrace(warren.url, '/api/trace/%2F/stream', deleted);
    const second = await openTrace(warren.url, '/api/trace/%2F/stream', demoted);
    await first.waitFor((line) => line.type === 'hello');
    await second.waitFor((line) => line.type === 'hello');
    expect((await api('PUT', `/api/users/${demoted[0]}`, { body: { password: demoted[1], tags: 'monitoring' } })).status).toBe(204);
    await second.ended;
    expect(second.lines.at(-1)).toEqual({ type: 'closed', reason: 'user is no longer an administrator' });
    expect(first.lines.some((line) => line.type === 'closed')).toBe(false);
    expect((await api('DELETE', `/api/users/${deleted[0]}`)).status).toBe(204);
    await first.ended;
    expect(first.lines.at(-1)).toEqual({ type: 'closed', reason: 'user deleted' });
  });
});

describe('trace stream: server shutdown', () => {
  it('ends open streams with a closed line, and does not hold the server open', async () => {
    const own = await startWarren();
    const reader = await openTrace(own.url, '/api/trace/%2F/stream');
    await reader.waitFor((line) => line.type === 'hello');
    await own.stop();
    await reader.ended;
    expect(reader.lines.at(-1)).toEqual({ type: 'closed', reason: 'server closing' });
  });
});

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}

describe('trace stream: a reader that falls behind', () => {
  it('drops events past the high-water mark and says how many in a gap line once it drains', async () => {
    const queue = unique('trace-gap');
    const conn = await warren.connect();
    await conn.queueDeclare({ queue });
    const reader = await openTrace(warren.url, `/api/trace/%2F/stream?queue=${queue}&max=10000`);
    await reader.waitFor((line) => line.type === 'hello');
    reader.pause();
    // Each event line repeats the properties: 200 KB of header makes every line that big.
    const big = 'h'.repeat(200 * 1024);
    for (let i = 0; i < 150; i++) await conn.publish({ routingKey: queue, body: `m${i}`, properties: { headers: { big } } });
    reader.resume();
    const gap = await reader.waitFor((line) => line.type === 'gap', 'a gap line');
    expect(gap.missed).toBeGreaterThan(0);
    const before = eventsOf(reader).length;
    expect(before + (gap.missed as number)).toBe(300);
    await conn.publish({ routingKey: queue, body: 'after', properties: {} });
    const after = await reader.waitFor(isEvent('routed', (line) => line.payload === 'after'), 'the event after the gap');
    expect(after.seq).toBe(302);
    expect(reader.lines.indexOf(gap)).toBeLessThan(reader.lines.indexOf(after));
    await conn.queueDelete({ queue });
    reader.close();
  });
});

describe('trace stream: paused by its reader', () => {
  it('sends nothing while paused, counts what it held back, and says how many in a gap line on resume', async () => {
    const queue = unique('trace-paused');
    const conn = await warren.connect();
    await conn.queueDeclare({ queue });
    const reader = await openTrace(warren.url, `/api/trace/%2F/stream?queue=${queue}`);
    const hello = await reader.waitFor((line) => line.type === 'hello');
    const stream = `/api/trace/%2F/stream/${String(hello.stream)}`;
    await conn.publish({ routingKey: queue, body: 'before' });
    await reader.waitFor(isEvent('routed', (line) => line.payload === 'before'));

    expect((await api('PUT', stream, { body: { paused: true } })).status).toBe(204);
    for (let i = 0; i < 3; i++) await conn.publish({ routingKey: queue, body: `while paused ${i}` });
    // The stream is still open and chose the events; it sent none of them.
    await conn.publish({ routingKey: queue, body: 'probe' });
    expect((await api('PUT', stream, { body: { paused: false } })).status).toBe(204);
    const gap = await reader.waitFor((line) => line.type === 'gap', 'a gap line');
    expect(gap.missed).toBe(8);
    expect(eventsOf(reader).map((line) => line.payload)).toEqual(['before', 'before']);

    await conn.publish({ routingKey: queue, body: 'after' });
    const after = await reader.waitFor(isEvent('routed', (line) => line.payload === 'after'));
    expect(after.seq).toBe(2 + 8 + 2);
    expect(reader.lines.indexOf(gap)).toBeLessThan(reader.lines.indexOf(after));
    // Resuming a stream that is not paused changes nothing and sends no gap.
    expect((await api('PUT', stream, { body: { paused: false } })).status).toBe(204);
    expect(reader.lines.filter((line) => line.type === 'gap')).toHaveLength(1);
    reader.close();
    await conn.queueDelete({ queue });
  });

  it('refuses a bad body with 400, a stream that is not open (or of another vhost) with 404, a non-administrator with 403', async () => {
    const reader = await openTrace(warren.url, '/api/trace/%2F/stream');
    const hello = await reader.waitFor((line) => line.type === 'hello');
    const stream = `/api/trace/%2F/stream/${String(hello.stream)}`;
    expect((await api('PUT', stream, { body: { paused: 'yes' } })).status).toBe(400);
    expect((await api('PUT', stream, { body: { paused: true, extra: 1 } })).status).toBe(400);
    expect((await api('PUT', stream, { body: {} })).status).toBe(400);
    expect((await api('PUT', '/api/trace/%2F/stream/nope', { body: { paused: true } })).status).toBe(404);
    const other = unique('trace-pause-vh');
    expect((await api('PUT', `/api/vhosts/${other}`)).status).toBe(201);
    expect((await api('PUT', `/api/trace/${other}/stream/${String(hello.stream)}`, { body: { paused: true } })).status).toBe(404);
    const monitor = await createUser(api, unique('trace-pause-monitor'), 'monitoring');
    expect((await api('PUT', stream, { body: { paused: true }, as: monitor })).status).toBe(403);
    reader.close();
    await waitUntil(() => warren.server.broker.vhost('/').tracer.listenerCount === 0);
    expect((await api('PUT', stream, { body: { paused: true } })).status).toBe(404);
  });
});

describe('trace stream: dead letters and expiry', () => {
  it('follows a message that expires and is dead-lettered into its copy, with from_trace_id', async () => {
    const source = unique('trace-ttl');
    const dlq = unique('trace-dlq');
    const dlx = unique('trace-dlx');
    const conn = await warren.connect();
    await conn.exchangeDeclare({ exchange: dlx, type: 'fanout' });
    await conn.queueDeclare({ queue: dlq });
    await conn.queueBind({ queue: dlq, exchange: dlx, routingKey: '' });
    await conn.queueDeclare({ queue: source, arguments: { 'x-message-ttl': 1, 'x-dead-letter-exchange': dlx } });
    const reader = await openTrace(warren.url, `/api/trace/%2F/stream?routing_key=${source}`);
    await reader.waitFor((line) => line.type === 'hello');
    await conn.publish({ routingKey: source, body: 'short-lived' });
    const copyRouted = await reader.waitFor(isEvent('routed', (line) => line.from_trace_id !== undefined), 'the copy routed');
    const events = eventsOf(reader);
    expect(events.map((e) => e.event)).toEqual(['published', 'routed', 'expired', 'dead-lettered', 'routed']);
    const [published, , expired, dead] = events as [TraceLine, TraceLine, TraceLine, TraceLine];
    expect(expired).toMatchObject({ queue: source, trace_id: published.trace_id });
    expect(dead).toMatchObject({ queue: source, reason: 'expired', dead_letter_exchange: dlx, trace_id: published.trace_id });
    expect(copyRouted.from_trace_id).toBe(published.trace_id);
    expect(copyRouted.trace_id).not.toBe(published.trace_id);
    expect(copyRouted).toMatchObject({ exchange: dlx, queues: [dlq], payload: 'short-lived' });
    expect((copyRouted.properties as { headers: Record<string, unknown> }).headers['x-first-death-reason']).toBe('expired');
    // The copy's own journey follows.
    const got = await conn.get({ queue: dlq, noAck: false });
    got?.reject(false);
    await reader.waitFor(isEvent('rejected', (line) => line.trace_id === copyRouted.trace_id), 'the copy rejected');
    reader.close();
  });

  it('shows returned and unroutable publishes', async () => {
    const reader = await openTrace(warren.url, `/api/trace/%2F/stream?exchange=amq.direct`);
    await reader.waitFor((line) => line.type === 'hello');
    const connection = await amqp.connect(warren.amqpUrl);
    try {
      const channel = await connection.createConfirmChannel();
      channel.publish('amq.direct', 'nowhere', Buffer.from('back'), { mandatory: true });
      channel.publish('amq.direct', 'nowhere', Buffer.from('gone'));
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
    await reader.waitFor(isEvent('unroutable'), 'unroutable');
    expect(eventsOf(reader).map((e) => `${e.event}:${e.payload}`)).toEqual(['published:back', 'returned:back', 'published:gone', 'unroutable:gone']);
    expect(eventsOf(reader, 'published')[0]).toMatchObject({ queues: [] });
    reader.close();
  });
});
