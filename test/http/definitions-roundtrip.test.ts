/**
 * A definitions file exported from a real RabbitMQ 3.10.8 (test/fixtures/rabbitmq-3.10.8-definitions.json,
 * built by test/fixtures/rabbitmq-definitions.capture.mjs) imports into Warren with nothing left out, and
 * Warren's export of it matches RabbitMQ's on every field RabbitMQ wrote.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDefinitions } from '../../src/http/api/definitions-export.js';
import { startWarren, type RunningWarren } from '../helpers/warren.js';
import { apiClient, record, type Api } from './support.js';

type Item = Record<string, unknown>;
type Document = Record<string, unknown>;

const fixture = JSON.parse(readFileSync(new URL('../fixtures/rabbitmq-3.10.8-definitions.json', import.meta.url), 'utf8')) as Document;

/** How items of each section are told apart: the same key means the same object. */
const identity: Record<string, (item: Item) => string> = {
  users: (i) => String(i.name),
  vhosts: (i) => String(i.name),
  permissions: (i) => `${String(i.vhost)}|${String(i.user)}`,
  topic_permissions: (i) => `${String(i.vhost)}|${String(i.user)}|${String(i.exchange)}`,
  parameters: (i) => `${String(i.vhost)}|${String(i.component)}|${String(i.name)}`,
  global_parameters: (i) => String(i.name),
  policies: (i) => `${String(i.vhost)}|${String(i.name)}`,
  queues: (i) => `${String(i.vhost)}|${String(i.name)}`,
  exchanges: (i) => `${String(i.vhost)}|${String(i.name)}`,
  bindings: (i) => JSON.stringify([i.vhost, i.source, i.destination_type, i.destination, i.routing_key, i.arguments]),
};

/** Each section as identity → item, keeping only the fields RabbitMQ's own item has. */
function byIdentity(section: string, items: unknown, fieldsOf?: Map<string, Item>): Map<string, Item> {
  const out = new Map<string, Item>();
  for (const item of items as Item[]) {
    const key = identity[section]?.(item) ?? JSON.stringify(item);
    const reference = fieldsOf?.get(key);
    out.set(key, reference ? Object.fromEntries(Object.keys(reference).map((field) => [field, item[field]])) : item);
  }
  return out;
}

let warren: RunningWarren;
let api: Api;

beforeAll(async () => {
  warren = await startWarren();
  api = apiClient(warren.server.app);
});
afterAll(async () => warren.stop());

describe('a RabbitMQ 3.10.8 export', () => {
  it('imports with nothing left out', async () => {
    const res = await api('POST', '/api/definitions', { body: fixture });
    expect(res.body).toBeUndefined();
    expect(res.status).toBe(204);
  });

  it('exports back equal on every field RabbitMQ defines', async () => {
    // Through the export function, not GET: a login as guest would replace its imported SHA-256 hash with
    // scrypt (Warren upgrades hashes at login), which is a deliberate difference, not a loss.
    const exported = exportDefinitions(warren.server.broker, warren.server.users, { version: 'test', includeTransient: true });
    for (const section of Object.keys(identity)) {
      const expected = byIdentity(section, fixture[section]);
      // RabbitMQ's own cluster identity is not Warren's to keep (docs/http-api.md).
      if (section === 'global_parameters') expected.delete('internal_cluster_id');
      const actual = byIdentity(section, exported[section], expected);
      // Warren's fresh broker has nothing the file lacks: guest, '/' and its permissions are in the file.
      expect(new Map([...actual].sort()), section).toEqual(new Map([...expected].sort()));
    }
  });

  it('behaves as it did in RabbitMQ: policies, operator policies and arguments combined by its rules', async () => {
    const queue = async (name: string) => record((await api('GET', `/api/queues/orders/${encodeURIComponent(name)}`)).body);
    // orders-ttl-dlx (priority 10) beats orders-max-length (0); the operator policy caps on top.
    expect(await queue('orders.incoming')).toMatchObject({
      policy: 'orders-ttl-dlx',
      operator_policy: 'orders-cap',
      effective_policy_definition: {
        'dead-letter-exchange': 'orders.dlx',
        'dead-letter-routing-key': 'expired',
        'message-ttl': 120000,
        expires: 604800000,
        'max-length': 100000,
      },
    });
    const incoming = warren.server.broker.vhost('orders').queues.get('orders.incoming')?.limits;
    // Arguments win for the dead-letter settings; the lower value wins for TTL and length.
    expect(incoming).toMatchObject({
      deadLetter: { exchange: 'orders.dlx', routingKey: 'dead' },
      messageTtl: 60000,
      maxLength: 10000,
      expiresMs: 604800000,
    });
    expect(await queue('orders.single')).toMatchObject({ policy: 'orders-max-length' });
    expect(warren.server.broker.vhost('orders').queues.get('orders.single')?.limits).toMatchObject({ maxLength: 50000, overflow: 'reject-publish' });
    expect(record((await api('GET', '/api/exchanges/orders/orders.fanout')).body).policy).toBe('orders-ae');
    expect(record((await api('GET', '/api/policies/%2F/app-inert')).body).inert_keys).toEqual(['ha-mode', 'ha-params', 'ha-sync-mode', 'queue-mode']);
  });
});
