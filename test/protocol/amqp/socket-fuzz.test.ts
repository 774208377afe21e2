// Seeded random and mutated frames over real sockets to a running Warren. Every fuzzed connection must
// be answered with connection.close carrying a code from the set its damage calls for (and then be
// closed by the broker), or, for a bad protocol header, with Warren's header and a closed socket.
// Beside them a well-behaved amqplib connection keeps publishing and consuming, and must never notice.
import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildMethod,
  encodeContentHeaderFrame,
  encodeFrame,
  encodeMethodFrame,
  encodeMethodPayload,
  FIELD_TAGS,
  FRAME_BODY,
  FRAME_HEARTBEAT,
  FRAME_METHOD,
  PROTOCOL_HEADER,
  type AmqpMethod,
  type FieldTable,
} from '../../../src/protocol/amqp/index.js';
import { METHOD_TABLE } from '../../../src/protocol/amqp/spec/methods.js';
import { prng } from '../../helpers/prng.js';
import { exchangeRaw, RawAmqp } from '../../helpers/raw-amqp.js';
import { startWarren, type RunningWarren } from '../../helpers/warren.js';

const SEED = 0x5eed14;
const CASES = 240;
const PARALLEL = 12;

type Rnd = () => number;
const int = (r: Rnd, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: Rnd, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const randomBytes = (r: Rnd, n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(r, 0, 255)));

interface FrameCase {
  readonly kind: 'frames';
  readonly name: string;
  readonly bytes: readonly Buffer[];
  /** The reply codes this damage may be answered with (RabbitMQ's choice where it is recorded in
   * rabbitmq-3.10.8-errors.json; 501/502 both allowed where Warren's codec and RabbitMQ differ). */
  readonly codes: readonly number[];
  /** Where to probe: the damaged channel when it is not 1, since a broker may run channels
   * concurrently (RabbitMQ does), so only a probe on the same channel is ordered after the damage. */
  readonly probe?: number;
}
interface HeaderCase {
  readonly kind: 'header';
  readonly name: string;
  readonly bytes: Buffer;
}
type FuzzCase = FrameCase | HeaderCase;

const table = (r: Rnd): FieldTable =>
  new Map([
    ['x-a', { type: 'longstr', value: randomBytes(r, int(r, 0, 12)) }],
    ['x-b', { type: 'int32', value: int(r, -1000, 1000) }],
    ['x-c', { type: 'table', value: new Map([['deep', { type: 'bool', value: r() < 0.5 }]]) }],
  ]);

/** Valid methods with arguments, as a client could send them on channel 1. */
function sampleMethod(r: Rnd): AmqpMethod {
  switch (int(r, 0, 5)) {
    case 0:
      return buildMethod('queue.declare', { queue: `fz-${int(r, 0, 999)}`, exclusive: true, arguments: table(r) });
    case 1:
      return buildMethod('exchange.declare', { exchange: `fz-x-${int(r, 0, 999)}`, type: 'fanout', autoDelete: true, arguments: table(r) });
    case 2:
      return buildMethod('queue.bind', { queue: 'fz-q', exchange: 'amq.direct', routingKey: 'k', arguments: table(r) });
    case 3:
      return buildMethod('basic.consume', { queue: 'fz-q', consumerTag: `t${int(r, 0, 99)}`, arguments: table(r) });
    case 4:
      return buildMethod('basic.qos', { prefetchCount: int(r, 0, 100) });
    default:
      return buildMethod('basic.publish', { exchange: 'amq.direct', routingKey: `rk-${int(r, 0, 99)}` });
  }
}

const KNOWN = new Set(METHOD_TABLE.map((m) => `${m.classId}/${m.methodId}`));
const CLASS_IDS = [...new Set(METHOD_TABLE.map((m) => m.classId))];
const TAG_OCTETS = new Set(Object.values(FIELD_TAGS).map((t) => t.charCodeAt(0)));

const withSize = (frame: Buffer, size: number): Buffer => {
  const copy = Buffer.from(frame);
  copy.writeUInt32BE(size, 3);
  return copy;
};

