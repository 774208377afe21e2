/**
 * Message rates for the management API. The broker only keeps monotonic counters (message-stats.ts);
 * rates are this sampler's job: every few seconds it records the counters and queue lengths of the
 * broker, each vhost, queue, exchange and connection, and `*_details` objects are computed from the
 * samples like RabbitMQ's management agent does.
 */
import type { Broker } from '../../broker/broker.js';
import type { Channel } from '../../broker/channel.js';
import type { Exchange } from '../../broker/exchange.js';
import type { MessageStats } from '../../broker/message-stats.js';
import type { Queue } from '../../broker/queue.js';
import type { ClientConnection } from '../../protocol/client-connection.js';
import type { ConnectionRegistry } from '../../protocol/connection-registry.js';
import { Series, type Details, type Range, type SeriesPolicy } from './series.js';

export type { Details, Range } from './series.js';

/** Metric names are RabbitMQ's `message_stats` / queue field names, in storage order. */
export const QueueMetrics = [
  'publish',
  'deliver',
  'deliver_no_ack',
  'get',
  'get_no_ack',
  'deliver_get',
  'redeliver',
  'ack',
  'messages',
  'messages_ready',
  'messages_unacknowledged',
] as const;
export const ExchangeMetrics = ['publish_in', 'publish_out'] as const;
export const ChannelMetrics = [
  'publish',
  'confirm',
  'return_unroutable',
  'drop_unroutable',
  'deliver',
  'deliver_no_ack',
  'get',
  'get_no_ack',
  'deliver_get',
  'redeliver',
  'ack',
] as const;
export const GlobalMetrics = [...ChannelMetrics, 'messages', 'messages_ready', 'messages_unacknowledged'] as const;
/** A connection's series: its channels' summed counters, then the bytes through its socket. */
export const ConnectionMetrics = [...ChannelMetrics, 'recv_oct', 'send_oct'] as const;
/** A vhost has no counters of its own: it sums its exchanges (publish) and queues (the rest). */
export const VhostMetrics = QueueMetrics;

export const LengthMetrics: ReadonlySet<string> = new Set(['messages', 'messages_ready', 'messages_unacknowledged']);

export type SeriesKind = 'global' | 'vhost' | 'queue' | 'exchange' | 'channel' | 'connection';

export interface SamplerOptions {
  /** Milliseconds between samples; 0 = only when `sampleNow()` is called (tests). Default 5000. */
  readonly intervalMs?: number;
  readonly now?: () => number;
  readonly fineRetentionMs?: number;
  readonly coarseIntervalMs?: number;
  readonly coarseRetentionMs?: number;
}

/** Ranges asked for in a request: lengths and message rates separately, as RabbitMQ. */
export interface Ranges {
  readonly lengths?: Range | undefined;
  readonly msgRates?: Range | undefined;
}

