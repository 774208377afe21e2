import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserStore } from '../../src/auth/user-store.js';
import { Broker } from '../../src/broker/broker.js';
import { registerManagementApi, type ManagementApi } from '../../src/http/api/index.js';
import { RateSampler } from '../../src/http/api/rates.js';
import { Series } from '../../src/http/api/series.js';
import { Operations } from '../../src/operations/operations.js';
import { ConnectionRegistry } from '../../src/protocol/connection-registry.js';
import { startWarren } from '../helpers/warren.js';
import { apiClient, array, record, type Api } from './support.js';

const policy = { intervalMs: 5000, fineRetentionMs: 600_000, coarseIntervalMs: 60_000, coarseRetentionMs: 3_600_000 };

describe('Series', () => {
  it('allocates nothing while every value is zero, and still knows the values are zero', () => {
    const series = new Series(2, policy, 0);
    for (let t = 5000; t <= 50_000; t += 5000) series.record(t, new Float64Array(2));
    expect(series.rate(0)).toBe(0);
    expect(series.valueAt(20_000, 0)).toBe(0);
    expect(series.valueAt(-1, 0)).toBeUndefined();
    expect(series.details(0, { ageMs: 20_000, incrMs: 5000 }, 50_000).samples).toHaveLength(5);
  });

  it('computes the rate from the two newest samples, counting the zeros before the first change', () => {
    const series = new Series(1, policy, 0);
    series.record(5000, Float64Array.of(0));
    series.record(10_000, Float64Array.of(25));
    expect(series.rate(0)).toBe(5);
    series.record(15_000, Float64Array.of(25));
    expect(series.rate(0)).toBe(0);
    expect(series.idle).toBe(true);
    expect(series.changedAt).toBe(10_000);
  });

  it('keeps ten minutes of every sample and an hour of one a minute', () => {
    const series = new Series(1, policy, 0);
    let total = 0;
    const end = 7_200_000;
    for (let t = 5000; t <= end; t += 5000) series.record(t, Float64Array.of((total += 1)));
    const recent = series.details(0, { ageMs: 600_000, incrMs: 5000 }, end);
    expect(recent.samples).toHaveLength(121);
    expect(recent.avg_rate).toBe(0.2);
    const hour = series.details(0, { ageMs: 3_600_000, incrMs: 60_000 }, end);
    expect(hour.samples).toHaveLength(61);
    expect(hour.samples?.[0]).toEqual({ sample: 1440, timestamp: end });
    expect(hour.samples?.[60]).toEqual({ sample: 720, timestamp: end - 3_600_000 });
    // Older than the retention: unknown, so a chart stops there instead of drawing zeros.
    expect(series.valueAt(10_000, 0)).toBeUndefined();
  });
});

