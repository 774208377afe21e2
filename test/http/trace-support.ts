/**
 * Reading `GET /api/trace/{vhost}/stream` over a real socket: lines as they arrive, waited for by
 * predicate, and a reader that can stop reading (to fall behind) or hang up.
 */
import { request, type IncomingMessage } from 'node:http';
import { basic } from './support.js';

export interface TraceLine {
  readonly type: string;
  readonly [field: string]: unknown;
}

export interface TraceReader {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  /** Every line so far. */
  readonly lines: TraceLine[];
  /** Resolves with the first line (from the start) matching, waiting for it if need be. */
  waitFor(match: (line: TraceLine) => boolean, what?: string): Promise<TraceLine>;
  /** Resolves once the server ended the response. */
  readonly ended: Promise<void>;
  /** Stop reading: what the server sends piles up in its buffers. */
  pause(): void;
  resume(): void;
  /** Hang up. */
  close(): void;
}

const WAIT_MS = 10_000;

export function openTrace(baseUrl: string, path: string, as: readonly [string, string] = ['guest', 'guest']): Promise<TraceReader> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, { headers: { authorization: basic(as[0], as[1]) } }, (res) => {
      const lines: TraceLine[] = [];
      const waiters: Array<() => void> = [];
      let partial = '';
      let endedResolve: () => void = () => undefined;
      const ended = new Promise<void>((done) => (endedResolve = done));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        partial += chunk;
        let at = partial.indexOf('\n');
        while (at >= 0) {
          const text = partial.slice(0, at);
          partial = partial.slice(at + 1);
          if (text !== '') lines.push(JSON.parse(text) as TraceLine);
          at = partial.indexOf('\n');
        }
        for (const waiter of [...waiters]) waiter();
      });
      res.on('end', () => {
        if (partial !== '') lines.push(JSON.parse(partial) as TraceLine);
        endedResolve();
        for (const waiter of [...waiters]) waiter();
      });
      res.on('error', () => endedResolve());
      res.on('close', () => endedResolve());
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        lines,
        ended,
        waitFor(match, what = 'a matching line') {
          return new Promise((found, fail) => {
            const check = (): boolean => {
              const line = lines.find(match);
              if (!line) return false;
              clearTimeout(timer);
              waiters.splice(waiters.indexOf(onChange), 1);
              found(line);
              return true;
            };
            const onChange = (): void => void check();
            const timer = setTimeout(() => {
              waiters.splice(waiters.indexOf(onChange), 1);
              fail(new Error(`timed out waiting for ${what}; lines: ${JSON.stringify(lines).slice(0, 2000)}`));
            }, WAIT_MS);
            waiters.push(onChange);
            check();
          });
        },
        pause: () => res.pause(),
        resume: () => res.resume(),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The event lines of one kind, in order. */
export function eventsOf(reader: TraceReader, kind?: string): TraceLine[] {
  return reader.lines.filter((line) => line.type === 'event' && (kind === undefined || line.event === kind));
}
