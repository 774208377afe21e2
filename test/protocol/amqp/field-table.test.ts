import { describe, expect, it } from 'vitest';
import { readTable, writeTable, type FieldTable, type FieldValue } from '../../../src/protocol/amqp/field-table.js';
import { decodeMethod, encodeMethodPayload } from '../../../src/protocol/amqp/method-codec.js';
import { WireReader, WireWriter } from '../../../src/protocol/amqp/wire-reader.js';
import { everyTypeTable } from './samples.js';

const encode = (t: FieldTable): Buffer => {
  const w = new WireWriter(8);
  writeTable(w, t);
  return Buffer.from(w.result());
};

/** A table carried as connection.start-ok's client-properties, so errors come out typed as on the wire. */
const inStartOk = (tableBytes: Uint8Array): Buffer =>
  Buffer.concat([Uint8Array.of(0, 10, 0, 11), tableBytes, Uint8Array.of(5, 0x50, 0x4c, 0x41, 0x49, 0x4e, 0, 0, 0, 0, 5, 0x65, 0x6e, 0x5f, 0x55, 0x53)]);

describe('field tables', () => {
  it('round-trips every type RabbitMQ uses, nested in tables and arrays, to the same bytes', () => {
    const table = everyTypeTable();
    const bytes = encode(table);
    const back = readTable(new WireReader(bytes));
    expect(back).toEqual(table);
    expect(encode(back).equals(bytes)).toBe(true);
  });

  it('uses RabbitMQ\'s type tags', () => {
    const tags: [FieldValue, number[]][] = [
      [{ type: 'bool', value: true }, [0x74, 1]],
      [{ type: 'int8', value: -1 }, [0x62, 0xff]],
      [{ type: 'uint8', value: 200 }, [0x42, 200]],
      [{ type: 'int16', value: -2 }, [0x73, 0xff, 0xfe]],
      [{ type: 'uint16', value: 2 }, [0x75, 0, 2]],
      [{ type: 'int32', value: -1 }, [0x49, 0xff, 0xff, 0xff, 0xff]],
      [{ type: 'uint32', value: 1 }, [0x69, 0, 0, 0, 1]],
      [{ type: 'int64', value: -1n }, [0x6c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
      [{ type: 'float', value: 1 }, [0x66, 0x3f, 0x80, 0, 0]],
      [{ type: 'double', value: 1 }, [0x64, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]],
      [{ type: 'decimal', value: { scale: 3, value: 5 } }, [0x44, 3, 0, 0, 0, 5]],
      [{ type: 'longstr', value: Buffer.from('a') }, [0x53, 0, 0, 0, 1, 0x61]],
      [{ type: 'bytes', value: Buffer.from([9]) }, [0x78, 0, 0, 0, 1, 9]],
      [{ type: 'array', value: [{ type: 'void' }] }, [0x41, 0, 0, 0, 1, 0x56]],
      [{ type: 'timestamp', value: 2n }, [0x54, 0, 0, 0, 0, 0, 0, 0, 2]],
      [{ type: 'table', value: new Map() }, [0x46, 0, 0, 0, 0]],
      [{ type: 'void' }, [0x56]],
    ];
    for (const [value, expected] of tags) {
      const bytes = encode(new Map([['k', value]]));
      expect([...bytes.subarray(6)], value.type).toEqual(expected);
      expect(readTable(new WireReader(bytes)).get('k'), value.type).toEqual(value);
    }
  });

  it('keeps keys in the order they arrived, and a longstr that is not UTF-8 byte for byte', () => {
    const t: FieldTable = new Map<string, FieldValue>([
      ['z', { type: 'void' }],
      ['1', { type: 'longstr', value: Buffer.from([0xc3, 0x28, 0xff]) }],
      ['a', { type: 'void' }],
    ]);
    const back = readTable(new WireReader(encode(t)));
    expect([...back.keys()]).toEqual(['z', '1', 'a']);
    expect(back).toEqual(t);
  });

  it('keeps NaN, -0 and infinities in doubles, and int64 extremes', () => {
    const t: FieldTable = new Map<string, FieldValue>([
      ['nan', { type: 'double', value: Number.NaN }],
      ['negzero', { type: 'double', value: -0 }],
      ['inf', { type: 'float', value: Number.NEGATIVE_INFINITY }],
      ['min', { type: 'int64', value: -(2n ** 63n) }],
      ['max', { type: 'int64', value: 2n ** 63n - 1n }],
      ['ts', { type: 'timestamp', value: 2n ** 64n - 1n }],
    ]);
    const bytes = encode(t);
    expect(encode(readTable(new WireReader(bytes))).equals(bytes)).toBe(true);
    expect(readTable(new WireReader(bytes))).toEqual(t);
  });

  describe('malformed tables give 501 FRAME_ERROR through the method decoder, as RabbitMQ', () => {
    const valid = encode(new Map<string, FieldValue>([['key', { type: 'longstr', value: Buffer.from('value') }]]));
    const patched = (at: number, byte: number): Buffer => {
      const copy = Buffer.from(valid);
      copy[at] = byte;
      return copy;
    };
    const cases: [string, Uint8Array][] = [
      ['unknown type tag', patched(8, 0x51)],
      ['value length past the table end', patched(12, 0x40)],
      ['key length past the table end', patched(4, 0xf0)],
      ['table length past the payload', patched(0, 0x7f)],
      ['table length shorter than its entry', patched(3, valid.length - 6)],
      ['truncated inside a value', valid.subarray(0, valid.length - 2)],
      ['nested too deep', nested(100)],
    ];
    it.each(cases)('%s', (_name, table) => {
      const result = decodeMethod(inStartOk(table));
      expect(result).toMatchObject({ kind: 'error', code: 501, name: 'FRAME_ERROR', classId: 10, methodId: 11 });
    });
  });

  it('a valid start-ok carrying the table decodes (the malformed cases above differ only in the table)', () => {
    const m = { method: 'connection.start-ok', clientProperties: everyTypeTable(), mechanism: 'PLAIN', response: Buffer.alloc(0), locale: 'en_US' } as const;
    expect(decodeMethod(inStartOk(encode(everyTypeTable())))).toEqual(m);
    expect(encodeMethodPayload(m).equals(inStartOk(encode(everyTypeTable())))).toBe(true);
  });
});

function nested(depth: number): Buffer {
  let t: FieldTable = new Map();
  for (let i = 0; i < depth; i++) t = new Map<string, FieldValue>([['n', { type: 'table', value: t }]]);
  return encode(t);
}
