// Shared harness for the connection machine tests: amqplib's own codec encodes client frames as a real
// client sends them, FrameReader reads them back, and helpers walk a machine to a given state.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { expect } from 'vitest';
import { ConnectionMachine } from '../../../src/protocol/amqp/connection-machine.js';
import type { ConnectionAction, ConnectionMachineOptions, ConnectionUser } from '../../../src/protocol/amqp/connection-types.js';
import { FrameReader, type Frame, type ReadResult } from '../../../src/protocol/amqp/frame-reader.js';
import { encodeMethodFrame } from '../../../src/protocol/amqp/method-codec.js';
import type { AmqpMethod } from '../../../src/protocol/amqp/spec/methods.js';

interface AmqplibDefs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  ConnectionStartOk: number;
  ConnectionTuneOk: number;
  ConnectionOpen: number;
  ConnectionClose: number;
  ConnectionCloseOk: number;
}
interface AmqplibCredentials {
  plain(user: string, password: string): { mechanism: string; response(): Buffer };
  amqplain(user: string, password: string): { mechanism: string; response(): Buffer };
}
interface AmqplibFrame {
  parseFrame(bin: Buffer, max: number): { type: number; channel: number; payload: Buffer; rest: Buffer } | false;
  decodeFrame(frame: { type: number; channel: number; payload: Buffer }): { id?: number; channel: number; fields?: Record<string, unknown> };
}
const require = createRequire(import.meta.url);
const amqplibDir = dirname(require.resolve('amqplib'));
export const defs: AmqplibDefs = require(join(amqplibDir, 'lib', 'defs.js'));
export const credentials: AmqplibCredentials = require(join(amqplibDir, 'lib', 'credentials.js'));
export const frameLib: AmqplibFrame = require(join(amqplibDir, 'lib', 'frame.js'));

export interface User extends ConnectionUser {
  readonly tags: string;
}
export type Action = ConnectionAction<User>;

const PASSWORDS = new Map([['guest', 'guest']]);

export function newMachine(overrides: Partial<ConnectionMachineOptions<User>> = {}, hooks: Partial<ConnectionMachineOptions<User>['hooks']> = {}): ConnectionMachine<User> {
  return new ConnectionMachine<User>({
    server: { version: '0.1.0', platform: 'Node.js v20' },
    ...overrides,
    hooks: {
      authenticate: async ({ user, password }) => (PASSWORDS.get(user) === password ? { ok: true, user: { name: user, tags: 'admin' } } : { ok: false }),
      canOpen: async (_user, vhost) => (vhost === '/' ? { ok: true } : { ok: false }),
      ...hooks,
    },
  });
}

export function framesOf(bytes: Uint8Array): ReadResult[] {
  return [...new FrameReader({ expectProtocolHeader: false, frameMax: 0 }).read(bytes)];
}

export function frameOf(bytes: Uint8Array): Frame {
  const [f] = framesOf(bytes);
  if (f?.kind !== 'frame') throw new Error(`not a frame: ${JSON.stringify(f)}`);
  return f;
}

export async function feed(m: ConnectionMachine<User>, bytes: Uint8Array): Promise<Action[]> {
  const out: Action[] = [];
  for (const r of framesOf(bytes)) out.push(...(await m.receive(r)));
  return out;
}

export const ours = (method: AmqpMethod, channel = 0): Buffer => encodeMethodFrame(channel, method);

export const sentMethods = (actions: Action[]): AmqpMethod[] =>
  actions.flatMap((a) => (a.kind === 'send' && a.method ? [a.method] : []));

export function closeSent(actions: Action[]): AmqpMethod & { method: 'connection.close' } {
  const close = sentMethods(actions).find((m): m is AmqpMethod & { method: 'connection.close' } => m.method === 'connection.close');
  if (!close) throw new Error(`no connection.close in ${JSON.stringify(actions.map((a) => a.kind))}`);
  return close;
}

export const socketClose = (actions: Action[]) => actions.find((a) => a.kind === 'close-socket');

export function startOk(opts: { mechanism?: string; response?: Buffer; capabilities?: Record<string, boolean> } = {}): Buffer {
  const creds = credentials.plain('guest', 'guest');
  return defs.encodeMethod(defs.ConnectionStartOk, 0, {
    clientProperties: { product: 'amqplib', capabilities: opts.capabilities ?? { 'connection.blocked': true, authentication_failure_close: true } },
    mechanism: opts.mechanism ?? creds.mechanism,
    response: opts.response ?? creds.response(),
    locale: 'en_US',
  });
}
export const tuneOk = (channelMax = 2047, frameMax = 131072, heartbeat = 60): Buffer => defs.encodeMethod(defs.ConnectionTuneOk, 0, { channelMax, frameMax, heartbeat });
export const open = (virtualHost = '/'): Buffer => defs.encodeMethod(defs.ConnectionOpen, 0, { virtualHost, capabilities: '', insist: false });
export const closeOk = (): Buffer => defs.encodeMethod(defs.ConnectionCloseOk, 0, {});

export async function toTuning(m: ConnectionMachine<User>, capabilities?: Record<string, boolean>): Promise<void> {
  m.protocolHeader();
  await feed(m, startOk({ capabilities }));
  expect(m.state).toBe('tuning');
}
export async function toOpening(m: ConnectionMachine<User>, heartbeat = 60): Promise<void> {
  await toTuning(m);
  await feed(m, tuneOk(2047, 131072, heartbeat));
  expect(m.state).toBe('opening');
}
export async function toRunning(m: ConnectionMachine<User>, heartbeat = 60, capabilities?: Record<string, boolean>): Promise<void> {
  await toTuning(m, capabilities);
  await feed(m, tuneOk(2047, 131072, heartbeat));
  await feed(m, open());
  expect(m.state).toBe('running');
}
