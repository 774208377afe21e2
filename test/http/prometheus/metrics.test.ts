// /metrics against a real broker: AMQP 0-9-1 (amqplib) and JSON clients make traffic, the endpoint is
// scraped over HTTP and parsed by an independent exposition-format parser, and the numbers are checked
// against the broker's own state — including after connections and queues are gone.
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WarrenConnection } from '../../../src/client/index.js';
import { scrape, until, valueOf, type Scrape } from '../../helpers/prometheus-scrape.js';
import { startWarren, type RunningWarren } from '../../helpers/warren.js';

let warren: RunningWarren;
let amqpConnection: amqp.ChannelModel;
let json: WarrenConnection;
let before: Scrape;

const AMQP = { protocol: 'amqp091' };
const JSON_WS = { protocol: 'warren_json' };
const CLASSIC = { queue_type: 'rabbit_classic_queue' };

beforeAll(async () => {
  warren = await startWarren();
  amqpConnection = await amqp.connect(warren.amqpUrl);
  const ch = await amqpConnection.createConfirmChannel();
  await ch.assertQueue('metrics-q');
  for (let i = 0; i < 5; i++) ch.sendToQueue('metrics-q', Buffer.from(`message ${i}`));
  ch.publish('amq.direct', 'nowhere', Buffer.from('returned'), { mandatory: true });
  await ch.waitForConfirms();
  const got = await ch.get('metrics-q');
  if (!got) throw new Error('expected a message');
  ch.ack(got);
  const delivered: amqp.ConsumeMessage[] = [];
  await ch.consume('metrics-q', (m) => m && delivered.push(m));
  await until(() => delivered.length === 4, 'four deliveries');
  for (const m of delivered.slice(0, 3)) ch.ack(m);
  expect(await ch.get('metrics-q')).toBe(false);

  json = await warren.connect();
  await json.queueDeclare({ queue: 'metrics-json' });
  await json.publish({ routingKey: 'metrics-json', body: 'one' });
  await json.publish({ routingKey: 'metrics-json', body: 'two' });
  await json.publish({ exchange: 'amq.direct', routingKey: 'nowhere', body: 'dropped' });
  // The acks above are asynchronous: wait until the broker has them all.
  await until(() => warren.server.broker.vhost('/').queues.get('metrics-q')?.unackedCount === 1, 'the acks');
});

afterAll(async () => {
  await amqpConnection?.close().catch(() => undefined);
  await warren?.stop();
});

