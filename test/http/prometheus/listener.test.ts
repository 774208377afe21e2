// The Prometheus listener's setting (--prometheus-port / WARREN_PROMETHEUS_PORT, 0, off), what `off`
// binds (nothing), Warren's own store metrics after persistent traffic, and the exposition's escaping
// read back by an independent parser.
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { Histogram } from '../../../src/broker/histogram.js';
import { defaultConfig, loadConfig } from '../../../src/config.js';
import { counter, gauge, histogram, render } from '../../../src/http/prometheus/exposition.js';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exited, spawnBroker } from '../../helpers/child-broker.js';
import { scrape, valueOf } from '../../helpers/prometheus-scrape.js';
import { startWarren } from '../../helpers/warren.js';

describe('the prometheus-port setting', () => {
  it('defaults to 15692, as RabbitMQ; reads a port, 0 or off from the flag or the environment', () => {
    expect(defaultConfig.prometheusPort).toBe(15692);
    expect(loadConfig(['--prometheus-port', '9419'], {}).prometheusPort).toBe(9419);
    expect(loadConfig([], { WARREN_PROMETHEUS_PORT: '0' }).prometheusPort).toBe(0);
    expect(loadConfig([], { WARREN_PROMETHEUS_PORT: 'off' }).prometheusPort).toBe('off');
    expect(() => loadConfig(['--prometheus-port', '70000'], {})).toThrow(/--prometheus-port: expected an integer from 0 to 65535/);
  });
});

