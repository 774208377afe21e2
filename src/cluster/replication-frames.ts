import type { StoreChange } from '../store/store-changes.js';

/**
 * The replication protocol on a `replicate` connection of the cluster port, after the handshake: the
 * same framing as the handshake (u32 BE length of what follows, u8 type, payload), types from 16.
 * Data frames (entries, chunks, acks) are binary; small control frames are JSON.
 */
export const ReplicationFrameTypes = {
  /** follower → leader, JSON `Inventory`: the store's files it has, with a CRC-32 per 1 MiB chunk. */
  INVENTORY: 16,
  /** leader → follower, JSON `CatchUpPlan`: the leader's files at the snapshot point, and what to delete. */
  PLAN: 17,
  /** leader → follower, binary: bytes of one file at a position, with their CRC-32. */
  CHUNK: 18,
  /** leader → follower, JSON `{ snapshotSeq }`: every chunk is sent; live entries follow. */
  SNAPSHOT_DONE: 19,
  /** leader → follower, binary: one StoreChange with its epoch and sequence number. */
  ENTRY: 20,
  /** follower → leader, binary: every entry up to `seq` of `epoch` is fsynced. */
  ACK: 21,
  /** leader → follower, JSON `{ epoch }`: the follower is in the ISR (etcd says so). */
  IN_SYNC: 22,
  /** either way, JSON `{ reason }`: the sender gives up on the link and closes it. */
  ABORT: 23,
} as const;

export type ReplicationFrameType = (typeof ReplicationFrameTypes)[keyof typeof ReplicationFrameTypes];

/** Size of the chunks catch-up compares and copies. */
export const CHUNK_SIZE = 1024 * 1024;
/** A frame longer than this is a broken peer (the largest real ones are a replace of a big file). */
export const MAX_FRAME = 1024 * 1024 * 1024;

export interface InventoryFile {
  readonly file: string;
  readonly size: number;
  /** CRC-32 of each CHUNK_SIZE chunk, the last one possibly shorter. */
  readonly crcs: readonly number[];
}

export interface Inventory {
  readonly files: readonly InventoryFile[];
}

export interface CatchUpPlan {
  readonly epoch: string;
  readonly snapshotSeq: number;
  /** Every file the leader has at the snapshot point, with its size then. */
  readonly files: readonly { readonly file: string; readonly size: number }[];
  /** Files the follower has and the leader does not: deleted first. */
  readonly deletes: readonly string[];
}

export interface Chunk {
  readonly file: string;
  readonly position: number;
  readonly crc: number;
  readonly data: Buffer;
}

export interface Entry {
  readonly epoch: bigint;
  readonly seq: number;
  readonly change: StoreChange;
}

export class ReplicationProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicationProtocolError';
  }
}

const KIND_CODES = { write: 1, replace: 2, truncate: 3, unlink: 4 } as const;

function header(type: ReplicationFrameType, payloadLength: number): Buffer {
  const head = Buffer.allocUnsafe(5);
  head.writeUInt32BE(payloadLength + 1, 0);
  head.writeUInt8(type, 4);
  return head;
}

export function jsonFrame(type: ReplicationFrameType, value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8');
  return Buffer.concat([header(type, body.length), body]);
}

function byteLength(data: readonly Uint8Array[]): number {
  let total = 0;
  for (const slice of data) total += slice.byteLength;
  return total;
}

/**
 * One ENTRY frame, copied into a single buffer: the store may reuse its buffers as soon as it has told
 * the change, and the same frame is written to every follower.
 * Layout: epoch u64, seq u64 (as a double's integer range), kind u8, file length u16, file, then
 * write: position u64, bytes | replace: bytes | truncate: size u64 | unlink: nothing.
 */
export function encodeEntry(epoch: bigint, seq: number, change: StoreChange): Buffer {
  const file = Buffer.from(change.file, 'utf8');
  const fixed = 8 + 8 + 1 + 2 + file.length;
  const extra = change.kind === 'write' ? 8 + byteLength(change.data) : change.kind === 'replace' ? byteLength(change.data) : change.kind === 'truncate' ? 8 : 0;
  const frame = Buffer.allocUnsafe(5 + fixed + extra);
  frame.writeUInt32BE(1 + fixed + extra, 0);
  frame.writeUInt8(ReplicationFrameTypes.ENTRY, 4);
  let at = 5;
  frame.writeBigUInt64BE(epoch, at);
  frame.writeBigUInt64BE(BigInt(seq), at + 8);
  frame.writeUInt8(KIND_CODES[change.kind], at + 16);
  frame.writeUInt16BE(file.length, at + 17);
  file.copy(frame, at + 19);
  at += fixed;
  if (change.kind === 'write' || change.kind === 'replace') {
    if (change.kind === 'write') {
      frame.writeBigUInt64BE(BigInt(change.position), at);
      at += 8;
    }
    for (const slice of change.data) {
      frame.set(slice, at);
      at += slice.byteLength;
    }
  } else if (change.kind === 'truncate') {
    frame.writeBigUInt64BE(BigInt(change.size), at);
  }
  return frame;
}