export class RateSampler {
  readonly intervalMs: number;
  readonly policy: SeriesPolicy;
  private readonly now: () => number;
  private global: Series | undefined;
  private readonly vhosts = new Map<string, { series: Series; totals: Float64Array }>();
  private readonly queues = new Map<Queue, Series>();
  private readonly exchanges = new Map<Exchange, Series>();
  private readonly channels = new Map<Channel, Series>();
  /** A connection's channels summed (Warren's connection `message_stats`). */
  private readonly connectionSeries = new Map<ClientConnection, Series>();
  private generation = 0;
  private lastSampleAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly broker: Broker,
    private readonly connections: ConnectionRegistry,
    options: SamplerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5000;
    this.now = options.now ?? Date.now;
    this.policy = {
      intervalMs: this.intervalMs || 5000,
      fineRetentionMs: options.fineRetentionMs ?? 600_000,
      coarseIntervalMs: options.coarseIntervalMs ?? 60_000,
      coarseRetentionMs: options.coarseRetentionMs ?? 3_600_000,
    };
  }

  start(): void {
    if (this.timer || this.intervalMs <= 0) return;
    this.sampleNow();
    this.timer = setInterval(() => this.sampleNow(), this.intervalMs);
    // Sampling must never keep the process alive on its own.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Time of the newest sample (the clock when there is none yet). */
  get latestSampleAt(): number {
    return this.lastSampleAt || this.now();
  }

  sampleNow(at = this.now()): void {
    const generation = ++this.generation;
    const globalValues = new Float64Array(GlobalMetrics.length);
    let ready = 0;
    let unacked = 0;
    for (const vhost of this.broker.vhosts.values()) {
      const aggregate = this.vhostAggregate(vhost.name, at);
      aggregate.series.seen = generation;
      const totals = aggregate.totals;
      let vhostReady = 0;
      let vhostUnacked = 0;
      for (const exchange of vhost.exchanges.values()) {
        const values = Float64Array.of(exchange.stats.publish, exchange.stats.publishOut);
        const series = this.track(this.exchanges, exchange, values.length, at, generation);
        totals[0] = (totals[0] as number) + values[0]! - series.latest[0]!;
        series.record(at, values);
      }
      for (const queue of vhost.queues.values()) {
        const values = queueValues(queue);
        const series = this.track(this.queues, queue, values.length, at, generation);
        // Deltas, so a deleted queue does not make the vhost's counters go backwards.
        for (let m = 1; m < 8; m++) totals[m] = (totals[m] as number) + values[m]! - series.latest[m]!;
        series.record(at, values);
        vhostReady += queue.messageCount;
        vhostUnacked += queue.unackedCount;
      }
      totals[8] = vhostReady + vhostUnacked;
      totals[9] = vhostReady;
      totals[10] = vhostUnacked;
      aggregate.series.record(at, totals);
      ready += vhostReady;
      unacked += vhostUnacked;
    }
    for (const connection of this.connections.list()) {
      if (!connection.isOpen) continue;
      const sum = new Float64Array(ConnectionMetrics.length);
      for (const view of connection.channels()) {
        const values = channelValues(view.channel.stats);
        this.track(this.channels, view.channel, values.length, at, generation).record(at, values);
        for (let m = 0; m < sum.length; m++) sum[m] = (sum[m] as number) + values[m]!;
      }
      sum[ChannelMetrics.length] = connection.traffic.bytesReceived;
      sum[ChannelMetrics.length + 1] = connection.traffic.bytesSent;
      this.track(this.connectionSeries, connection, sum.length, at, generation).record(at, sum);
    }
    globalValues.set(channelValues(this.broker.stats));
    globalValues[ChannelMetrics.length] = ready + unacked;
    globalValues[ChannelMetrics.length + 1] = ready;
    globalValues[ChannelMetrics.length + 2] = unacked;
    this.global ??= new Series(GlobalMetrics.length, this.policy, at);
    this.global.record(at, globalValues);
    for (const map of [this.queues, this.exchanges, this.channels, this.connectionSeries] as Map<unknown, Series>[]) {
      for (const [key, series] of map) if (series.seen !== generation) map.delete(key);
    }
    for (const [name, aggregate] of this.vhosts) if (aggregate.series.seen !== generation) this.vhosts.delete(name);
    this.lastSampleAt = at;
  }

  /** The series of an object, or undefined when it has not been sampled yet. */
  series(kind: 'queue', key: Queue): Series | undefined;
  series(kind: 'exchange', key: Exchange): Series | undefined;
  series(kind: 'channel', key: Channel): Series | undefined;
  series(kind: 'connection', key: ClientConnection): Series | undefined;
  series(kind: 'vhost', key: string): Series | undefined;
  series(kind: 'global'): Series | undefined;
  series(kind: SeriesKind, key?: unknown): Series | undefined {
    switch (kind) {
      case 'global':
        return this.global;
      case 'vhost':
        return this.vhosts.get(key as string)?.series;
      case 'queue':
        return this.queues.get(key as Queue);
      case 'exchange':
        return this.exchanges.get(key as Exchange);
      case 'channel':
        return this.channels.get(key as Channel);
      case 'connection':
        return this.connectionSeries.get(key as ClientConnection);
    }
  }

  /** `<metric>_details` for one metric of a series (zero rate when not sampled yet). */
  details(series: Series | undefined, metrics: readonly string[], metric: string, ranges: Ranges): Details {
    const index = metrics.indexOf(metric);
    const range = LengthMetrics.has(metric) ? ranges.lengths : ranges.msgRates;
    if (!series || index < 0) return range ? { rate: 0, samples: [], avg_rate: 0, avg: 0 } : { rate: 0 };
    return series.details(index, range, this.latestSampleAt);
  }

  /** `message_stats`: each counter with its `_details`; undefined before any activity, as RabbitMQ omits it. */
  messageStats(
    counters: Record<string, number>,
    series: Series | undefined,
    metrics: readonly string[],
    ranges: Ranges,
  ): Record<string, unknown> | undefined {
    if (Object.values(counters).every((v) => v === 0)) return undefined;
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(counters)) {
      out[name] = value;
      out[`${name}_details`] = this.details(series, metrics, name, ranges);
    }
    return out;
  }

  private track<K>(map: Map<K, Series>, key: K, stride: number, at: number, generation: number): Series {
    let series = map.get(key);
    if (!series) {
      series = new Series(stride, this.policy, at);
      map.set(key, series);
    }
    series.seen = generation;
    return series;
  }

  private vhostAggregate(name: string, at: number): { series: Series; totals: Float64Array } {
    let aggregate = this.vhosts.get(name);
    if (!aggregate) {
      aggregate = { series: new Series(VhostMetrics.length, this.policy, at), totals: new Float64Array(VhostMetrics.length) };
      this.vhosts.set(name, aggregate);
    }
    return aggregate;
  }
}

