/**
 * The management REST API under /api, shaped like RabbitMQ's so rabbitmqadmin, curl scripts and HTTP
 * clients written for RabbitMQ work unchanged (docs/http-api.md lists what differs).
 *
 * Everything here is scoped to one encapsulated fastify plugin: its own body parser (RabbitMQ accepts
 * JSON whatever the content type), its own ajv (no type coercion: RabbitMQ's booleans-as-strings are
 * spelled out in the schemas), its error shape, its auth hook and a catch-all for 404/405.
 */
import type { Authenticator } from '../../auth/authenticator.js';
import fastifySwagger from '@fastify/swagger';
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import { Ajv } from 'ajv';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hostname, totalmem } from 'node:os';
import type { UserStore } from '../../auth/user-store.js';
import type { Broker } from '../../broker/broker.js';
import type { Operations } from '../../operations/operations.js';
import type { ConnectionRegistry } from '../../protocol/connection-registry.js';
import { BoundListeners } from '../bound-listeners.js';
import type { TlsStatus } from '../tls/certificate-expiry.js';
import type { ClusterStatus } from '../../cluster/cluster-status.js';
import { RABBITMQ_VERSION } from './definitions-format.js';
import { BasicAuth } from './auth.js';
import { parseBody } from './body.js';
import type { ApiContext, ApiInstance } from './context.js';
import { ApiError, errorHandler, objectNotFound, sendError } from './errors.js';
import { applyColumns } from './listing.js';
import { RateSampler, type SamplerOptions } from './rates.js';
import { registerBindingRoutes } from './routes/bindings.js';
import { registerClusterRoutes } from './routes/cluster.js';
import { registerConnectionRoutes } from './routes/connections.js';
import { registerDefinitionRoutes } from './routes/definitions.js';
import { registerExchangeRoutes } from './routes/exchanges.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerLimitRoutes } from './routes/limits.js';
import { registerOverviewRoutes } from './routes/overview.js';
import { registerMessageRoutes } from './routes/messages.js';
import { registerMoveRoutes } from './routes/move.js';
import { registerPolicyRoutes } from './routes/policies.js';
import { registerQueueRoutes } from './routes/queues.js';
import { registerScheduledRoutes } from './routes/scheduled.js';
import { registerStubRoutes } from './routes/stubs.js';
import { registerTopicPermissionRoutes } from './routes/topic-permissions.js';
import { registerTraceRoutes } from './routes/trace.js';
import { registerUserRoutes } from './routes/users.js';
import { registerVhostRoutes } from './routes/vhosts.js';

export interface ManagementApiOptions {
  readonly broker: Broker;
  readonly users: UserStore;
  /** Who logs in (users and, when configured, tokens); the user store when absent. */
  readonly authenticator?: Authenticator;
  readonly connections: ConnectionRegistry;
  readonly ops: Operations;
  readonly version: string;
  /** Rate sampling; `intervalMs: 0` samples only on `sampler.sampleNow()` (tests). */
  readonly sampler?: SamplerOptions;
  /** Memory high watermark in bytes (default 40% of RAM). */
  readonly memoryLimit?: () => number;
  readonly disk?: () => { path: string; used: number; free: number; freeLimit: number };
  readonly tls?: TlsStatus | undefined;
  /** Every bound listener; without it, only the HTTP port this API is served on. */
  readonly listeners?: BoundListeners;
  /** `GET /api/cluster` with `--cluster` (the orchestrator's view); without it the API answers `{cluster: false}`. */
  readonly clusterStatus?: (() => ClusterStatus | Promise<ClusterStatus>) | undefined;
}

export interface ManagementApi {
  readonly sampler: RateSampler;
  readonly auth: BasicAuth;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Set by `registerManagementApi` on the instance it was given. */
    managementApi: ManagementApi;
  }
  interface FastifyContextConfig {
    /** Marks the API's 404/405 fallback routes, which must not count as known paths. */
    catchAll?: boolean;
  }
}

/** Room for the largest message in base64 plus JSON around it; RabbitMQ's own cap is 20 MB. */
function bigBodyLimit(maxBodySize: number): number {
  return Math.max(20_000_000, Math.ceil((maxBodySize * 4) / 3) + 1024 * 1024);
}