export function decodeEntry(payload: Buffer): Entry {
  if (payload.length < 19) throw new ReplicationProtocolError('entry frame too short');
  const epoch = payload.readBigUInt64BE(0);
  const seq = Number(payload.readBigUInt64BE(8));
  const kind = payload.readUInt8(16);
  const fileLength = payload.readUInt16BE(17);
  const at = 19 + fileLength;
  if (payload.length < at) throw new ReplicationProtocolError('entry frame too short for its file name');
  const file = checkFileName(payload.toString('utf8', 19, at));
  const rest = payload.subarray(at);
  switch (kind) {
    case KIND_CODES.write:
      if (rest.length < 8) throw new ReplicationProtocolError('write entry without a position');
      return { epoch, seq, change: { kind: 'write', file, position: Number(rest.readBigUInt64BE(0)), data: [rest.subarray(8)] } };
    case KIND_CODES.replace:
      return { epoch, seq, change: { kind: 'replace', file, data: [rest] } };
    case KIND_CODES.truncate:
      if (rest.length !== 8) throw new ReplicationProtocolError('truncate entry without a size');
      return { epoch, seq, change: { kind: 'truncate', file, size: Number(rest.readBigUInt64BE(0)) } };
    case KIND_CODES.unlink:
      return { epoch, seq, change: { kind: 'unlink', file } };
    default:
      throw new ReplicationProtocolError(`unknown entry kind ${kind}`);
  }
}

/** Layout: file length u16, file, position u64, crc u32, bytes. */
export function encodeChunk(file: string, position: number, crc: number, data: Buffer): Buffer[] {
  const name = Buffer.from(file, 'utf8');
  const head = header(ReplicationFrameTypes.CHUNK, 2 + name.length + 8 + 4 + data.length);
  const meta = Buffer.allocUnsafe(2 + name.length + 12);
  meta.writeUInt16BE(name.length, 0);
  name.copy(meta, 2);
  meta.writeBigUInt64BE(BigInt(position), 2 + name.length);
  meta.writeUInt32BE(crc >>> 0, 2 + name.length + 8);
  return [head, meta, data];
}

export function decodeChunk(payload: Buffer): Chunk {
  if (payload.length < 2) throw new ReplicationProtocolError('chunk frame too short');
  const nameLength = payload.readUInt16BE(0);
  const at = 2 + nameLength;
  if (payload.length < at + 12) throw new ReplicationProtocolError('chunk frame too short');
  return {
    file: checkFileName(payload.toString('utf8', 2, at)),
    position: Number(payload.readBigUInt64BE(at)),
    crc: payload.readUInt32BE(at + 8),
    data: payload.subarray(at + 12),
  };
}

/** Layout: epoch u64, seq u64. */
export function encodeAck(epoch: bigint, seq: number): Buffer {
  const frame = header(ReplicationFrameTypes.ACK, 16);
  const body = Buffer.allocUnsafe(16);
  body.writeBigUInt64BE(epoch, 0);
  body.writeBigUInt64BE(BigInt(seq), 8);
  return Buffer.concat([frame, body]);
}

export function decodeAck(payload: Buffer): { epoch: bigint; seq: number } {
  if (payload.length !== 16) throw new ReplicationProtocolError('ack frame of the wrong size');
  return { epoch: payload.readBigUInt64BE(0), seq: Number(payload.readBigUInt64BE(8)) };
}

export function parseJson(payload: Buffer, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ReplicationProtocolError(`${what} frame is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ReplicationProtocolError(`${what} frame is not a JSON object`);
  return value as Record<string, unknown>;
}

const STORE_FILE = /^(?:messages\/\d{16}\.seg|messages\/segments\.json|definitions\.log|format\.json)$/;

/** Only the store's own files cross the link: a peer cannot make a node write outside its data dir. */
export function checkFileName(file: string): string {
  if (!STORE_FILE.test(file)) throw new ReplicationProtocolError(`'${file}' is not a file of the store`);
  return file;
}

export function isStoreFile(file: string): boolean {
  return STORE_FILE.test(file);
}

function numberField(record: Record<string, unknown>, key: string, what: string): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ReplicationProtocolError(`${what}: '${key}' is not a size`);
  return value;
}

export function decodeInventory(payload: Buffer): Inventory {
  const record = parseJson(payload, 'inventory');
  if (!Array.isArray(record.files)) throw new ReplicationProtocolError('inventory without files');
  const files = (record.files as unknown[]).map((item): InventoryFile => {
    if (typeof item !== 'object' || item === null) throw new ReplicationProtocolError('inventory: a file is not an object');
    const entry = item as Record<string, unknown>;
    const crcs = entry.crcs;
    if (typeof entry.file !== 'string' || !Array.isArray(crcs) || !crcs.every((crc) => typeof crc === 'number')) throw new ReplicationProtocolError('inventory: bad file');
    return { file: checkFileName(entry.file), size: numberField(entry, 'size', 'inventory'), crcs: crcs as number[] };
  });
  return { files };
}

export function decodePlan(payload: Buffer): CatchUpPlan {
  const record = parseJson(payload, 'plan');
  const { epoch, files, deletes } = record;
  if (typeof epoch !== 'string' || !/^\d+$/.test(epoch) || !Array.isArray(files) || !Array.isArray(deletes)) throw new ReplicationProtocolError('plan: bad shape');
  return {
    epoch,
    snapshotSeq: numberField(record, 'snapshotSeq', 'plan'),
    files: (files as unknown[]).map((item) => {
      const entry = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
      if (typeof entry.file !== 'string') throw new ReplicationProtocolError('plan: bad file');
      return { file: checkFileName(entry.file), size: numberField(entry, 'size', 'plan') };
    }),
    deletes: (deletes as unknown[]).map((file) => {
      if (typeof file !== 'string') throw new ReplicationProtocolError('plan: bad delete');
      return checkFileName(file);
    }),
  };
}