const generators: ReadonlyArray<(r: Rnd) => FuzzCase> = [
  (r) => {
    // Random bytes after a valid handshake, starting with an octet that is no frame type.
    const first = pick(r, Array.from({ length: 256 }, (_, i) => i).filter((i) => ![FRAME_METHOD, 2, FRAME_BODY, FRAME_HEARTBEAT].includes(i)));
    return { kind: 'frames', name: 'random bytes', bytes: [Buffer.concat([Buffer.of(first), randomBytes(r, int(r, 0, 64))])], codes: [501] };
  },
  (r) => {
    const frame = encodeMethodFrame(1, sampleMethod(r));
    frame[frame.length - 1] = pick(r, Array.from({ length: 256 }, (_, i) => i).filter((i) => i !== 0xce));
    return { kind: 'frames', name: 'bad frame-end octet', bytes: [frame], codes: [501] };
  },
  (r) => {
    // A size larger than the payload: the end octet is looked for in the zero padding that follows.
    const frame = encodeMethodFrame(1, sampleMethod(r));
    const size = frame.length - 8 + int(r, 1, 200);
    return { kind: 'frames', name: 'size too large', bytes: [withSize(frame, size), Buffer.alloc(256)], codes: [501] };
  },
  (r) => {
    // A size smaller than the payload, chosen so that the octet where the end should be is not 0xCE.
    const frame = encodeMethodFrame(1, sampleMethod(r));
    const candidates = Array.from({ length: frame.length - 8 }, (_, i) => i).filter((s) => frame[7 + s] !== 0xce);
    return { kind: 'frames', name: 'size too small', bytes: [withSize(frame, pick(r, candidates))], codes: [501] };
  },
  (r) => ({ kind: 'frames', name: 'size above frame_max', bytes: [withSize(encodeFrame(FRAME_METHOD, 1, randomBytes(r, 8)), int(r, 131073, 0xffffffff))], codes: [501] }),
  (r) => {
    let classId: number;
    let methodId: number;
    do {
      classId = r() < 0.5 ? pick(r, CLASS_IDS) : int(r, 0, 0xffff);
      methodId = int(r, 0, r() < 0.5 ? 200 : 0xffff);
    } while (KNOWN.has(`${classId}/${methodId}`));
    const payload = Buffer.concat([Buffer.of(classId >> 8, classId & 0xff, methodId >> 8, methodId & 0xff), randomBytes(r, int(r, 0, 20))]);
    return { kind: 'frames', name: `unknown method ${classId}/${methodId}`, bytes: [encodeFrame(FRAME_METHOD, 1, payload)], codes: [540] };
  },
  (r) => {
    const payload = encodeMethodPayload(sampleMethod(r));
    const cut = payload.subarray(0, int(r, 4, payload.length - 1));
    return { kind: 'frames', name: 'truncated arguments', bytes: [encodeFrame(FRAME_METHOD, 1, cut)], codes: [501, 502] };
  },
  (r) => {
    // queue.declare with its arguments table damaged: a length past the end, or a bad type octet.
    const method = buildMethod('queue.declare', { queue: 'fz-tbl', exclusive: true, arguments: table(r) });
    const payload = encodeMethodPayload(method);
    const start = 4 + 2 + 1 + Buffer.byteLength(method.queue) + 1; // ids, ticket, name, bits
    const damaged = Buffer.from(payload);
    if (r() < 0.5) {
      damaged.writeUInt32BE(damaged.readUInt32BE(start) + int(r, 1, 1000), start);
    } else {
      // the first entry's type octet follows its key ('x-a', a 4-byte shortstr)
      damaged[start + 4 + 4] = pick(r, Array.from({ length: 256 }, (_, i) => i).filter((i) => !TAG_OCTETS.has(i)));
    }
    return { kind: 'frames', name: 'damaged field table', bytes: [encodeFrame(FRAME_METHOD, 1, damaged)], codes: [501, 502] };
  },
  (r) => {
    const channel = int(r, 2, 2047);
    const frame =
      r() < 0.6
        ? encodeMethodFrame(channel, pick(r, [buildMethod('queue.declare', { queue: 'fz' }), buildMethod('basic.qos', { prefetchCount: 1 }), buildMethod('tx.select', {})]))
        : r() < 0.5
          ? encodeContentHeaderFrame(channel, 3, {})
          : encodeFrame(FRAME_BODY, channel, randomBytes(r, 3));
    return { kind: 'frames', name: `frame on unopened channel ${channel}`, bytes: [frame], codes: [504, 505], probe: channel };
  },
  (r) => ({ kind: 'frames', name: 'heartbeat on a channel', bytes: [encodeFrame(FRAME_HEARTBEAT, int(r, 1, 2047), Buffer.alloc(0))], codes: [501, 505] }),
  (r) => {
    let bytes: Buffer;
    do bytes = randomBytes(r, 8);
    while (bytes[0] === PROTOCOL_HEADER[0]);
    return { kind: 'header', name: 'bad protocol header', bytes };
  },
];

interface Failure {
  readonly index: number;
  readonly name: string;
  readonly detail: string;
}

/** Runs one case; a fuzzed connection that got its close is handed to `answered`, so that its end can
 * be awaited for all cases at once rather than one after another. */
async function runCase(port: number, c: FuzzCase, index: number, answered: RawAmqp[]): Promise<Failure | undefined> {
  const fail = (detail: string): Failure => ({ index, name: c.name, detail });
  if (c.kind === 'header') {
    const { received, closed } = await exchangeRaw(port, c.bytes);
    if (!closed || !received.equals(Buffer.from(PROTOCOL_HEADER))) return fail(`sent ${c.bytes.toString('hex')}: got ${received.toString('hex')}, socket ${closed ? 'closed' : 'open'}`);
    return undefined;
  }
  const conn = await RawAmqp.connect({ port, timeoutMs: 3000 });
  const failure = await judge(conn, c, fail, answered);
  if (failure) conn.socket.destroy();
  return failure;
}

