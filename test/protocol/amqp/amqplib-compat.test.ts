// Byte-exact comparison with amqplib's codec, an independent implementation: what we encode amqplib
// decodes to the same values and encodes to the same bytes, and what amqplib encodes we decode.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeContentHeader, encodeBodyFrames, encodeContentHeaderFrame } from '../../../src/protocol/amqp/content.js';
import type { FieldTable, FieldValue } from '../../../src/protocol/amqp/field-table.js';
import { FrameReader } from '../../../src/protocol/amqp/frame-reader.js';
import { decodeMethod, encodeMethodFrame } from '../../../src/protocol/amqp/method-codec.js';
import { METHOD_TABLE, type AmqpMethod } from '../../../src/protocol/amqp/spec/methods.js';
import { allProperties, sampleMethod } from './samples.js';

interface AmqplibDefs {
  encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
  encodeProperties(id: number, channel: number, size: number, fields: Record<string, unknown>): Buffer;
  decode(id: number, buf: Buffer): Record<string, unknown>;
  info(id: number): { classId: number; methodId: number; args: { name: string; type: string }[] } | undefined;
}
interface AmqplibFrame {
  parseFrame(bin: Buffer, max: number): { type: number; channel: number; payload: Buffer; rest: Buffer } | false;
  decodeFrame(frame: { type: number; channel: number; payload: Buffer }): { id?: number; channel: number; fields?: Record<string, unknown>; size?: number };
  makeBodyFrame(channel: number, payload: Buffer): Buffer;
}

// amqplib's package exports hide lib/, so its files are loaded by path from the installed package.
const require = createRequire(import.meta.url);
const amqplibDir = dirname(require.resolve('amqplib'));
const defs: AmqplibDefs = require(join(amqplibDir, 'lib', 'defs.js'));
const frameLib: AmqplibFrame = require(join(amqplibDir, 'lib', 'frame.js'));

/** Our value as amqplib's encoder takes it ('!' tags where a JS value alone would be guessed wrong). */
function toTheirs(v: FieldValue): unknown {
  switch (v.type) {
    case 'bool':
      return v.value;
    case 'int64':
      return { '!': 'int64', value: Number(v.value) };
    case 'timestamp':
      return { '!': 'timestamp', value: Number(v.value) };
    case 'decimal':
      return { '!': 'decimal', value: { places: v.value.scale, digits: v.value.value } };
    case 'longstr':
      return Buffer.from(v.value).toString('utf8');
    case 'bytes':
      return Buffer.from(v.value);
    case 'array':
      return v.value.map(toTheirs);
    case 'table':
      return tableToTheirs(v.value);
    case 'void':
      return null;
    default:
      return { '!': v.type, value: v.value };
  }
}

/** Our value as amqplib's decoder returns it: plain numbers for the integer and float types. */
function asTheyDecode(v: FieldValue): unknown {
  switch (v.type) {
    case 'int8':
    case 'uint8':
    case 'int16':
    case 'uint16':
    case 'int32':
    case 'uint32':
    case 'float':
    case 'double':
      return v.value;
    case 'int64':
      return Number(v.value);
    case 'array':
      return v.value.map(asTheyDecode);
    case 'table':
      return Object.fromEntries([...v.value].map(([k, x]) => [k, asTheyDecode(x)]));
    default:
      return toTheirs(v);
  }
}

const tableToTheirs = (t: FieldTable): Record<string, unknown> => Object.fromEntries([...t].map(([k, v]) => [k, toTheirs(v)]));

function argsToTheirs(m: AmqpMethod, decoded: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k === 'method') continue;
    if (typeof v === 'bigint') out[k] = Number(v);
    else if (v instanceof Map) out[k] = decoded ? asTheyDecode({ type: 'table', value: v as FieldTable }) : tableToTheirs(v as FieldTable);
    else if (v instanceof Uint8Array) out[k] = Buffer.from(v);
    else out[k] = v;
  }
  return out;
}