describe('/metrics (aggregated)', () => {
  it('answers in the text exposition format, every family with HELP and TYPE', async () => {
    before = await scrape(warren.prometheusPort);
    expect(before.status).toBe(200);
    expect(before.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const declared = [...before.text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]);
    expect(new Set(declared).size).toBe(declared.length);
    for (const family of before.families.values()) expect(family.help, family.name).not.toBe('');
    expect(before.families.get('rabbitmq_global_messages_received_total')?.type).toBe('COUNTER');
    expect(before.families.get('rabbitmq_queue_messages_ready')?.type).toBe('GAUGE');
    expect(before.families.get('warren_store_fsync_seconds')?.type).toBe('HISTOGRAM');
  });

  it('reports the broker state: objects, queue depths and consumers', () => {
    const queues = [...warren.server.broker.vhost('/').queues.values()];
    expect(valueOf(before, 'rabbitmq_connections')).toBe(2);
    expect(valueOf(before, 'rabbitmq_channels')).toBe(2);
    expect(valueOf(before, 'rabbitmq_queues')).toBe(queues.length);
    expect(valueOf(before, 'rabbitmq_consumers')).toBe(1);
    expect(valueOf(before, 'rabbitmq_queue_messages_ready')).toBe(queues.reduce((n, q) => n + q.messageCount, 0));
    expect(valueOf(before, 'rabbitmq_queue_messages_ready')).toBe(2);
    expect(valueOf(before, 'rabbitmq_queue_messages_unacked')).toBe(1);
    expect(valueOf(before, 'rabbitmq_queue_messages')).toBe(3);
    expect(valueOf(before, 'rabbitmq_queue_consumers')).toBe(1);
    expect(valueOf(before, 'rabbitmq_channel_messages_unacked')).toBe(1);
  });

  it("counts messages per protocol with RabbitMQ's global counters", () => {
    expect(valueOf(before, 'rabbitmq_global_messages_received_total', AMQP)).toBe(6);
    expect(valueOf(before, 'rabbitmq_global_messages_received_confirm_total', AMQP)).toBe(6);
    expect(valueOf(before, 'rabbitmq_global_messages_confirmed_total', AMQP)).toBe(6);
    expect(valueOf(before, 'rabbitmq_global_messages_routed_total', AMQP)).toBe(5);
    expect(valueOf(before, 'rabbitmq_global_messages_unroutable_returned_total', AMQP)).toBe(1);
    expect(valueOf(before, 'rabbitmq_global_messages_unroutable_dropped_total', AMQP)).toBe(0);
    expect(valueOf(before, 'rabbitmq_global_messages_delivered_total', { ...AMQP, ...CLASSIC })).toBe(5);
    expect(valueOf(before, 'rabbitmq_global_messages_delivered_get_manual_ack_total', AMQP)).toBe(1);
    expect(valueOf(before, 'rabbitmq_global_messages_delivered_consume_manual_ack_total', AMQP)).toBe(4);
    expect(valueOf(before, 'rabbitmq_global_messages_delivered_consume_auto_ack_total', AMQP)).toBe(0);
    expect(valueOf(before, 'rabbitmq_global_messages_acknowledged_total', AMQP)).toBe(4);
    expect(valueOf(before, 'rabbitmq_global_messages_get_empty_total', AMQP)).toBe(1);
    expect(valueOf(before, 'rabbitmq_global_publishers', AMQP)).toBe(1);
    expect(valueOf(before, 'rabbitmq_global_consumers', AMQP)).toBe(1);

    expect(valueOf(before, 'rabbitmq_global_messages_received_total', JSON_WS)).toBe(3);
    expect(valueOf(before, 'rabbitmq_global_messages_routed_total', JSON_WS)).toBe(2);
    expect(valueOf(before, 'rabbitmq_global_messages_unroutable_dropped_total', JSON_WS)).toBe(1);
    expect(valueOf(before, 'rabbitmq_global_messages_confirmed_total', JSON_WS)).toBe(3);
    expect(valueOf(before, 'rabbitmq_global_consumers', JSON_WS)).toBe(0);
  });

  it('keeps a message-size histogram per protocol with RabbitMQ buckets', () => {
    // The parser folds labelled histogram series together, so these lines are read from the text.
    expect(before.text).toContain('rabbitmq_message_size_bytes_bucket{protocol="amqp091",le="100.0"} 6');
    expect(before.text).toContain('rabbitmq_message_size_bytes_count{protocol="amqp091"} 6');
    expect(before.text).toContain(`rabbitmq_message_size_bytes_sum{protocol="amqp091"} ${5 * 'message 0'.length + 'returned'.length}`);
    expect(before.text).toContain('rabbitmq_message_size_bytes_count{protocol="warren_json"} 3');
  });

  it('counts connections, channels and queues opened and created', () => {
    expect(valueOf(before, 'rabbitmq_connections_opened_total')).toBe(2);
    expect(valueOf(before, 'rabbitmq_connections_closed_total')).toBe(0);
    expect(valueOf(before, 'rabbitmq_channels_opened_total')).toBe(2);
    expect(valueOf(before, 'rabbitmq_queues_declared_total')).toBe(2);
    expect(valueOf(before, 'rabbitmq_queues_created_total')).toBe(2);
    expect(valueOf(before, 'rabbitmq_queues_deleted_total')).toBe(0);
  });

  it('names the node and build as RabbitMQ does, for the dashboards to join on', () => {
    const identity = before.families.get('rabbitmq_identity_info')?.metrics[0]?.labels;
    expect(identity).toMatchObject({ rabbitmq_endpoint: 'aggregated', rabbitmq_cluster: expect.stringMatching(/^warren@/) });
    const build = before.families.get('rabbitmq_build_info')?.metrics[0]?.labels;
    expect(build).toMatchObject({ product_name: 'Warren', rabbitmq_version: expect.stringMatching(/^3\./), erlang_version: process.version });
    expect(valueOf(before, 'rabbitmq_resident_memory_limit_bytes')).toBe(warren.server.memory.limitBytes);
    expect(valueOf(before, 'rabbitmq_disk_space_available_bytes')).toBeGreaterThan(0);
    expect(valueOf(before, 'rabbitmq_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('stays monotonic when the connections and a queue are gone', async () => {
    await amqpConnection.close();
    await json.queueDelete({ queue: 'metrics-q' });
    await json.close();
    await until(() => warren.server.connections.size === 0, 'the connections to close');
    const after = await scrape(warren.prometheusPort);
    expect(valueOf(after, 'rabbitmq_connections')).toBe(0);
    expect(valueOf(after, 'rabbitmq_channels')).toBe(0);
    expect(valueOf(after, 'rabbitmq_connections_closed_total')).toBe(2);
    expect(valueOf(after, 'rabbitmq_channels_closed_total')).toBe(valueOf(after, 'rabbitmq_channels_opened_total'));
    expect(valueOf(after, 'rabbitmq_queues_deleted_total')).toBe(1);
    for (const family of after.families.values()) {
      if (family.type !== 'COUNTER') continue;
      for (const series of family.metrics) {
        const was = before.families.get(family.name)?.metrics.find((m) => JSON.stringify(m.labels) === JSON.stringify(series.labels));
        if (was) expect(Number(series.value), `${family.name} ${JSON.stringify(series.labels)}`).toBeGreaterThanOrEqual(Number(was.value));
      }
    }
    // Not just "not less": the closed channels' and the deleted queue's counts are all still there.
    expect(valueOf(after, 'rabbitmq_global_messages_acknowledged_total', AMQP)).toBe(4);
    expect(valueOf(after, 'rabbitmq_global_messages_received_total', JSON_WS)).toBe(3);
    expect(valueOf(after, 'rabbitmq_channel_messages_published_total')).toBe(9);
    expect(valueOf(after, 'rabbitmq_queue_messages_delivered_ack_total')).toBe(4);
    expect(valueOf(after, 'rabbitmq_global_publishers', AMQP)).toBe(0);
    // Bytes of closed connections stay in the totals.
    expect(valueOf(after, 'rabbitmq_connection_incoming_bytes_total')).toBeGreaterThan(0);
    expect(valueOf(after, 'rabbitmq_connection_outgoing_bytes_total')).toBeGreaterThan(0);
  });

  it('stays monotonic when a whole vhost goes, with its queues and connections', async () => {
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`, 'content-type': 'application/json' };
    const put = (path: string, body: unknown): Promise<Response> => fetch(`${warren.url}/api${path}`, { method: 'PUT', headers: auth, body: JSON.stringify(body) });
    expect((await put('/vhosts/doomed', {})).ok).toBe(true);
    expect((await put('/permissions/doomed/guest', { configure: '.*', write: '.*', read: '.*' })).ok).toBe(true);
    const connection = await amqp.connect(`${warren.amqpUrl}/doomed`);
    connection.on('error', () => undefined);
    const ch = await connection.createChannel();
    ch.on('error', () => undefined);
    await ch.assertQueue('doomed-q');
    for (let i = 0; i < 4; i++) ch.sendToQueue('doomed-q', Buffer.from('x'));
    const got = await ch.get('doomed-q', { noAck: true });
    expect(got).not.toBe(false);
    const during = await scrape(warren.prometheusPort);
    // metrics-json, in '/', still holds its two.
    expect(valueOf(during, 'rabbitmq_queue_messages_ready')).toBe(2 + 3);

    const closed = new Promise((resolve) => connection.once('close', resolve));
    expect((await fetch(`${warren.url}/api/vhosts/doomed`, { method: 'DELETE', headers: auth })).status).toBe(204);
    await closed;
    await until(() => warren.server.connections.size === 0, 'the vhost\'s connection to close');
    const after = await scrape(warren.prometheusPort);
    expect(valueOf(after, 'rabbitmq_queue_messages_ready')).toBe(2);
    expect(valueOf(after, 'rabbitmq_queues_deleted_total')).toBe(valueOf(during, 'rabbitmq_queues_deleted_total') + 1);
    expect(valueOf(after, 'rabbitmq_connections_closed_total')).toBe(valueOf(during, 'rabbitmq_connections_closed_total') + 1);
    expect(valueOf(after, 'rabbitmq_global_messages_received_total', AMQP)).toBe(6 + 4);
    expect(valueOf(after, 'rabbitmq_global_messages_delivered_get_auto_ack_total', AMQP)).toBe(1);
    expect(valueOf(after, 'rabbitmq_queue_get_total')).toBe(1);
    expect(valueOf(after, 'rabbitmq_exchange_messages_published_total')).toBe(valueOf(during, 'rabbitmq_exchange_messages_published_total'));
  });
});