async function judge(conn: RawAmqp, c: FrameCase, fail: (detail: string) => Failure, answered: RawAmqp[]): Promise<Failure | undefined> {
  try {
    await conn.openChannel(1);
    for (const b of c.bytes) conn.send(b);
    const outcome = await conn.outcome(c.probe ?? 1);
    const sent = c.bytes.map((b) => b.subarray(0, 48).toString('hex')).join(' ');
    if (outcome.kind !== 'connection.close') return fail(`${outcome.kind} instead of connection.close; sent ${sent}`);
    if (!c.codes.includes(outcome.replyCode)) return fail(`connection.close ${outcome.replyCode} "${outcome.replyText}", expected one of ${c.codes.join('/')}; sent ${sent}`);
    answered.push(conn);
    return undefined;
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  }
}

/** The well-behaved neighbour: a confirm channel publishing to a queue it consumes from. */
class Steady {
  readonly problems: string[] = [];
  delivered = 0;
  private readonly waiting = new Map<string, () => void>();
  private constructor(
    private readonly conn: ChannelModel,
    private readonly ch: ConfirmChannel,
  ) {}

  static async start(url: string): Promise<Steady> {
    const conn = await amqplib.connect(url);
    const ch = await conn.createConfirmChannel();
    const s = new Steady(conn, ch);
    conn.on('error', (e: Error) => s.problems.push(`connection error: ${e.message}`));
    conn.on('close', () => s.problems.push('connection closed'));
    ch.on('error', (e: Error) => s.problems.push(`channel error: ${e.message}`));
    await ch.assertQueue('fuzz-steady', { exclusive: true });
    await ch.consume('fuzz-steady', (m) => {
      if (!m) return;
      s.delivered++;
      ch.ack(m);
      const body = m.content.toString();
      s.waiting.get(body)?.();
      s.waiting.delete(body);
    });
    return s;
  }

  /** Publishes `body`, waits for its confirm and its delivery back. */
  async roundTrip(body: string, timeoutMs = 3000): Promise<void> {
    const delivered = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`message ${body} not delivered within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(body, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.ch.publish('', 'fuzz-steady', Buffer.from(body));
    await this.ch.waitForConfirms();
    await delivered;
  }

  async stop(): Promise<void> {
    this.conn.removeAllListeners('close');
    await this.conn.close();
  }
}

describe('socket-level frame fuzz against Warren', () => {
  let warren: RunningWarren;
  beforeAll(async () => {
    warren = await startWarren();
  });
  afterAll(async () => {
    await warren?.stop();
  });

  it(`${CASES} seeded damaged connections (seed ${SEED}) are each closed with the right code while amqplib keeps working`, async () => {
    const steady = await Steady.start(warren.amqpUrl);
    const r = prng(SEED);
    const cases = Array.from({ length: CASES }, () => pick(r, generators)(r));
    const failures: Failure[] = [];
    const answered: RawAmqp[] = [];
    let trips = 0;
    for (let at = 0; at < cases.length; at += PARALLEL) {
      const batch = cases.slice(at, at + PARALLEL);
      // The neighbour publishes while the batch is in flight, and must get its message back.
      const [results] = await Promise.all([Promise.all(batch.map((c, i) => runCase(warren.amqpPort, c, at + i, answered))), steady.roundTrip(`during-${at}`)]);
      for (const f of results) if (f) failures.push(f);
      trips++;
    }
    // After connection.close and our close-ok the broker must hang up (docs/amqp.md: after a frame
    // error without waiting), so no damaged connection lingers.
    const deadline = Date.now() + 3000;
    for (const conn of answered) {
      await conn.waitForEnd(Math.max(1, deadline - Date.now())).catch(() => {
        failures.push({ index: -1, name: 'socket left open', detail: conn.historyText().slice(-300) });
      });
      conn.socket.destroy();
    }
    await steady.roundTrip('after');
    await steady.stop();
    expect(failures, failures.map((f) => `#${f.index} ${f.name}: ${f.detail}`).join('\n')).toEqual([]);
    expect(steady.problems).toEqual([]);
    expect(steady.delivered).toBe(trips + 1);
    // Every generator was exercised, so a change to the mix cannot silently drop a kind of damage.
    expect(new Set(cases.map((c) => c.name.replace(/ [\d/]+$/, ''))).size).toBeGreaterThanOrEqual(generators.length);
    // Still up: a fresh client connects, and the management API answers.
    const again = await amqplib.connect(warren.amqpUrl);
    await again.close();
    expect((await fetch(`${warren.url}/api/overview`, { headers: { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` } })).status).toBe(200);
  });
});