describe('the listener', () => {
  it('binds nothing when off: the broker process listens on its HTTP and AMQP ports only', async () => {
    const off = await listeningPortsOf({ WARREN_PROMETHEUS_PORT: 'off' });
    expect(off.output).not.toContain('Prometheus metrics on');
    expect(off.ports).toHaveLength(2);
    const on = await listeningPortsOf({ WARREN_PROMETHEUS_PORT: '0' });
    const line = /Prometheus metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(on.output);
    expect(on.ports).toHaveLength(3);
    expect(on.ports).toContain(Number(line?.[1]));
  });

  it('serves on the HTTP host, and is closed with the broker', async () => {
    const warren = await startWarren();
    const port = warren.prometheusPort;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(15692);
    expect((await scrape(port)).status).toBe(200);
    await warren.stop();
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('counts persistent messages a consumer settled before their write as never written', async () => {
    const warren = await startWarren();
    try {
      const conn = await warren.connect();
      await conn.queueDeclare({ queue: 'consumed-q', durable: true });
      const consumer = await conn.consume({ queue: 'consumed-q', noAck: true });
      await Promise.all(Array.from({ length: 10 }, (_, i) => conn.publish({ routingKey: 'consumed-q', body: `gone ${i}`, properties: { deliveryMode: 2 } })));
      let received = 0;
      for await (const message of consumer) {
        expect(message.text()).toBe(`gone ${received}`);
        if (++received === 10) break;
      }
      await warren.server.durable.messages.flush();
      const s = await scrape(warren.prometheusPort);
      expect(valueOf(s, 'warren_store_messages_never_written_total')).toBe(10);
      expect(valueOf(s, 'rabbitmq_msg_store_write_total')).toBe(0);
    } finally {
      await warren.stop();
    }
  });

  it("reports the store's group commits: fsync latency, batch sizes and bytes on disk", async () => {
    const warren = await startWarren();
    try {
      const conn = await warren.connect();
      await conn.queueDeclare({ queue: 'durable-q', durable: true });
      await Promise.all(Array.from({ length: 20 }, (_, i) => conn.publish({ routingKey: 'durable-q', body: `persistent ${i}`, properties: { deliveryMode: 2 } })));
      const s = await scrape(warren.prometheusPort);
      const fsync = s.families.get('warren_store_fsync_seconds')?.metrics[0];
      expect(Number(fsync?.count)).toBeGreaterThan(0);
      expect(Number(fsync?.count)).toBe(valueOf(s, 'warren_store_flushes_total'));
      expect(Number(fsync?.buckets?.['+Inf'])).toBe(Number(fsync?.count));
      const messages = s.families.get('warren_store_group_commit_messages')?.metrics[0];
      expect(Number(messages?.sum)).toBe(20);
      const bytes = s.families.get('warren_store_group_commit_bytes')?.metrics[0];
      expect(Number(bytes?.sum)).toBe(valueOf(s, 'warren_store_written_bytes_total'));
      expect(valueOf(s, 'warren_store_bytes')).toBe(warren.server.durable.diskUsage().used);
      expect(valueOf(s, 'warren_store_bytes')).toBeGreaterThan(0);
      expect(valueOf(s, 'warren_event_loop_lag_seconds', { statistic: 'max' })).toBeGreaterThanOrEqual(0);
      // The same numbers under RabbitMQ's persister names.
      expect(valueOf(s, 'rabbitmq_msg_store_write_total')).toBe(20);
      expect(valueOf(s, 'rabbitmq_io_write_bytes_total')).toBe(valueOf(s, 'warren_store_written_bytes_total'));
      expect(valueOf(s, 'rabbitmq_io_write_ops_total')).toBe(valueOf(s, 'warren_store_flushes_total'));
      expect(valueOf(s, 'rabbitmq_io_sync_ops_total')).toBe(valueOf(s, 'warren_store_fsyncs_total'));
      expect(valueOf(s, 'rabbitmq_io_sync_time_seconds_total')).toBeCloseTo(Number(fsync?.sum), 9);
      expect(valueOf(s, 'rabbitmq_queue_messages_published_total')).toBe(20);
      const started = valueOf(s, 'process_start_time_seconds');
      expect(started).toBeGreaterThan(Date.now() / 1000 - 3600);
      expect(started).toBeLessThanOrEqual(Date.now() / 1000);
    } finally {
      await warren.stop();
    }
  });
});

describe('the exposition', () => {
  it('escapes HELP text and label values so that a parser reads back what was meant', () => {
    const h = new Histogram([1, 10]);
    for (const v of [0.5, 5, 50]) h.observe(v);
    const text = render([
      gauge('a_gauge', 'back\\slash and\nnewline', [{ labels: { name: 'q"uo\\te\nline' }, value: 3 }]),
      counter('a_total', 'a counter', 7),
      histogram('a_seconds', 'a histogram', [{ histogram: h }]),
    ]);
    const [g, c, hist] = parsePrometheusTextFormat(text);
    expect(g).toEqual({ name: 'a_gauge', help: 'back\\slash and\nnewline', type: 'GAUGE', metrics: [{ value: '3', labels: { name: 'q"uo\\te\nline' } }] });
    expect(c).toEqual({ name: 'a_total', help: 'a counter', type: 'COUNTER', metrics: [{ value: '7' }] });
    expect(hist?.metrics).toEqual([{ buckets: { '1.0': '1', '10.0': '2', '+Inf': '3' }, count: '3', sum: '55.5' }]);
  });
});

/** A real broker process with `env`: the TCP ports it listens on, read from /proc (its socket inodes in LISTEN state). */
async function listeningPortsOf(env: Record<string, string>): Promise<{ ports: number[]; output: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-prom-'));
  const broker = await spawnBroker(dataDir, env);
  try {
    const pid = broker.child.pid as number;
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const target = (() => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return '';
        }
      })();
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    }
    const ports: number[] = [];
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const row of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const fields = row.trim().split(/\s+/);
        const [local, state, inode] = [fields[1], fields[3], fields[9]];
        if (state === '0A' && inode && inodes.has(inode) && local) ports.push(parseInt(local.split(':')[1] ?? '', 16));
      }
    }
    return { ports, output: broker.output() };
  } finally {
    broker.child.kill('SIGTERM');
    await exited(broker.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
