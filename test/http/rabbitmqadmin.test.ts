import { writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../helpers/warren.js';

const run = promisify(execFile);

/** RabbitMQ's own CLI, when this machine has it (Debian's rabbitmq-server ships it) and Python to run it. */
function findRabbitmqadmin(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (existsSync(`${dir}/rabbitmqadmin`)) return `${dir}/rabbitmqadmin`;
  }
  return undefined;
}

const rabbitmqadmin = findRabbitmqadmin();

describe.skipIf(rabbitmqadmin === undefined)('the real rabbitmqadmin against Warren', () => {
  let warren: RunningWarren;
  let port: string;

  beforeAll(async () => {
    warren = await startWarren();
    port = new URL(warren.url).port;
  });

  afterAll(async () => {
    await warren.stop();
  });

  async function admin(...args: string[]): Promise<string> {
    const { stdout } = await run('python3', [rabbitmqadmin as string, '-H', '127.0.0.1', '-P', port, '-u', 'guest', '-p', 'guest', ...args]);
    return stdout;
  }

  it('declares an exchange, a queue and a binding, publishes, gets, lists and deletes', async () => {
    expect(await admin('declare', 'exchange', 'name=orders', 'type=topic', 'durable=true')).toMatch(/exchange declared/);
    expect(await admin('declare', 'queue', 'name=eu', 'durable=true')).toMatch(/queue declared/);
    expect(await admin('declare', 'binding', 'source=orders', 'destination=eu', 'routing_key=eu.#')).toMatch(/binding declared/);
    expect(await admin('publish', 'exchange=orders', 'routing_key=eu.de', 'payload=hello from rabbitmqadmin')).toMatch(/Message published/);

    const queues = JSON.parse(await admin('-f', 'raw_json', 'list', 'queues')) as Array<{ name: string; messages: number }>;
    expect(queues.find((q) => q.name === 'eu')).toMatchObject({ messages: 1 });
    const exchanges = await admin('list', 'exchanges', 'name', 'type');
    expect(exchanges).toMatch(/orders\s*\|\s*topic/);
    const bindings = await admin('-f', 'tsv', 'list', 'bindings', 'source', 'destination', 'routing_key');
    expect(bindings).toMatch(/orders\teu\teu\.#/);

    const got = await admin('get', 'queue=eu', 'ackmode=ack_requeue_false');
    expect(got).toMatch(/hello from rabbitmqadmin/);
    expect(JSON.parse(await admin('-f', 'raw_json', 'list', 'queues'))).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'eu', messages: 0 })]),
    );

    expect(await admin('delete', 'binding', 'source=orders', 'destination=eu', 'destination_type=queue', 'properties_key=eu.#')).toMatch(/binding deleted/);
    expect(await admin('delete', 'queue', 'name=eu')).toMatch(/queue deleted/);
    expect(await admin('delete', 'exchange', 'name=orders')).toMatch(/exchange deleted/);
    expect(await admin('list', 'queues', 'name')).not.toMatch(/\beu\b/);
  });

  it('declares, lists and deletes policies and operator policies', async () => {
    await admin('declare', 'queue', 'name=capped', 'durable=true');
    expect(await admin('declare', 'policy', 'name=cap', 'pattern=^capped$', 'definition={"max-length":3}', 'priority=4', 'apply-to=queues')).toMatch(/policy declared/);
    expect(await admin('declare', 'operator_policy', 'name=ops', 'pattern=.*', 'definition={"message-ttl":60000}', 'apply-to=queues')).toMatch(/operator_policy declared/);
    const policies = JSON.parse(await admin('-f', 'raw_json', 'list', 'policies')) as Array<Record<string, unknown>>;
    expect(policies).toEqual([expect.objectContaining({ name: 'cap', pattern: '^capped$', priority: 4, definition: { 'max-length': 3 } })]);
    const queue = (JSON.parse(await admin('-f', 'raw_json', 'list', 'queues')) as Array<Record<string, unknown>>).find((q) => q.name === 'capped');
    expect(queue).toMatchObject({ policy: 'cap', operator_policy: 'ops', effective_policy_definition: { 'max-length': 3, 'message-ttl': 60000 } });
    // A bad value is refused with RabbitMQ's reason, which rabbitmqadmin prints.
    await expect(admin('declare', 'policy', 'name=bad', 'pattern=.*', 'definition={"max-length":"ten"}')).rejects.toThrow(/not a valid maximum length/);
    expect(await admin('delete', 'policy', 'name=cap')).toMatch(/policy deleted/);
    expect(await admin('delete', 'operator_policy', 'name=ops')).toMatch(/operator_policy deleted/);
    expect(JSON.parse(await admin('-f', 'raw_json', 'list', 'policies'))).toEqual([]);
  });

  it('imports a file with parts Warren has nothing behind', async () => {
    const file = `${warren.dataDir}/foreign.json`;
    const foreign = {
      rabbit_version: '3.10.8',
      parameters: [{ value: { uri: 'amqp://elsewhere' }, vhost: '/', component: 'federation-upstream', name: 'up' }],
      policies: [{ vhost: '/', name: 'fed', pattern: '^fed', 'apply-to': 'queues', definition: { 'federation-upstream-set': 'all' }, priority: 0 }],
      queues: [{ name: 'fed.q', vhost: '/', durable: true, auto_delete: false, arguments: {} }],
    };
    await writeFile(file, JSON.stringify(foreign));
    expect(await admin('import', file)).toMatch(/Uploaded definitions/);
    expect(await admin('list', 'queues', 'name')).toMatch(/\bfed\.q\b/);
    expect(await admin('list', 'policies', 'name')).toMatch(/\bfed\b/);
  });

  it('exports and re-imports definitions', async () => {
    await admin('declare', 'queue', 'name=kept', 'durable=true');
    const file = `${warren.dataDir}/defs.json`;
    expect(await admin('export', file)).toMatch(/Exported definitions/);
    await admin('delete', 'queue', 'name=kept');
    expect(await admin('import', file)).toMatch(/Uploaded definitions/);
    expect(await admin('list', 'queues', 'name')).toMatch(/\bkept\b/);
  });
});
