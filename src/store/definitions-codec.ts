import { checkRecord, type DefinitionRecord } from './definition-record.js';
import { HEADER_SIZE, MAGIC, recordChecksum, recordLength } from './record-codec.js';

/**
 * Framing of the definitions log: the message store's record frame (magic, type, reserved, payload
 * length, payload, CRC-32 of header and payload; see record-codec.ts) with a type of its own, and as
 * payload the UTF-8 JSON of one DefinitionRecord.
 */
export const DEFINITION_RECORD = 0x44;

/** Why the definitions could not be read; the message names the file and, for a record, its byte offset. */
export class DefinitionsLogError extends Error {
  constructor(
    message: string,
    readonly path: string,
    readonly offset?: number,
  ) {
    super(message);
    this.name = 'DefinitionsLogError';
  }
}

export function encodeDefinitionRecord(record: DefinitionRecord): Buffer {
  const payload = JSON.stringify(record);
  const payloadLength = Buffer.byteLength(payload);
  const buf = Buffer.allocUnsafe(recordLength(payloadLength));
  buf[0] = MAGIC;
  buf[1] = DEFINITION_RECORD;
  buf.writeUInt16LE(0, 2);
  buf.writeUInt32LE(payloadLength, 4);
  buf.write(payload, HEADER_SIZE, 'utf8');
  buf.writeUInt32LE(recordChecksum(buf, 0, payloadLength), HEADER_SIZE + payloadLength);
  return buf;
}

/** The length of the whole, checksummed record at `at`, or 0 if there is none (torn or damaged). */
export function frameLengthAt(buf: Buffer, at: number): number {
  if (buf.length - at < HEADER_SIZE) return 0;
  if (buf[at] !== MAGIC || buf[at + 1] !== DEFINITION_RECORD || buf[at + 2] !== 0 || buf[at + 3] !== 0) return 0;
  const payloadLength = buf.readUInt32LE(at + 4);
  const length = recordLength(payloadLength);
  if (length > buf.length - at) return 0;
  return recordChecksum(buf, at, payloadLength) === buf.readUInt32LE(at + HEADER_SIZE + payloadLength) ? length : 0;
}

/** The first offset after `from` where a whole record starts, or -1. */
export function nextFrameAfter(buf: Buffer, from: number): number {
  for (let at = buf.indexOf(MAGIC, from); at !== -1; at = buf.indexOf(MAGIC, at + 1)) {
    if (frameLengthAt(buf, at) > 0) return at;
  }
  return -1;
}

/**
 * Decodes the payload of the record at `at`, whose frame is known to be whole. Its checksum held, so a
 * payload that is not a record Warren writes is not a torn write: it is damage or a newer format, and
 * reading on would replay a log with a hole in it.
 */
export function decodeDefinitionRecord(buf: Buffer, at: number, path: string): DefinitionRecord {
  const payloadLength = buf.readUInt32LE(at + 4);
  let value: unknown;
  try {
    value = JSON.parse(buf.toString('utf8', at + HEADER_SIZE, at + HEADER_SIZE + payloadLength));
  } catch (error) {
    throw damagedRecord(path, at, `its checksum holds but its payload is not valid JSON (${(error as Error).message})`);
  }
  const checked = checkRecord(value);
  if (typeof checked === 'string') throw damagedRecord(path, at, `its checksum holds but it is not a definitions record this Warren knows: ${checked}`);
  return checked;
}

/** A record that cannot be replayed and is not a torn last write: skipping it would lose definitions. */
export function damagedRecord(path: string, offset: number, why: string): DefinitionsLogError {
  return new DefinitionsLogError(
    `cannot read the definitions log ${path}: the record at byte offset ${offset} is damaged: ${why}. ` +
      `Warren does not start on a definitions log with a hole in it. ${recoveryAdvice(path)}`,
    path,
    offset,
  );
}

/**
 * What an operator can do about a damaged log. Importing at start-up (definitions.json) comes before
 * the queues are refilled, so their stored messages go back into them; a log moved away with nothing in
 * its place does not start while the message store holds anything.
 */
export function recoveryAdvice(path: string): string {
  return (
    `To recover: restore ${path} from a backup; or move it away and put an exported definitions file ` +
    '(GET /api/definitions, rabbitmqadmin export) in its place as definitions.json in the same directory, ' +
    'which Warren imports on start before refilling the queues. ' +
    'The message store is not touched until the definitions are read.'
  );
}
