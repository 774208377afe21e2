/**
 * CORS for the management API, for the origins the operator allowed (`--ws-allowed-origins`) and no
 * others: a page of another origin may call `/api` with a token in `Authorization` only when listed.
 * With the default (the broker's own origin) nothing is answered, as before: the console is same-origin.
 * No `Access-Control-Allow-Credentials`: the browser's stored Basic credentials or cookies are never
 * lent to another origin; a page sends its own `Authorization` header.
 */
import type { FastifyInstance } from 'fastify';
import type { AllowedOrigins } from '../origin-check.js';

const ALLOWED_METHODS = 'GET, PUT, POST, DELETE, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type';
const MAX_AGE_SECONDS = '600';

export function registerApiCors(app: FastifyInstance, allowed: AllowedOrigins): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/') && request.url !== '/api') return;
    const origin = request.headers.origin;
    if (origin === undefined || !allowed.listed(origin)) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('vary', 'origin');
    const preflight = request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined;
    if (!preflight) return;
    await reply
      .code(204)
      .header('access-control-allow-methods', ALLOWED_METHODS)
      .header('access-control-allow-headers', ALLOWED_HEADERS)
      .header('access-control-max-age', MAX_AGE_SECONDS)
      .send();
  });
}
