/**
 * The route schemas are the one source for validation, the OpenAPI document and the handlers' types.
 * The document checks pin what the schemas said before their types were derived from them; the type
 * checks run under `tsc` (expectTypeOf does nothing at run time).
 */
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { boolish, intish, table, vhostNameParams, type ApiInstance, type Boolish, type Intish, type VhostNameParams } from '../../src/http/api/context.js';
import type { ListQuery } from '../../src/http/api/listing.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, array, record } from './support.js';

let warren: RunningWarren;
let paths: Record<string, unknown>;

beforeAll(async () => {
  warren = await startWarren();
  const doc = record((await apiClient(warren.server.app)('GET', '/api/openapi.json')).body);
  paths = record(doc.paths);
});
afterAll(() => warren.stop());

function operation(path: string, method: string): Record<string, unknown> {
  return record(record(paths[path])[method]);
}

function jsonBody(path: string, method: string): Record<string, unknown> {
  const content = record(record(operation(path, method).requestBody).content);
  return record(record(content['application/json']).schema);
}

function parameters(path: string, method: string): Record<string, unknown>[] {
  return array(operation(path, method).parameters);
}

describe('route schemas in the OpenAPI document', () => {
  it("spells out RabbitMQ's lenient booleans and integers in bodies", () => {
    const queue = record(jsonBody('/api/queues/{vhost}/{name}', 'put').properties);
    expect(queue.durable).toEqual({ enum: [true, false, 'true', 'false'], description: 'boolean, or "true" / "false"' });
    const get = jsonBody('/api/queues/{vhost}/{name}/get', 'post');
    expect(get.required).toEqual(['count', 'ackmode', 'encoding']);
    expect(record(get.properties).count).toEqual({ anyOf: [{ type: 'integer', minimum: 0 }, { type: 'string', pattern: '^[0-9]+$' }] });
    expect(record(get.properties).ackmode).toEqual({ enum: ['ack_requeue_true', 'ack_requeue_false', 'reject_requeue_true', 'reject_requeue_false'] });
    const user = record(jsonBody('/api/users/{name}', 'put').properties);
    expect(user.administrator).toEqual({ enum: [true, false, 'true', 'false'], description: 'Legacy; used when tags is absent' });
    expect(record(jsonBody('/api/bindings/{vhost}/e/{source}/q/{destination}', 'post').properties).routing_key).toEqual({ type: 'string', nullable: true });
    expect(jsonBody('/api/definitions', 'post')).toEqual({ type: 'object', description: 'A RabbitMQ definitions document' });
  });

  it('documents path parameters, described or as the path alone says', () => {
    expect(parameters('/api/queues/{vhost}/{name}', 'put')).toEqual([
      { schema: { type: 'string' }, in: 'path', name: 'vhost', required: true, description: 'Vhost name, percent-encoded (`%2F` for `/`)' },
      { schema: { type: 'string' }, in: 'path', name: 'name', required: true, description: 'Object name, percent-encoded' },
    ]);
    const binding = parameters('/api/bindings/{vhost}/e/{source}/q/{destination}/{props}', 'delete');
    expect(binding.map((p) => [p.in, p.name, p.required])).toEqual([
      ['path', 'vhost', true],
      ['path', 'source', true],
      ['path', 'destination', true],
      ['path', 'props', true],
    ]);
    expect(parameters('/api/aliveness-test/{vhost}', 'get')).toEqual([{ schema: { type: 'string' }, in: 'path', name: 'vhost', required: true }]);
    expect(parameters('/api/parameters/{component}/{vhost}', 'get').map((p) => p.name)).toEqual(['component', 'vhost']);
    expect(parameters('/api/connections/username/{username}', 'delete')).toEqual(
      expect.arrayContaining([
        { schema: { type: 'string' }, in: 'path', name: 'username', required: true },
        { schema: { type: 'string' }, in: 'header', name: 'x-reason', required: false, description: 'Shown to the client in the close frame' },
      ]),
    );
  });

  it('lists the paging and range query parameters of a list', () => {
    const query = parameters('/api/queues', 'get').filter((p) => p.in === 'query');
    expect(query.map((p) => p.name)).toEqual([
      'sort',
      'sort_reverse',
      'columns',
      'page',
      'page_size',
      'name',
      'use_regex',
      'pagination',
      'disable_stats',
      'enable_queue_totals',
      'lengths_age',
      'lengths_incr',
      'msg_rates_age',
      'msg_rates_incr',
    ]);
    expect(query.every((p) => p.required === false)).toBe(true);
  });
});

describe('types derived from the route schemas', () => {
  it('carry the lenient booleans and integers', () => {
    expectTypeOf<Boolish>().toEqualTypeOf<boolean | 'true' | 'false'>();
    expectTypeOf<Intish>().toEqualTypeOf<number | string>();
  });

  it('make path parameters required strings and query parameters optional', () => {
    expectTypeOf<VhostNameParams['vhost']>().toEqualTypeOf<string>();
    expectTypeOf<VhostNameParams['name']>().toEqualTypeOf<string>();
    expectTypeOf<ListQuery['sort_reverse']>().toEqualTypeOf<'true' | 'false' | undefined>();
    expectTypeOf<ListQuery['page']>().toEqualTypeOf<string | undefined>();
  });

  it('type a request on the API scope from its schema', async () => {
    const app: ApiInstance = Fastify().withTypeProvider<JsonSchemaToTsProvider>();
    const body = { type: 'object', required: ['count'], properties: { durable: boolish, count: intish, arguments: table } } as const;
    app.put('/queues/:vhost/:name', { schema: { params: vhostNameParams, body } }, async (request) => {
      expectTypeOf(request.params).toEqualTypeOf<VhostNameParams>();
      expectTypeOf(request.body.durable).toEqualTypeOf<Boolish | undefined>();
      expectTypeOf(request.body.count).toEqualTypeOf<Intish>();
      expectTypeOf(request.body.arguments).toEqualTypeOf<{ [key: string]: unknown } | undefined>();
      return {};
    });
    await app.close();
  });
});
