// Heartbeat bookkeeping without a clock: the owner says "something was received/sent" as it happens and
// calls tick(now) periodically; times are only ever read from tick. This is how RabbitMQ's
// rabbit_heartbeat.erl works too: it polls the socket's byte counters rather than timing each frame.

export type HeartbeatVerdict = 'ok' | 'send-heartbeat' | 'timed-out';

export class HeartbeatMonitor {
  private receivedSinceTick = false;
  private sentSinceTick = false;
  private lastReceivedAt: number | undefined;
  private lastSentAt: number | undefined;

  /** @param intervalMs the negotiated heartbeat in milliseconds; 0 disables both directions. */
  constructor(readonly intervalMs: number) {}

  received(): void {
    this.receivedSinceTick = true;
  }

  sent(): void {
    this.sentSinceTick = true;
  }

  /**
   * Sending: a heartbeat is due once nothing was sent for half an interval. RabbitMQ's sender checks
   * every interval/2 for the same reason: a frame sent just after a check must not leave the peer
   * waiting nearly two intervals. Receiving: the peer is dead after two intervals with nothing
   * received (the spec's "two heartbeat intervals"; RabbitMQ's poll gives 2 to 3).
   */
  tick(now: number): HeartbeatVerdict {
    if (this.receivedSinceTick || this.lastReceivedAt === undefined) this.lastReceivedAt = now;
    if (this.sentSinceTick || this.lastSentAt === undefined) this.lastSentAt = now;
    this.receivedSinceTick = false;
    this.sentSinceTick = false;
    if (this.intervalMs <= 0) return 'ok';
    if (now - this.lastReceivedAt >= 2 * this.intervalMs) return 'timed-out';
    if (now - this.lastSentAt >= this.intervalMs / 2) {
      this.lastSentAt = now;
      return 'send-heartbeat';
    }
    return 'ok';
  }
}
