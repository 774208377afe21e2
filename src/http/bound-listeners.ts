/**
 * Every port the broker listens on, by RabbitMQ's protocol names (`amqp`, `amqp/ssl`, `http`, `https`,
 * `http/prometheus`, …) plus Warren's own, for the overview's `listeners` and the listener health checks.
 * Filled as each listener binds; a listener that is off is simply not here.
 */
export interface BoundListener {
  readonly protocol: string;
  readonly address: string;
  readonly port: number;
  /** A WebSocket route's path on a shared HTTP port. */
  readonly path?: string;
}

export class BoundListeners {
  private readonly bound: BoundListener[] = [];

  add(listener: BoundListener): void {
    this.bound.push(listener);
  }

  /** The HTTP port's protocols: the API and console, and the two WebSocket routes on it. */
  addHttp(secure: boolean, address: string, port: number): void {
    const http = secure ? 'https' : 'http';
    this.add({ protocol: http, address, port });
    this.add({ protocol: secure ? 'warren-ws/ssl' : 'warren-ws', address, port, path: '/ws' });
    // RabbitMQ's name for AMQP over WebSocket (its web-amqp plugin).
    this.add({ protocol: `${http}/web-amqp`, address, port, path: '/amqp' });
  }

  list(): readonly BoundListener[] {
    return this.bound;
  }
}