export async function registerManagementApi(app: FastifyInstance, options: ManagementApiOptions): Promise<ManagementApi> {
  const sampler = new RateSampler(options.broker, options.connections, options.sampler);
  const auth = new BasicAuth(options.authenticator ?? options.users);
  const api: ManagementApi = { sampler, auth };
  app.decorate('managementApi', api);
  const ctx: ApiContext = {
    broker: options.broker,
    users: options.users,
    connections: options.connections,
    ops: options.ops,
    version: options.version,
    sampler,
    node: `warren@${hostname()}`,
    startedAt: Date.now(),
    bigBodyLimit: bigBodyLimit(options.broker.maxBodySize),
    memoryLimit: options.memoryLimit ?? (() => Math.floor(totalmem() * 0.4)),
    disk: options.disk ?? (() => ({ path: '', used: 0, free: 0, freeLimit: 0 })),
    tls: options.tls,
    clusterStatus: options.clusterStatus,
    listener() {
      const address = app.server.address();
      return typeof address === 'object' && address ? { address: address.address, port: address.port } : undefined;
    },
    listeners() {
      if (options.listeners) return options.listeners.list();
      const http = this.listener();
      if (!http) return [];
      const only = new BoundListeners();
      only.addHttp(false, http.address, http.port);
      return only.list();
    },
  };
  await app.register(async (scope) => managementPlugin(scope, ctx, auth), { prefix: '/api' });
  sampler.start();
  app.addHook('onClose', async () => sampler.stop());
  return api;
}

interface KnownRoute {
  readonly method: string;
  readonly pattern: RegExp;
}

async function managementPlugin(scope: FastifyInstance, ctx: ApiContext, auth: BasicAuth): Promise<void> {
  const ajv = new Ajv({ coerceTypes: false, useDefaults: true, allErrors: false, verbose: true, strict: false });
  scope.setValidatorCompiler(({ schema }) => ajv.compile(schema));
  scope.setErrorHandler(errorHandler);
  scope.decorateRequest('apiUser', null);
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request: FastifyRequest, body: string | Buffer, done) => {
    try {
      done(null, parseBody(request.headers['content-type'], typeof body === 'string' ? Buffer.from(body) : body));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  // An empty body (or JSON null) is `{}`, as in RabbitMQ, so every body schema sees an object.
  scope.addHook('preValidation', async (request) => {
    if ((request.method === 'PUT' || request.method === 'POST') && (request.body === undefined || request.body === null)) {
      request.body = {};
    }
  });
  scope.addHook('onRequest', async (request) => {
    // CORS pre-flight carries no credentials; RabbitMQ answers it unauthenticated too.
    if (request.method === 'OPTIONS') return;
    await auth.check(request);
  });
  scope.addHook('preSerialization', async (request, reply, payload) => {
    if (request.method !== 'GET' || reply.statusCode >= 400) return payload;
    const columns = (request.query as Record<string, unknown> | undefined)?.columns;
    return applyColumns(payload, typeof columns === 'string' ? columns : undefined);
  });
  scope.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-cache');
    reply.header('vary', 'accept, accept-encoding, origin');
    return payload;
  });

  const known: KnownRoute[] = [];
  scope.addHook('onRoute', (route) => {
    if (route.config?.catchAll) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = new RegExp(`^${route.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+')}$`);
    for (const method of methods) known.push({ method, pattern });
  });

  await scope.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Warren management API',
        description: `RabbitMQ-compatible management HTTP API (follows RabbitMQ ${RABBITMQ_VERSION}). See docs/http-api.md.`,
        version: ctx.version,
      },
      components: { securitySchemes: { basic: { type: 'http', scheme: 'basic' } } },
      security: [{ basic: [] }],
    },
  });

  const app: ApiInstance = scope.withTypeProvider<JsonSchemaToTsProvider>();
  registerOverviewRoutes(app, ctx);
  registerClusterRoutes(app, ctx);
  registerHealthRoutes(app, ctx);
  registerVhostRoutes(app, ctx);
  registerExchangeRoutes(app, ctx);
  registerQueueRoutes(app, ctx);
  registerPolicyRoutes(app, ctx);
  registerMessageRoutes(app, ctx);
  registerMoveRoutes(app, ctx);
  registerScheduledRoutes(app, ctx);
  registerBindingRoutes(app, ctx);
  registerConnectionRoutes(app, ctx);
  registerUserRoutes(app, ctx);
  registerTopicPermissionRoutes(app, ctx);
  registerDefinitionRoutes(app, ctx);
  registerLimitRoutes(app, ctx);
  registerTraceRoutes(app, ctx);
  registerStubRoutes(app, ctx);

  scope.get('/openapi.json', { schema: { hide: true } }, async () => scope.swagger());

  // Unknown paths get RabbitMQ's 404 body; known paths with another method get 405 with `allow`.
  async function unmatched(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(known.filter((r) => r.pattern.test(path)).map((r) => r.method))];
    if (request.method === 'OPTIONS') {
      if (allowed.length === 0) return sendError(objectNotFound(), reply);
      return reply.code(204).header('allow', [...allowed, 'OPTIONS'].join(', ')).send();
    }
    if (allowed.length > 0) {
      const reason = `${request.method} is not allowed here; use ${allowed.join(', ')}`;
      return sendError(new ApiError(405, 'method_not_allowed', reason, { allow: allowed.join(', ') }), reply);
    }
    return sendError(objectNotFound(), reply);
  }
  scope.all('/*', { config: { catchAll: true }, schema: { hide: true } }, unmatched);
  scope.all('/', { config: { catchAll: true }, prefixTrailingSlash: 'no-slash', schema: { hide: true } }, unmatched);
}
