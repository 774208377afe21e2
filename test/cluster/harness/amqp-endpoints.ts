// Where the load driver's clients go: every node's client ports, read afresh on each reconnect (a
// restarted node listens on new ports), tried round-robin.
import amqplib, { type ChannelModel } from 'amqplib';

export interface NodeEndpoint {
  readonly node: string;
  /** `amqp://guest:guest@HOST:PORT` */
  readonly amqpUrl: string;
  /** `http://HOST:PORT` */
  readonly httpUrl: string;
}

export type Endpoints = () => readonly NodeEndpoint[];

export class NoEndpointError extends Error {
  readonly code = 'NO_ENDPOINT';
}

/** The next endpoint in turn; `turn` is the caller's counter. */
export function pick(endpoints: Endpoints, turn: number): NodeEndpoint {
  const all = endpoints();
  const endpoint = all[turn % Math.max(1, all.length)];
  if (!endpoint) throw new NoEndpointError('no node to connect to');
  return endpoint;
}

/**
 * Connects, giving up after `timeoutMs`: a stopped process's kernel still accepts the TCP connection,
 * and the AMQP handshake then waits forever. A connection that opens after the give-up is closed.
 */
export async function connectWithin(url: string, heartbeatSeconds: number, timeoutMs: number): Promise<ChannelModel> {
  const attempt = amqplib.connect(`${url}?heartbeat=${heartbeatSeconds}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`AMQP handshake with ${url} took over ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } catch (error) {
    attempt.then((late) => late.close().catch(() => undefined), () => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** 100–500 ms, as a client library's reconnect would. */
export function backoff(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 100 + Math.floor(Math.random() * 400)));
}

/** The first answer to `GET path` as guest from any node, in turn. */
export async function getJson(endpoints: Endpoints, path: string, timeoutMs = 2000): Promise<unknown> {
  const errors: string[] = [];
  for (const endpoint of endpoints()) {
    try {
      const response = await fetch(`${endpoint.httpUrl}${path}`, {
        headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` },
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (response.ok) return await response.json();
      errors.push(`${endpoint.node}: HTTP ${response.status}`);
    } catch (error) {
      errors.push(`${endpoint.node}: ${(error as Error).message}`);
    }
  }
  throw new Error(`GET ${path} failed on every node: ${errors.join('; ')}`);
}

/**
 * Closes, giving up after `timeoutMs` and dropping the socket: a connection blocked by an alarm is not
 * read (as in RabbitMQ), so its connection.close is never answered, and a stopped node never answers.
 */
export async function closeWithin(model: ChannelModel, timeoutMs = 3000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([model.close().then(() => 'closed' as const, () => 'closed' as const), timeout]);
  clearTimeout(timer);
  if (outcome === 'timeout') (model.connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
}
