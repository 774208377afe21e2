import { Histogram, MESSAGE_SIZE_BOUNDS } from './histogram.js';
import { MessageStats } from './message-stats.js';

/** The broker-wide counters of one client protocol: they outlive its channels. */
export class ProtocolTotals {
  channelsOpened = 0;
  channelsClosed = 0;
  /** The counters of its closed channels, added up when each closed. */
  readonly retired = new MessageStats();
  /** Sizes of the message bodies its clients published (RabbitMQ's `rabbitmq_message_size_bytes`). */
  readonly messageSizes = new Histogram(MESSAGE_SIZE_BOUNDS);
  /** Its open channels, whose counters are still moving. */
  readonly open = new Set<ChannelCounters>();

  constructor(readonly protocol: string) {}

  /** Open channels' counters plus the closed ones': monotonic however channels come and go. */
  totals(): MessageStats {
    const sum = new MessageStats();
    addStats(sum, this.retired);
    for (const channel of this.open) addStats(sum, channel.stats);
    return sum;
  }
}

/** What the tally needs of a channel. */
export interface ChannelCounters {
  readonly stats: MessageStats;
  readonly consumerCount: number;
}

/**
 * Channels by client protocol, for the broker-wide per-protocol counters (RabbitMQ's
 * `rabbitmq_global_*{protocol=…}`, channels opened and closed). Nothing is counted per message here: a
 * channel's own counters are read while it is open and folded into its protocol's total when it closes.
 */
export class ChannelTally {
  private readonly byProtocol = new Map<string, ProtocolTotals>();

  /** The protocol's totals, created on first use. */
  protocol(name: string): ProtocolTotals {
    let totals = this.byProtocol.get(name);
    if (!totals) {
      totals = new ProtocolTotals(name);
      this.byProtocol.set(name, totals);
    }
    return totals;
  }

  protocols(): ProtocolTotals[] {
    return [...this.byProtocol.values()];
  }

  opened(protocol: string, channel: ChannelCounters): ProtocolTotals {
    const totals = this.protocol(protocol);
    totals.channelsOpened++;
    totals.open.add(channel);
    return totals;
  }

  closed(totals: ProtocolTotals, channel: ChannelCounters): void {
    if (!totals.open.delete(channel)) return;
    totals.channelsClosed++;
    addStats(totals.retired, channel.stats);
  }
}

function addStats(into: MessageStats, from: MessageStats): void {
  into.publish += from.publish;
  into.publishOut += from.publishOut;
  into.confirm += from.confirm;
  into.returnUnroutable += from.returnUnroutable;
  into.dropUnroutable += from.dropUnroutable;
  into.deliver += from.deliver;
  into.deliverNoAck += from.deliverNoAck;
  into.get += from.get;
  into.getNoAck += from.getNoAck;
  into.getEmpty += from.getEmpty;
  into.redeliver += from.redeliver;
  into.ack += from.ack;
  into.reject += from.reject;
  for (const reason of Object.keys(from.deadLettered) as Array<keyof MessageStats['deadLettered']>) into.deadLettered[reason] += from.deadLettered[reason];
  into.deadLetterDropped += from.deadLetterDropped;
}
