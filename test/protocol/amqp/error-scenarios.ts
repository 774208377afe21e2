// The kit of the AMQP error-conformance catalogue (error-catalogue.ts): each scenario drives a broker over a raw socket into one error
// and reports how it answered. RabbitMQ 3.10.8's answers are recorded in
// test/fixtures/amqp/rabbitmq-3.10.8-errors.json (by capture-errors.mjs); error-conformance.test.ts
// replays every scenario against Warren (and, on request, RabbitMQ) and compares.
import { buildMethod, encodeFrame, FRAME_METHOD, type AmqpMethod } from '../../../src/protocol/amqp/index.js';
import { exchangeRaw, RawAmqp, type Outcome, type RawAmqpOptions } from '../../helpers/raw-amqp.js';

export const CONFORMANCE_VHOST = 'conformance';
/** A vhost that exists but where guest has no permissions. */
export const CLOSED_VHOST = 'conformance-closed';
/** configure and write on `lim-*` only, read on `lim-r*` only, in CONFORMANCE_VHOST. */
export const LIMITED_USER = { user: 'limited', password: 'limited-secret', configure: '^lim-', write: '^lim-', read: '^lim-r' } as const;

/** What a scenario saw: a close, the socket closed without one, no error, or (for a bad protocol header)
 * the bytes the broker sent back before closing. */
export type Observed = Outcome | { readonly kind: 'protocol-header'; readonly received: string; readonly closed: boolean };

/** An answer as a test states it: a close's code and ids exactly, its text by pattern. */
export type Expected =
  | { readonly kind: 'channel.close' | 'connection.close'; readonly replyCode: number; readonly classId: number; readonly methodId: number; readonly text: RegExp }
  | { readonly kind: 'socket-closed' }
  | { readonly kind: 'ok' }
  | { readonly kind: 'protocol-header'; readonly received: string; readonly closed: boolean };

export interface ScenarioContext {
  readonly port: number;
  /** A running connection to CONFORMANCE_VHOST as guest unless told otherwise; closed after the scenario. */
  connect(options?: Partial<RawAmqpOptions>): Promise<RawAmqp>;
  /** Up to tune-ok, connection.open not sent yet. */
  handshake(options?: Partial<RawAmqpOptions>): Promise<RawAmqp>;
}

export interface Scenario {
  readonly id: string;
  /** The steps, in words, as recorded beside the answer. */
  readonly steps: string;
  /** What the reply text must match, on RabbitMQ and Warren alike (checked against the recording too). */
  readonly text?: RegExp;
  /** Set when Warren deliberately answers differently from the recording: why, and what Warren answers. */
  readonly difference?: { readonly reason: string; readonly warren: Expected };
  run(ctx: ScenarioContext): Promise<Observed>;
}

/** A running connection with channel 1 open: the usual start of a scenario. */
export async function channelOne(ctx: ScenarioContext, options?: Partial<RawAmqpOptions>): Promise<RawAmqp> {
  const c = await ctx.connect(options);
  await c.openChannel(1);
  return c;
}

/** Sends one method on channel 1 of a fresh connection and reports the outcome. */
export function oneMethod(method: AmqpMethod, options?: Partial<RawAmqpOptions>): (ctx: ScenarioContext) => Promise<Observed> {
  return async (ctx) => {
    const c = await channelOne(ctx, options);
    c.sendMethod(1, method);
    return c.outcome(1);
  };
}

export const declareQueue = (c: RawAmqp, channel: number, queue: string, init: Partial<Parameters<typeof buildMethod<'queue.declare'>>[1]> = {}): Promise<unknown> =>
  c.call(channel, buildMethod('queue.declare', { queue, ...init }), 'queue.declare-ok');

export function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

export function shortstr(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.of(b.length), b]);
}

/** A method frame with a hand-made payload, for arguments our encoder would refuse to produce. */
export function rawMethodFrame(channel: number, classId: number, methodId: number, args: Uint8Array): Buffer {
  return encodeFrame(FRAME_METHOD, channel, Buffer.concat([u16(classId), u16(methodId), args]));
}

/** queue.declare's arguments on the wire, with `table` as the raw bytes of the arguments table
 * (its length prefix included, so callers can lie about it). */
export function queueDeclareArgs(queue: string, table: Uint8Array): Buffer {
  return Buffer.concat([u16(0), shortstr(queue), Buffer.of(0), table]);
}

/** Runs a scenario with its own connections, closing them afterwards whatever happened. */
export async function runScenario(scenario: Scenario, port: number, timeoutMs = 3000): Promise<Observed> {
  const opened: RawAmqp[] = [];
  const base = { port, vhost: CONFORMANCE_VHOST, timeoutMs };
  const ctx: ScenarioContext = {
    port,
    async connect(options) {
      const c = await RawAmqp.connect({ ...base, ...options });
      opened.push(c);
      return c;
    },
    async handshake(options) {
      const c = await RawAmqp.handshake({ ...base, ...options });
      opened.push(c);
      return c;
    },
  };
  try {
    return await scenario.run(ctx);
  } finally {
    await Promise.all(opened.map((c) => c.close()));
  }
}

/** The bad-protocol-header probe: what comes back, and whether the broker hung up. */
export async function headerExchange(port: number, bytes: Uint8Array): Promise<Observed> {
  const { received, closed } = await exchangeRaw(port, bytes);
  // Only the first bytes matter (a protocol header sent back); a broker that starts a connection
  // instead would otherwise record its whole server-properties table.
  return { kind: 'protocol-header', received: received.subarray(0, 16).toString('hex'), closed };
}

/** Sets a broker up for the catalogue through its management API (RabbitMQ's and Warren's share the
 * routes): CONFORMANCE_VHOST emptied and recreated with guest and LIMITED_USER, CLOSED_VHOST without
 * guest. Idempotent, so it can run against a long-lived RabbitMQ. */
export async function prepareBroker(httpUrl: string, admin: readonly [string, string] = ['guest', 'guest']): Promise<void> {
  const authorization = `Basic ${Buffer.from(`${admin[0]}:${admin[1]}`).toString('base64')}`;
  const call = async (method: string, path: string, body?: unknown, allow404 = false): Promise<void> => {
    const res = await fetch(`${httpUrl}/api${path}`, {
      method,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok && !(allow404 && res.status === 404)) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  };
  const v = encodeURIComponent(CONFORMANCE_VHOST);
  const closed = encodeURIComponent(CLOSED_VHOST);
  await call('DELETE', `/vhosts/${v}`, undefined, true);
  await call('PUT', `/vhosts/${v}`, {});
  await call('PUT', `/permissions/${v}/guest`, { configure: '.*', write: '.*', read: '.*' });
  await call('PUT', `/users/${LIMITED_USER.user}`, { password: LIMITED_USER.password, tags: '' });
  const { configure, write, read } = LIMITED_USER;
  await call('PUT', `/permissions/${v}/${LIMITED_USER.user}`, { configure, write, read });
  await call('PUT', `/vhosts/${closed}`, {});
  // Creating a vhost through the API grants its creator full permissions; this one must have none.
  await call('DELETE', `/permissions/${closed}/guest`, undefined, true);
}
