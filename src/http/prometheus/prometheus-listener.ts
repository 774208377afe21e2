import http from 'node:http';
import type https from 'node:https';
import { aggregated, detailed, perObject } from './endpoints.js';
import { DetailedQueryError, parseDetailedQuery } from './detailed-query.js';
import { CONTENT_TYPE } from './exposition.js';
import type { MetricsSource } from './metrics-source.js';

export type RequestHandler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

export interface PrometheusListenerOptions {
  readonly source: MetricsSource;
  /** Log for scrape failures (a bug, not the client's fault). */
  readonly log: { error(object: unknown, message: string): void };
  /** Builds the server around the handler: plain HTTP by default; a TLS listener passes `https.createServer` with its options. */
  readonly createServer?: (handler: RequestHandler) => http.Server | https.Server;
}

/**
 * RabbitMQ's `rabbitmq_prometheus` endpoints on a port of their own: `/metrics`, `/metrics/per-object`
 * and `/metrics/detailed`. No authentication, as RabbitMQ's: the metrics name vhosts, queues and users'
 * connections but carry no message contents or credentials; bind it where only Prometheus reaches.
 */
export class PrometheusListener {
  private readonly server: http.Server | https.Server;

  constructor(private readonly options: PrometheusListenerOptions) {
    const handler: RequestHandler = (request, response) => void this.handle(request, response);
    this.server = (options.createServer ?? ((h) => http.createServer(h)))(handler);
  }

  /** Resolves with the port bound (0 picks a free one). */
  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.options.source.eventLoop.start();
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : port;
  }

  async close(): Promise<void> {
    this.options.source.eventLoop.stop();
    if (!this.server.listening) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://metrics');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return reply(response, 405, { error: 'method_not_allowed', reason: `${request.method ?? ''} not allowed; scrape with GET` }, { allow: 'GET, HEAD' });
    }
    try {
      let body: string;
      if (url.pathname === '/metrics') body = await aggregated(this.options.source);
      else if (url.pathname === '/metrics/per-object') body = await perObject(this.options.source);
      else if (url.pathname === '/metrics/detailed') body = await detailed(this.options.source, parseDetailedQuery(url.searchParams));
      else return reply(response, 404, { error: 'not_found', reason: `no endpoint '${url.pathname}'; try /metrics, /metrics/per-object or /metrics/detailed?family=…` });
      response.writeHead(200, { 'content-type': CONTENT_TYPE });
      response.end(request.method === 'HEAD' ? undefined : body);
    } catch (error) {
      if (error instanceof DetailedQueryError) return reply(response, 400, { error: 'bad_request', reason: error.message });
      this.options.log.error({ err: error }, 'prometheus scrape failed');
      reply(response, 500, { error: 'internal_server_error', reason: 'scrape failed' });
    }
  }
}

function reply(response: http.ServerResponse, status: number, body: { error: string; reason: string }, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}
