/**
 * The cluster port's handshake messages (docs/cluster.md, "The cluster port"): what each side sends,
 * how a hello proves its sender holds the cluster secret, and the checks on what arrives. Everything
 * read here may come from anyone who can reach the port, so every field is checked before it is used.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

export type ClusterPortPurpose = 'replicate' | 'tunnel';

/** Which client port a tunnelled connection came in on, and who the client is. */
export interface TunnelTarget {
  readonly protocol: 'http' | 'amqp' | 'amqps';
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/** server → client, first frame. `epoch` is '' when the server is not the leader. */
export interface Challenge {
  readonly nodeId: string;
  readonly epoch: string;
  readonly nonce: string;
}

/** client → server, in answer to the challenge. */
export interface Hello {
  readonly nodeId: string;
  readonly purpose: ClusterPortPurpose;
  readonly tunnel?: TunnelTarget;
  readonly mac: string;
}

/** A node id, a reason: short printable text, so that a peer cannot fill a log line with megabytes. */
const MAX_TEXT = 256;
const NONCE_BYTES = 32;

export function newNonce(): string {
  return randomBytes(NONCE_BYTES).toString('base64');
}

/** What the mac covers: the server's nonce (so a recorded hello cannot be replayed) and every field the server acts on. */
function macInput(nonce: string, nodeId: string, purpose: ClusterPortPurpose, tunnelJson: string): string {
  return `${nonce}\n${nodeId}\n${purpose}\n${tunnelJson}`;
}

/** The hello a node holding `secret` sends in answer to `challenge`. */
export function makeHello(secret: Buffer, nonce: string, nodeId: string, purpose: ClusterPortPurpose, tunnel?: TunnelTarget): Hello {
  // Field order fixed here: the server recomputes the mac over the JSON text it received.
  const canonical = tunnel ? { protocol: tunnel.protocol, remoteAddress: tunnel.remoteAddress, remotePort: tunnel.remotePort } : undefined;
  const mac = createHmac('sha256', secret)
    .update(macInput(nonce, nodeId, purpose, JSON.stringify(canonical ?? null)))
    .digest('base64');
  return canonical ? { nodeId, purpose, tunnel: canonical, mac } : { nodeId, purpose, mac };
}

/** Why a frame is not an acceptable message; the text goes to the peer in `refused` and to the log. */
export class HandshakeRefusal extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'HandshakeRefusal';
  }
}

function parseObject(payload: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new HandshakeRefusal(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HandshakeRefusal(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function text(value: unknown, field: string, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value === '') || value.length > MAX_TEXT || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new HandshakeRefusal(`${field} must be a short printable string`);
  }
  return value;
}

export function parseChallenge(payload: Buffer): Challenge {
  const o = parseObject(payload, 'challenge');
  return { nodeId: text(o.nodeId, 'challenge nodeId'), epoch: text(o.epoch, 'challenge epoch', true), nonce: text(o.nonce, 'challenge nonce') };
}

function parseTunnel(value: unknown): TunnelTarget {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HandshakeRefusal('hello tunnel must be an object');
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort().join(',');
  if (keys !== 'protocol,remoteAddress,remotePort') throw new HandshakeRefusal('hello tunnel must have exactly protocol, remoteAddress, remotePort');
  if (o.protocol !== 'http' && o.protocol !== 'amqp' && o.protocol !== 'amqps') throw new HandshakeRefusal('hello tunnel protocol must be http, amqp or amqps');
  const remoteAddress = text(o.remoteAddress, 'hello tunnel remoteAddress');
  if (isIP(remoteAddress) === 0) throw new HandshakeRefusal('hello tunnel remoteAddress must be an IP address');
  const remotePort = o.remotePort;
  if (typeof remotePort !== 'number' || !Number.isInteger(remotePort) || remotePort < 0 || remotePort > 65535) {
    throw new HandshakeRefusal('hello tunnel remotePort must be a port number');
  }
  return { protocol: o.protocol, remoteAddress, remotePort };
}

/**
 * Reads a hello and checks its mac against `secret` and the nonce this server sent. The mac is checked
 * first, over the text as received, so that nothing an unauthenticated peer sent is interpreted further.
 */
export function verifyHello(payload: Buffer, secret: Buffer, nonce: string): Hello {
  const o = parseObject(payload, 'hello');
  const nodeId = text(o.nodeId, 'hello nodeId');
  if (o.purpose !== 'replicate' && o.purpose !== 'tunnel') throw new HandshakeRefusal('hello purpose must be replicate or tunnel');
  const purpose: ClusterPortPurpose = o.purpose;
  if (typeof o.mac !== 'string') throw new HandshakeRefusal('hello mac missing');
  const expected = createHmac('sha256', secret)
    .update(macInput(nonce, nodeId, purpose, JSON.stringify(o.tunnel ?? null)))
    .digest();
  const given = Buffer.from(o.mac, 'base64');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HandshakeRefusal('bad mac (wrong cluster secret?)');
  if (purpose === 'tunnel') return { nodeId, purpose, tunnel: parseTunnel(o.tunnel), mac: o.mac };
  if (o.tunnel !== undefined && o.tunnel !== null) throw new HandshakeRefusal('hello tunnel given for a replicate connection');
  return { nodeId, purpose, mac: o.mac };
}

/** The `reason` of a refused frame, made safe to print. */
export function parseRefusal(payload: Buffer): string {
  try {
    const o = parseObject(payload, 'refused');
    return typeof o.reason === 'string' ? o.reason.slice(0, MAX_TEXT) : 'no reason given';
  } catch {
    return 'unreadable reason';
  }
}
