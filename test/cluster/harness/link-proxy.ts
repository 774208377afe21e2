// A TCP proxy on loopback standing for one network link (in front of a node's cluster port), which a
// failure test can cut or black-hole and heal. Nodes are told to reach each other through it
// (`--cluster-advertise`), so a fault on it is a fault on that link only.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type LinkMode = 'open' | 'cut' | 'blackhole';

interface Pair {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** Bytes were dropped on this pair: its streams have holes and can never be forwarded again. */
  holed: boolean;
}

export class LinkProxy {
  readonly host = '127.0.0.1';
  #mode: LinkMode = 'open';
  #target: { host: string; port: number } | undefined;
  readonly #pairs = new Set<Pair>();
  #droppedBytes = 0;
  #accepted = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port. Without a target, connections are closed until `retarget`. */
  static async start(target?: { host: string; port: number }): Promise<LinkProxy> {
    let proxy: LinkProxy | undefined;
    const server = createServer({ pauseOnConnect: true }, (socket) => proxy?.accept(socket));
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (address === null || typeof address === 'string') reject(new Error('link proxy: no port'));
        else resolve(address.port);
      });
    });
    proxy = new LinkProxy(server, port);
    proxy.#target = target;
    return proxy;
  }

  /** `HOST:PORT`, for `--cluster-advertise`. */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get mode(): LinkMode {
    return this.#mode;
  }

  /** Connections open through the proxy now. */
  get connections(): number {
    return this.#pairs.size;
  }

  /** Connections accepted since start (refused ones included). */
  get accepted(): number {
    return this.#accepted;
  }

  /** Bytes swallowed by `blackhole()`, both directions. */
  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  /** Where new connections go (a restarted node listens on a new port); open ones are left alone. */
  retarget(host: string, port: number): void {
    this.#target = { host, port };
  }

  /** Every connection reset, new ones reset at once: the link is down and says so. */
  cut(): void {
    this.#mode = 'cut';
    for (const pair of this.#pairs) this.destroy(pair);
  }

  /**
   * Bytes vanish both ways and nobody is told: sockets stay open, new connections are accepted and
   * go nowhere. What a silent partition looks like until a timeout notices.
   */
  blackhole(): void {
    this.#mode = 'blackhole';
  }

  /**
   * Forwards again. Connections that lost bytes in a black hole are reset: a TCP stream with a hole in
   * it is garbage to both ends, and a real partition that long ends in a timeout.
   */
  heal(): void {
    this.#mode = 'open';
    for (const pair of this.#pairs) if (pair.holed) this.destroy(pair);
  }

  async close(): Promise<void> {
    for (const pair of this.#pairs) this.destroy(pair);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    this.#accepted++;
    if (this.#mode === 'cut' || (this.#mode === 'open' && this.#target === undefined)) {
      client.resetAndDestroy();
      return;
    }
    const pair: Pair = { client, upstream: undefined, holed: false };
    this.#pairs.add(pair);
    client.on('error', () => this.destroy(pair));
    client.on('end', () => pair.upstream?.end());
    client.on('close', () => this.release(pair));
    client.on('data', (chunk: Buffer) => this.forward(pair, chunk, 'up'));
    // A 'data' listener would start the flow; nothing is read before the upstream is connected.
    client.pause();
    if (this.#mode === 'blackhole' || this.#target === undefined) {
      pair.holed = true;
      client.resume();
      return;
    }
    const upstream = createConnection({ host: this.#target.host, port: this.#target.port });
    pair.upstream = upstream;
    upstream.on('error', () => this.destroy(pair));
    upstream.on('end', () => client.end());
    upstream.on('close', () => this.release(pair));
    upstream.on('data', (chunk: Buffer) => this.forward(pair, chunk, 'down'));
    upstream.on('connect', () => client.resume());
  }

  private forward(pair: Pair, chunk: Buffer, direction: 'up' | 'down'): void {
    if (this.#mode !== 'open' || pair.holed) {
      pair.holed = true;
      this.#droppedBytes += chunk.length;
      return;
    }
    const to = direction === 'up' ? pair.upstream : pair.client;
    const from = direction === 'up' ? pair.client : pair.upstream;
    if (to && !to.write(chunk)) {
      from?.pause();
      to.once('drain', () => from?.resume());
    }
  }

  /** One side closed cleanly: the other is ended after what is in flight (a FIN passes through). */
  private release(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.client.end();
    pair.upstream?.end();
  }

  private destroy(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.client.resetAndDestroy();
    pair.upstream?.resetAndDestroy();
  }
}
