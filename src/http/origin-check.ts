/**
 * Which web pages may open the broker's WebSockets. A browser sends the page's origin with every upgrade
 * and lets any page connect anywhere, so the broker has to refuse foreign pages itself: otherwise any site
 * its user visits could read and write a local broker (a browser on the developer's machine is loopback).
 * Clients that send no `Origin` (programs, not browsers) are not affected.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** One `--ws-allowed-origins` entry: `*`, an exact origin, or `scheme://*.domain[:port]`. */
const ENTRY = /^(\*|[a-z][a-z0-9+.-]*:\/\/(\*\.)?[a-z0-9.[\]:-]+(:\d{1,5})?)$/;

/** Splits and checks a comma-separated list of origins (the setting's value); throws naming a bad entry. */
export function parseOriginList(raw: string): string[] {
  const entries = raw
    .split(',')
    .map((entry) => entry.trim().toLowerCase().replace(/\/$/, ''))
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    if (!ENTRY.test(entry)) {
      throw new Error(`'${entry}' is not an origin: expected scheme://host[:port], scheme://*.domain[:port] or *`);
    }
  }
  return entries;
}

/** `new URL(..).origin`: lower case, default port dropped; undefined when it is no URL (`null`, garbage). */
function normalise(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.origin === 'null' ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

export class AllowedOrigins {
  private readonly exact = new Set<string>();
  private readonly wildcards: RegExp[] = [];
  private readonly any: boolean;

  constructor(entries: readonly string[]) {
    this.any = entries.includes('*');
    for (const entry of entries) {
      if (entry === '*') continue;
      const star = entry.indexOf('://*.');
      if (star < 0) {
        const origin = normalise(entry);
        if (origin) this.exact.add(origin);
        continue;
      }
      // `https://*.example.com` takes any subdomain, at any depth, but not `example.com` itself.
      const scheme = entry.slice(0, star);
      const rest = normalise(`${scheme}://${entry.slice(star + 5)}`)?.slice(scheme.length + 3) ?? entry.slice(star + 5);
      this.wildcards.push(new RegExp(`^${escape(scheme)}://[a-z0-9-]+(\\.[a-z0-9-]+)*\\.${escape(rest)}$`));
    }
  }

  /** Whether a page from `origin` may connect: the broker's own origin always may. */
  allows(origin: string, own: string | undefined): boolean {
    const normalised = normalise(origin);
    if (normalised === undefined) return false;
    return normalised === own || this.listed(normalised);
  }

  /** Named by the setting (the broker's own pages never need CORS). */
  listed(origin: string): boolean {
    const normalised = normalise(origin);
    if (normalised === undefined) return false;
    return this.any || this.exact.has(normalised) || this.wildcards.some((pattern) => pattern.test(normalised));
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The origin the request was addressed to: its scheme (`https` when the server speaks TLS) and its `Host`.
 * A page served by this broker from that address has exactly this origin.
 */
export function ownOrigin(request: FastifyRequest): string | undefined {
  const host = request.headers.host;
  if (!host) return undefined;
  return normalise(`${request.protocol}://${host}`);
}

/** The request's `Origin` when it is not the broker's own (then `guest` and other loopback users are refused). */
export function foreignOrigin(request: FastifyRequest): string | undefined {
  const origin = request.headers.origin;
  if (origin === undefined) return undefined;
  return normalise(origin) === ownOrigin(request) ? undefined : origin;
}

/** WebSocket routes whose upgrades are checked. */
const CHECKED_PATHS: ReadonlySet<string> = new Set(['/ws', '/amqp']);

/**
 * Refuses upgrades from pages of origins not allowed, with HTTP 403 before any WebSocket exists. Must be
 * registered before the routes it guards.
 */
export function registerOriginCheck(app: FastifyInstance, allowed: AllowedOrigins): void {
  app.addHook('onRequest', async (request, reply) => {
    // The matched route, not the raw URL: `/ws?x`, `/ws/` or an encoded path reach the same handler.
    const route = request.routeOptions.url;
    if (route === undefined || !CHECKED_PATHS.has(route)) return;
    const origin = request.headers.origin;
    if (origin === undefined || allowed.allows(origin, ownOrigin(request))) return;
    const reason = `origin '${origin}' is not allowed to open ${route}: see --ws-allowed-origins`;
    request.log.info({ origin, peer: request.socket.remoteAddress, url: request.url }, 'WebSocket upgrade refused: origin not allowed');
    await reply.code(403).type('application/json').send({ error: 'forbidden', reason });
  });
}
