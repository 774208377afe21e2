import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../src/cluster/cluster-frames.js';
import { decodeChunk, decodeEntry, encodeChunk, encodeEntry, MAX_FRAME, ReplicationFrameTypes, ReplicationProtocolError } from '../../src/cluster/replication-frames.js';

describe('replication frames', () => {
  it('an entry survives encoding, split into one-byte pieces, with the store buffer changed after it was told', () => {
    const data = Buffer.from('hello, follower');
    const frame = encodeEntry(12345678901234n, 42, { kind: 'write', file: 'messages/0000000000000007.seg', position: 2 ** 40, data: [data.subarray(0, 5), data.subarray(5)] });
    data.fill(0); // the store reuses its buffers: the frame must hold a copy
    const reader = new FrameReader(MAX_FRAME);
    const frames = [];
    for (const byte of frame) frames.push(...reader.read(Buffer.from([byte])));
    expect(frames).toHaveLength(1);
    expect(frames[0]?.type).toBe(ReplicationFrameTypes.ENTRY);
    const entry = decodeEntry(frames[0]?.payload ?? Buffer.alloc(0));
    expect(entry.epoch).toBe(12345678901234n);
    expect(entry.seq).toBe(42);
    expect(entry.change).toMatchObject({ kind: 'write', file: 'messages/0000000000000007.seg', position: 2 ** 40 });
    expect(Buffer.concat(entry.change.kind === 'write' ? entry.change.data : []).toString()).toBe('hello, follower');
  });

  it('several frames in one piece, every kind', () => {
    const changes = [
      { kind: 'replace', file: 'messages/segments.json', data: [Buffer.from('{}')] },
      { kind: 'truncate', file: 'definitions.log', size: 77 },
      { kind: 'unlink', file: 'messages/0000000000000001.seg' },
    ] as const;
    const bytes = Buffer.concat([...changes.map((change, i) => encodeEntry(1n, i + 1, change)), ...encodeChunk('format.json', 0, 99, Buffer.from('x'))]);
    const frames = [...new FrameReader(MAX_FRAME).read(bytes)];
    expect(frames.slice(0, 3).map((f) => decodeEntry(f.payload).change)).toEqual([
      { kind: 'replace', file: 'messages/segments.json', data: [Buffer.from('{}')] },
      { kind: 'truncate', file: 'definitions.log', size: 77 },
      { kind: 'unlink', file: 'messages/0000000000000001.seg' },
    ]);
    expect(decodeChunk(frames[3]?.payload ?? Buffer.alloc(0))).toEqual({ file: 'format.json', position: 0, crc: 99, data: Buffer.from('x') });
  });

  it('a file outside the store is refused: a peer cannot make a node write elsewhere', () => {
    const frame = encodeEntry(1n, 1, { kind: 'unlink', file: '../etc/passwd' });
    const [decoded] = new FrameReader(MAX_FRAME).read(frame);
    expect(() => decodeEntry(decoded?.payload ?? Buffer.alloc(0))).toThrow(ReplicationProtocolError);
  });

  it('a frame longer than the limit is refused before it is buffered', () => {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(1000, 0);
    expect(() => [...new FrameReader(100).read(head)]).toThrow(/frame of 1000 bytes/);
  });
});
