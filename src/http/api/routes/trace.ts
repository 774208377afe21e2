/**
 * `GET /api/trace/{vhost}/stream`: a live view of the vhost's trace events (a Warren extension; see
 * docs/tracing.md). Administrators only. The response stays open, one JSON line per event, until the
 * watcher leaves, `max` events went out, the vhost is deleted or the server closes.
 */
import { setFirehoseNode } from '../../../broker/firehose.js';
import { parseTraceFilter } from '../../../operations/trace-filter.js';
import { DEFAULT_TRACE_MAX, MAX_TRACE_MAX, TraceWatch } from '../../../operations/trace-watch.js';
import { apiUser } from '../auth.js';
import { vhostOr404, vhostParams, type ApiContext, type ApiInstance } from '../context.js';
import { ApiError, badRequest } from '../errors.js';
import { TraceStream } from '../trace-stream.js';

const query = {
  type: 'object',
  properties: {
    exchange: { type: 'string', description: 'Only messages published to this exchange (exact name; `amq.default` is the default exchange)' },
    queue: { type: 'string', description: 'Only events in this queue, and the publishes routed to it' },
    routing_key: { type: 'string', description: 'Routing-key glob: `*` any run of characters, `?` one' },
    header: { type: 'string', description: 'One header, `name=value`' },
    max: { type: 'string', description: `Events before the stream ends (default ${DEFAULT_TRACE_MAX}, at most ${MAX_TRACE_MAX})` },
  },
} as const;

export function registerTraceRoutes(app: ApiInstance, ctx: ApiContext): void {
  // The firehose's `node` header names this node as the management API does.
  setFirehoseNode(ctx.node);
  /** Open streams, by the user watching. */
  const open = new Map<TraceStream, string>();
  /** The same streams by id, with their vhost, for pause and resume. */
  const byId = new Map<string, { stream: TraceStream; vhost: string }>();
  // An open stream would keep the server from closing: each gets its end first.
  app.addHook('preClose', async () => {
    for (const stream of open.keys()) stream.end({ type: 'closed', reason: 'server closing' });
  });
  // Authorised once, at the request: a watcher who stops being an administrator stops watching.
  const unsubscribe = ctx.users.subscribe((change) => {
    if (change.kind !== 'user' || (!change.deleted && change.user.tags.includes('administrator'))) return;
    const reason = change.deleted ? 'user deleted' : 'user is no longer an administrator';
    for (const [stream, user] of open) if (user === change.user.name) stream.end({ type: 'closed', reason });
  });
  app.addHook('onClose', async () => unsubscribe());
  app.get(
    '/trace/:vhost/stream',
    {
      schema: {
        tags: ['trace'],
        summary: 'Live trace events of a vhost, as newline-delimited JSON (Warren extension)',
        params: vhostParams,
        querystring: query,
      },
    },
    async (request, reply) => {
      const user = apiUser(request);
      if (!user.isAdmin) throw new ApiError(403, 'not_authorised', 'Not administrator user');
      const vhost = vhostOr404(ctx, request.params.vhost);
      const { max: rawMax, ...fields } = request.query;
      const max = parseMax(rawMax);
      const filter = parseTraceFilter({ ...fields, exchange: fields.exchange === 'amq.default' ? '' : fields.exchange });
      if ('problem' in filter) throw badRequest(filter.problem);

      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        'content-type': 'application/x-ndjson',
        'cache-control': 'no-cache',
        // Proxies (nginx) must pass each line on as it comes.
        'x-accel-buffering': 'no',
      });
      // A HEAD has no body to stream into.
      if (request.method === 'HEAD') {
        response.end();
        return reply;
      }
      const stream = new TraceStream(response);
      open.set(stream, user.name);
      byId.set(stream.id, { stream, vhost: vhost.name });
      stream.hello({
        type: 'hello',
        vhost: vhost.name,
        stream: stream.id,
        filter: {
          ...(filter.exchange !== undefined ? { exchange: filter.exchange } : {}),
          ...(filter.queue !== undefined ? { queue: filter.queue } : {}),
          ...(filter.routingKey !== undefined ? { routing_key: filter.routingKey } : {}),
          ...(filter.header !== undefined ? { header: `${filter.header.name}=${filter.header.value}` } : {}),
          max,
        },
      });
      const watch = new TraceWatch(vhost, filter, max, stream);
      response.on('close', () => {
        watch.stop();
        stream.end();
        open.delete(stream);
        byId.delete(stream.id);
      });
      return reply;
    },
  );

  app.put(
    '/trace/:vhost/stream/:id',
    {
      schema: {
        tags: ['trace'],
        summary: 'Pauses or resumes an open trace stream: while paused its events are only counted, and told as a gap line on resume',
        params: { type: 'object', properties: { vhost: { type: 'string' }, id: { type: 'string' } }, required: ['vhost', 'id'] },
        body: { type: 'object', properties: { paused: { type: 'boolean' } }, required: ['paused'], additionalProperties: false },
      },
    },
    async (request, reply) => {
      const user = apiUser(request);
      if (!user.isAdmin) throw new ApiError(403, 'not_authorised', 'Not administrator user');
      const vhost = vhostOr404(ctx, request.params.vhost);
      const found = byId.get(request.params.id);
      if (!found || found.vhost !== vhost.name) throw new ApiError(404, 'not_found', `no open trace stream '${request.params.id}' in vhost '${vhost.name}'`);
      found.stream.setPaused(request.body.paused);
      return reply.code(204).send();
    },
  );
}

function parseMax(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_TRACE_MAX;
  const max = Number(raw);
  if (!/^[0-9]+$/.test(raw) || max < 1 || max > MAX_TRACE_MAX) throw badRequest(`max must be an integer from 1 to ${MAX_TRACE_MAX}`);
  return max;
}
