// /metrics/per-object labels every queue, exchange, channel and connection; /metrics/detailed serves
// only the families asked for, narrowed by vhost, and refuses a family it cannot serve.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelsOf, scrape, until, valueOf } from '../../helpers/prometheus-scrape.js';
import { startWarren, type RunningWarren } from '../../helpers/warren.js';

let warren: RunningWarren;
let connection: amqp.ChannelModel;
let channelId: string;
let connectionId: string;

beforeAll(async () => {
  warren = await startWarren();
  const api = (path: string, body: unknown): Promise<Response> =>
    fetch(`${warren.url}/api${path}`, {
      method: 'PUT',
      headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  expect((await api('/vhosts/other', {})).status).toBe(201);
  expect((await api('/permissions/other/guest', { configure: '.*', write: '.*', read: '.*' })).ok).toBe(true);
  expect((await api('/queues/other/elsewhere', {})).status).toBe(201);

  connection = await amqp.connect(warren.amqpUrl);
  const ch = await connection.createChannel();
  await ch.prefetch(7);
  await ch.assertExchange('orders "eu"\\x', 'fanout');
  await ch.assertQueue('per-object-q');
  await ch.bindQueue('per-object-q', 'orders "eu"\\x', '');
  for (let i = 0; i < 3; i++) ch.publish('orders "eu"\\x', '', Buffer.from('x'));
  await ch.consume('per-object-q', () => undefined);
  await until(() => warren.server.broker.vhost('/').queues.get('per-object-q')?.unackedCount === 3, 'three deliveries');
  const [open] = warren.server.connections.list();
  connectionId = open?.id ?? '';
  channelId = open?.channels()[0]?.channel.id ?? '';
});

afterAll(async () => {
  await connection?.close().catch(() => undefined);
  await warren?.stop();
});

describe('/metrics/per-object', () => {
  it('labels queue metrics by vhost and queue', async () => {
    const s = await scrape(warren.prometheusPort, '/metrics/per-object');
    expect(s.status).toBe(200);
    expect(valueOf(s, 'rabbitmq_queue_messages_unacked', { vhost: '/', queue: 'per-object-q' })).toBe(3);
    expect(valueOf(s, 'rabbitmq_queue_messages_ready', { vhost: 'other', queue: 'elsewhere' })).toBe(0);
    expect(valueOf(s, 'rabbitmq_queue_consumers', { vhost: '/', queue: 'per-object-q' })).toBe(1);
    expect(valueOf(s, 'rabbitmq_queue_messages_delivered_ack_total', { vhost: '/', queue: 'per-object-q' })).toBe(3);
    expect(labelsOf(s, 'rabbitmq_queue_info')).toContainEqual({ vhost: 'other', queue: 'elsewhere', queue_type: 'rabbit_classic_queue', membership: 'leader' });
    expect(valueOf(s, 'rabbitmq_identity_info')).toBe(1);
    expect(labelsOf(s, 'rabbitmq_identity_info')[0]).toMatchObject({ rabbitmq_endpoint: 'per-object' });
  });

  it('labels exchanges, escaping quotes and backslashes in label values', async () => {
    const s = await scrape(warren.prometheusPort, '/metrics/per-object');
    expect(s.text).toContain('exchange="orders \\"eu\\"\\\\x"');
    expect(valueOf(s, 'rabbitmq_exchange_messages_published_total', { vhost: '/', exchange: 'orders "eu"\\x' })).toBe(3);
  });

  it('labels channels and connections by their ids', async () => {
    const s = await scrape(warren.prometheusPort, '/metrics/per-object');
    expect(valueOf(s, 'rabbitmq_channel_messages_published_total', { channel: channelId })).toBe(3);
    expect(valueOf(s, 'rabbitmq_channel_messages_delivered_ack_total', { channel: channelId })).toBe(3);
    expect(valueOf(s, 'rabbitmq_channel_messages_unacked', { channel: channelId })).toBe(3);
    expect(valueOf(s, 'rabbitmq_consumer_prefetch', { channel: channelId })).toBe(7);
    expect(valueOf(s, 'rabbitmq_channel_consumers', { channel: channelId })).toBe(1);
    expect(valueOf(s, 'rabbitmq_connection_channels', { connection: connectionId })).toBe(1);
  });
});

describe('/metrics/detailed', () => {
  it('serves only the families asked for, under rabbitmq_detailed_', async () => {
    const s = await scrape(warren.prometheusPort, '/metrics/detailed?family=queue_coarse_metrics&family=connection_churn_metrics');
    expect(s.status).toBe(200);
    const names = [...s.families.keys()].sort();
    expect(names).toEqual(
      [
        'rabbitmq_build_info',
        'rabbitmq_identity_info',
        'rabbitmq_detailed_queue_info',
        'rabbitmq_detailed_queue_messages',
        'rabbitmq_detailed_queue_messages_ready',
        'rabbitmq_detailed_queue_messages_unacked',
        'rabbitmq_detailed_connections_opened_total',
        'rabbitmq_detailed_connections_closed_total',
        'rabbitmq_detailed_channels_opened_total',
        'rabbitmq_detailed_channels_closed_total',
        'rabbitmq_detailed_queues_declared_total',
        'rabbitmq_detailed_queues_created_total',
        'rabbitmq_detailed_queues_deleted_total',
      ].sort(),
    );
    expect(valueOf(s, 'rabbitmq_detailed_queue_messages_unacked', { vhost: '/', queue: 'per-object-q' })).toBe(3);
    expect(labelsOf(s, 'rabbitmq_identity_info')[0]).toMatchObject({ rabbitmq_endpoint: 'detailed' });
  });

  it('narrows to the vhosts named', async () => {
    const s = await scrape(warren.prometheusPort, '/metrics/detailed?family=queue_coarse_metrics&family=vhost_status&vhost=other');
    expect(labelsOf(s, 'rabbitmq_detailed_queue_messages_ready')).toEqual([{ vhost: 'other', queue: 'elsewhere' }]);
    expect(labelsOf(s, 'rabbitmq_cluster_vhost_status')).toEqual([{ vhost: 'other' }]);
  });

  it('when both queue_metrics and queue_consumer_count are asked for, has one queue_consumers family', async () => {
    const s = await scrape(warren.prometheusPort, '/metrics/detailed?family=queue_metrics&family=queue_consumer_count');
    expect(s.status).toBe(200);
    expect(valueOf(s, 'rabbitmq_detailed_queue_consumers', { queue: 'per-object-q' })).toBe(1);
    expect(s.text.match(/^# TYPE rabbitmq_detailed_queue_consumers /gm)).toHaveLength(1);
  });

  it('refuses an unknown family with 400 and a JSON reason naming it', async () => {
    const response = await fetch(`http://127.0.0.1:${warren.prometheusPort}/metrics/detailed?family=queue_coarse_metrics&family=queue_coarse_metricz`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as { error: string; reason: string };
    expect(body.error).toBe('bad_request');
    expect(body.reason).toMatch(/unknown metric family 'queue_coarse_metricz'; available: .*queue_coarse_metrics/);
  });

  it("refuses a RabbitMQ family Warren has no numbers for, and a 'queue' filter it does not support", async () => {
    const family = await fetch(`http://127.0.0.1:${warren.prometheusPort}/metrics/detailed?family=auth_attempt_metrics`);
    expect(family.status).toBe(400);
    expect(((await family.json()) as { reason: string }).reason).toMatch(/'auth_attempt_metrics' is not implemented by Warren/);
    const queue = await fetch(`http://127.0.0.1:${warren.prometheusPort}/metrics/detailed?family=queue_metrics&queue=a.*`);
    expect(queue.status).toBe(400);
    expect(((await queue.json()) as { reason: string }).reason).toMatch(/'queue'.*not supported/);
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const base = `http://127.0.0.1:${warren.prometheusPort}`;
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});