function queueValues(queue: Queue): Float64Array {
  const s = queue.stats;
  const ready = queue.messageCount;
  const unacked = queue.unackedCount;
  return Float64Array.of(s.publish, s.deliver, s.deliverNoAck, s.get, s.getNoAck, s.deliverGet, s.redeliver, s.ack, ready + unacked, ready, unacked);
}

function channelValues(s: MessageStats): Float64Array {
  return Float64Array.of(
    s.publish,
    s.confirm,
    s.returnUnroutable,
    s.dropUnroutable,
    s.deliver,
    s.deliverNoAck,
    s.get,
    s.getNoAck,
    s.deliverGet,
    s.redeliver,
    s.ack,
  );
}

/** Live counter values keyed by metric name, for `message_stats` (fresher than the last sample). */
export function queueCounters(queue: Queue): Record<string, number> {
  const s = queue.stats;
  return {
    publish: s.publish,
    deliver: s.deliver,
    deliver_no_ack: s.deliverNoAck,
    get: s.get,
    get_no_ack: s.getNoAck,
    deliver_get: s.deliverGet,
    redeliver: s.redeliver,
    ack: s.ack,
  };
}

export function exchangeCounters(exchange: Exchange): Record<string, number> {
  return { publish_in: exchange.stats.publish, publish_out: exchange.stats.publishOut };
}

/** A connection's counters: its open channels' summed (a closed channel's counts leave with it). */
export function connectionCounters(connection: ClientConnection): Record<string, number> {
  const out: Record<string, number> = {};
  for (const view of connection.channels()) {
    for (const [name, value] of Object.entries(channelCounters(view.channel.stats))) out[name] = (out[name] ?? 0) + value;
  }
  return out;
}

export function channelCounters(s: MessageStats): Record<string, number> {
  return {
    publish: s.publish,
    confirm: s.confirm,
    return_unroutable: s.returnUnroutable,
    drop_unroutable: s.dropUnroutable,
    deliver: s.deliver,
    deliver_no_ack: s.deliverNoAck,
    get: s.get,
    get_no_ack: s.getNoAck,
    deliver_get: s.deliverGet,
    redeliver: s.redeliver,
    ack: s.ack,
  };
}
