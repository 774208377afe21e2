/** Scheduled contents are packed into bytes while they wait: unpacking gives back exactly what was packed. */
import { describe, expect, it } from 'vitest';
import { TextContent, type MessageContent } from '../../src/broker/message.js';
import { packContent, unpackContent } from '../../src/broker/packed-content.js';

describe('packed content', () => {
  it('round-trips a text body (multi-byte included) with its properties and headers', () => {
    const text = 'grüße, 世界 ✓';
    const size = new TextEncoder().encode(text).length;
    const content = new TextContent('ex', 'a.b', { deliveryMode: 2, headers: { 'x-delay': 5000, nested: { list: [1, 'two', null] } }, priority: 3 }, text, size);
    const packed = packContent(content);
    const back = unpackContent(packed);
    expect(back).toBeInstanceOf(TextContent);
    expect((back as TextContent).text).toBe(text);
    expect(back.exchange).toBe('ex');
    expect(back.routingKey).toBe('a.b');
    expect(back.properties).toEqual(content.properties);
    expect((back as TextContent).size).toBe(size);
  });

  it('round-trips a binary body byte for byte, large or empty, and packs many without mixing them up', () => {
    const bodies = [new Uint8Array([0, 255, 1, 254]), new Uint8Array(0), Uint8Array.from({ length: 40_000 }, (_, i) => i & 0xff)];
    const contents: MessageContent[] = bodies.map((body, i) => ({ exchange: `e${i}`, routingKey: `k${i}`, properties: {}, body }));
    const many = Array.from({ length: 2000 }, (_, i) => packContent({ exchange: '', routingKey: String(i), properties: { messageId: String(i) }, body: new Uint8Array([i & 0xff]) }));
    const packed = contents.map(packContent);
    packed.forEach((p, i) => {
      const back = unpackContent(p);
      expect(back.body).toEqual(bodies[i]);
      expect(back.routingKey).toBe(`k${i}`);
    });
    many.forEach((p, i) => expect(unpackContent(p)).toMatchObject({ routingKey: String(i), properties: { messageId: String(i) }, body: new Uint8Array([i & 0xff]) }));
  });
});