const theyKnow = METHOD_TABLE.filter((m) => defs.info(m.classId * 65536 + m.methodId) !== undefined);

describe('byte-exact against amqplib', () => {
  it('amqplib knows nearly every method, with our argument names', () => {
    expect(theyKnow.length).toBeGreaterThanOrEqual(METHOD_TABLE.length - 2);
    for (const m of theyKnow) {
      expect(defs.info(m.classId * 65536 + m.methodId)?.args.map((a) => a.name)).toEqual(m.args.map((a) => a.field));
    }
  });

  it.each(theyKnow.map((spec) => ({ name: spec.name, spec })))('$name: same bytes both ways', ({ spec }) => {
    const id = spec.classId * 65536 + spec.methodId;
    const ours = sampleMethod(spec, false);
    const ourFrame = encodeMethodFrame(7, ours);
    const theirFrame = defs.encodeMethod(id, 7, argsToTheirs(ours, false));
    expect(ourFrame.toString('hex')).toBe(theirFrame.toString('hex'));

    // They decode our frame to the values we meant…
    const parsed = frameLib.parseFrame(ourFrame, 0);
    if (!parsed) throw new Error('amqplib could not parse our frame');
    const theirView = frameLib.decodeFrame(parsed);
    expect(theirView).toMatchObject({ id, channel: 7 });
    expect(theirView.fields).toEqual(argsToTheirs(ours, true));

    // …and we decode theirs to our values.
    const [frame] = [...new FrameReader({ expectProtocolHeader: false }).read(theirFrame)];
    if (frame?.kind !== 'frame') throw new Error('we could not read their frame');
    expect(decodeMethod(frame.payload)).toEqual(ours);
  });

  it('content header with all 14 properties: same bytes both ways', () => {
    const props = allProperties();
    const theirProps: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(props)) {
      theirProps[k] = typeof v === 'bigint' ? Number(v) : v instanceof Map ? tableToTheirs(v as FieldTable) : v;
    }
    const ours = encodeContentHeaderFrame(5, 123456, props);
    const theirs = defs.encodeProperties(60, 5, 123456, theirProps);
    expect(ours.toString('hex')).toBe(theirs.toString('hex'));

    const parsed = frameLib.parseFrame(ours, 0);
    if (!parsed) throw new Error('amqplib could not parse our header');
    const view = frameLib.decodeFrame(parsed);
    expect(view).toMatchObject({ id: 60, channel: 5, size: 123456 });
    const expected: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(props)) {
      expected[k] = typeof v === 'bigint' ? Number(v) : v instanceof Map ? asTheyDecode({ type: 'table', value: v as FieldTable }) : v;
    }
    expect(view.fields).toEqual(expected);

    const [frame] = [...new FrameReader({ expectProtocolHeader: false }).read(theirs)];
    if (frame?.kind !== 'frame') throw new Error('we could not read their header');
    expect(decodeContentHeader(frame.payload)).toEqual({ classId: 60, weight: 0, bodySize: 123456, properties: props });
  });

  it('content header with no properties and with a few: same bytes', () => {
    expect(encodeContentHeaderFrame(1, 0, {}).equals(defs.encodeProperties(60, 1, 0, {}))).toBe(true);
    const few = { deliveryMode: 1, replyTo: 'r', timestamp: 42n };
    expect(encodeContentHeaderFrame(1, 9, few).equals(defs.encodeProperties(60, 1, 9, { deliveryMode: 1, replyTo: 'r', timestamp: 42 }))).toBe(true);
  });

  it('body frames are the frames amqplib makes for the same slices', () => {
    const body = Buffer.from(Array.from({ length: 10000 }, (_, i) => i % 251));
    const frames = encodeBodyFrames(3, body, 4096);
    expect(frames).toHaveLength(3);
    let at = 0;
    for (const f of frames) {
      const size = f.length - 8;
      expect(f.equals(frameLib.makeBodyFrame(3, body.subarray(at, at + size)))).toBe(true);
      at += size;
    }
    expect(at).toBe(body.length);
  });
});