describe('sampler through the API', () => {
  let app: FastifyInstance;
  let broker: Broker;
  let management: ManagementApi;
  let api: Api;
  let clock = 1_000_000;

  beforeAll(async () => {
    app = Fastify();
    broker = new Broker();
    const users = new UserStore();
    await users.putUser('guest', { password: 'guest', tags: ['administrator'] });
    users.setPermission({ user: 'guest', vhost: '/', configure: '.*', write: '.*', read: '.*' });
    await users.putUser('manager', { password: 'pw', tags: ['management'] });
    users.setPermission({ user: 'manager', vhost: '/', configure: '.*', write: '.*', read: '.*' });
    const connections = new ConnectionRegistry();
    const ops = new Operations({ broker, users, connections, log: { error: () => undefined } });
    management = await registerManagementApi(app, { broker, users, connections, ops, version: 'test', sampler: { intervalMs: 0, now: () => clock } });
    await app.ready();
    api = apiClient(app);
  });
  afterAll(() => app.close());

  const publish = async (n: number, routingKey: string): Promise<void> => {
    for (let i = 0; i < n; i++) {
      await api('POST', '/api/exchanges/%2F/amq.default/publish', { body: { routing_key: routingKey, payload: 'x', payload_encoding: 'string', properties: {} } });
    }
  };

  it('moves rates after publishes once it has sampled twice', async () => {
    await api('PUT', '/api/queues/%2F/rated');
    management.sampler.sampleNow();
    await publish(10, 'rated');
    clock += 5000;
    management.sampler.sampleNow();

    const queue = record((await api('GET', '/api/queues/%2F/rated')).body);
    expect(record(queue.messages_details).rate).toBe(2);
    expect(record(record(queue.message_stats).publish_details).rate).toBe(2);
    const exchange = record((await api('GET', '/api/exchanges/%2F/amq.default')).body);
    expect(record(record(exchange.message_stats).publish_in_details).rate).toBe(2);
    const overview = record((await api('GET', '/api/overview')).body);
    expect(record(record(overview.message_stats).publish_details).rate).toBe(2);
    expect(record(record(overview.queue_totals).messages_details).rate).toBe(2);
    const [vhost] = array((await api('GET', '/api/vhosts')).body);
    expect(record(record(vhost?.message_stats).publish_details).rate).toBe(2);

    clock += 5000;
    management.sampler.sampleNow();
    const later = record((await api('GET', '/api/queues/%2F/rated')).body);
    expect(record(later.messages_details).rate).toBe(0);
  });

  it('returns samples for a console chart with msg_rates_age/_incr and lengths_age/_incr', async () => {
    await api('PUT', '/api/queues/%2F/charted');
    for (let i = 0; i < 4; i++) {
      await publish(5, 'charted');
      clock += 5000;
      management.sampler.sampleNow();
    }
    const res = await api('GET', '/api/queues/%2F/charted?lengths_age=15&lengths_incr=5&msg_rates_age=15&msg_rates_incr=5');
    const queue = record(res.body);
    const lengths = record(queue.messages_details);
    expect(lengths.rate).toBe(1);
    const samples = array(lengths.samples);
    expect(samples).toHaveLength(4);
    expect(samples[0]?.sample).toBe(20);
    expect(Number(samples[0]?.timestamp) - Number(samples[1]?.timestamp)).toBe(5000);
    expect(lengths.avg).toBeTypeOf('number');
    const publishDetails = record(record(queue.message_stats).publish_details);
    expect(array(publishDetails.samples).map((s) => s.sample)).toEqual([20, 15, 10, 5]);
    expect(publishDetails.avg_rate).toBe(1);
    const overview = record((await api('GET', '/api/overview?msg_rates_age=60&msg_rates_incr=5')).body);
    expect(array(record(record(overview.message_stats).publish_details).samples).length).toBeGreaterThan(1);
    // A management user's overview adds up the vhosts it may see.
    const limited = record((await api('GET', '/api/overview?msg_rates_age=15&msg_rates_incr=5', { as: ['manager', 'pw'] })).body);
    const publishes = record(record(limited.message_stats).publish_details);
    expect(publishes.rate).toBe(1);
    expect(array(publishes.samples)).toHaveLength(4);
    expect(record(record(limited.queue_totals).messages_details)).toEqual({ rate: 1 });
  });

  it('refuses an invalid range', async () => {
    expect((await api('GET', '/api/overview?msg_rates_age=60')).status).toBe(400);
    expect((await api('GET', '/api/queues?lengths_age=60&lengths_incr=0')).status).toBe(400);
    expect((await api('GET', '/api/queues?lengths_age=100000&lengths_incr=1')).status).toBe(400);
  });

  it('forgets deleted objects', async () => {
    await api('PUT', '/api/queues/%2F/short-lived');
    management.sampler.sampleNow();
    const queue = broker.vhost('/').queues.get('short-lived');
    expect(queue && management.sampler.series('queue', queue)).toBeDefined();
    await api('DELETE', '/api/queues/%2F/short-lived');
    management.sampler.sampleNow();
    expect(queue && management.sampler.series('queue', queue)).toBeUndefined();
  });
});

describe('sampler timer', () => {
  it('samples on its own, unref()d, and stops', async () => {
    const sampler = new RateSampler(new Broker(), new ConnectionRegistry(), { intervalMs: 10 });
    sampler.start();
    const first = sampler.latestSampleAt;
    await expect.poll(() => sampler.latestSampleAt, { timeout: 2000 }).toBeGreaterThan(first);
    sampler.stop();
    const stopped = sampler.latestSampleAt;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sampler.latestSampleAt).toBe(stopped);
  });
});

describe('the server’s sampler', () => {
  it('runs while the server does and stops when it closes', async () => {
    const warren = await startWarren();
    const sampler = warren.server.app.managementApi.sampler;
    expect(sampler.running).toBe(true);
    expect(sampler.intervalMs).toBe(5000);
    await warren.stop();
    expect(sampler.running).toBe(false);
  });
});

describe('channel rates on a real server', () => {
  it('counts a connection’s publishes and deliveries', async () => {
    const warren = await startWarren();
    const sampler = warren.server.app.managementApi.sampler;
    sampler.stop();
    const api = apiClient(warren.server.app);
    try {
      const conn = await warren.connect();
      await conn.queueDeclare({ queue: 'ch-rates' });
      sampler.sampleNow(Date.now());
      for (let i = 0; i < 6; i++) await conn.publish({ routingKey: 'ch-rates', body: 'x' });
      sampler.sampleNow(Date.now() + 3000);
      const [channel] = array((await api('GET', '/api/channels')).body);
      const stats = record(channel?.message_stats);
      expect(stats.publish).toBe(6);
      expect(stats.confirm).toBe(6);
      expect(record(stats.publish_details).rate).toBeGreaterThan(0);
    } finally {
      await warren.stop();
    }
  });
});
