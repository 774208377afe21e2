import { TextContent, type MessageContent, type MessageProperties } from './message.js';

/**
 * A message content packed into one byte array, for what waits long in memory in great numbers (the
 * messages a delayed exchange holds). A content as objects is half a dozen heap objects (the content,
 * its properties and headers, the body string); every major garbage collection marks all of them, and
 * with a million scheduled messages that marking is what made routing late. Packed, a content is one
 * small view over a shared slab, its bytes outside the JS heap. It is unpacked when the message is
 * routed or shown.
 *
 * Layout: u8 kind (0 bytes, 1 text) · u32 length of the JSON head · JSON `[exchange, routingKey,
 * properties]` · the body (UTF-8 for a text body).
 */
export type PackedContent = Uint8Array;

const SLAB_SIZE = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Hands out views of shared slabs: one heap object per packed content, none for its bytes. */
class Slabs {
  private slab = new Uint8Array(SLAB_SIZE);
  private used = 0;

  take(length: number): Uint8Array {
    if (length > SLAB_SIZE / 4) return new Uint8Array(length);
    if (this.used + length > SLAB_SIZE) {
      this.slab = new Uint8Array(SLAB_SIZE);
      this.used = 0;
    }
    const view = this.slab.subarray(this.used, this.used + length);
    // Keep views 8-byte aligned, as Node's own buffer pool does.
    this.used += (length + 7) & ~7;
    return view;
  }
}

const slabs = new Slabs();

export function packContent(content: MessageContent): PackedContent {
  const head = encoder.encode(JSON.stringify([content.exchange, content.routingKey, content.properties]));
  const text = content instanceof TextContent ? content.text : undefined;
  const body = text === undefined ? content.body : undefined;
  const bodyLength = text === undefined ? (body as Uint8Array).length : (content as TextContent).size;
  const out = slabs.take(5 + head.length + bodyLength);
  out[0] = text === undefined ? 0 : 1;
  const n = head.length;
  out[1] = n & 0xff;
  out[2] = (n >>> 8) & 0xff;
  out[3] = (n >>> 16) & 0xff;
  out[4] = n >>> 24;
  out.set(head, 5);
  if (text === undefined) out.set(body as Uint8Array, 5 + head.length);
  else encoder.encodeInto(text, out.subarray(5 + head.length));
  return out;
}

function headLengthOf(packed: PackedContent): number {
  return ((packed[1] as number) | ((packed[2] as number) << 8) | ((packed[3] as number) << 16)) + (packed[4] as number) * 0x1000000;
}

export function unpackContent(packed: PackedContent): MessageContent {
  const headLength = headLengthOf(packed);
  const [exchange, routingKey, properties] = JSON.parse(decoder.decode(packed.subarray(5, 5 + headLength))) as [string, string, MessageProperties];
  const body = packed.subarray(5 + headLength);
  if (packed[0] === 1) return new TextContent(exchange, routingKey, properties, decoder.decode(body), body.length);
  return { exchange, routingKey, properties, body: body.slice() };
}

/** The body's length in bytes, without unpacking. */
export function packedBodySize(packed: PackedContent): number {
  return packed.length - 5 - headLengthOf(packed);
}
