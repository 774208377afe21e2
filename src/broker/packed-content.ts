import { TextContent, type MessageContent, type MessageProperties } from './message.js';

/**
 * A message content as one string, for what waits long in memory in great numbers (the messages a
 * delayed exchange holds, which ScheduleTable keeps as UTF-8 in byte slabs, off the JS heap). Unpacked
 * when the message is routed or shown.
 *
 * The string is the JSON of `[exchange, routingKey, properties, body, kind]`: `kind` 1 for a text body
 * (kept as text), 0 for bytes (a character a byte).
 */
export type PackedContent = string;

type Packed = [string, string, MessageProperties, string, 0 | 1];

export function packContent(content: MessageContent): PackedContent {
  const text = content instanceof TextContent;
  const body = text ? content.text : latin1(content.body);
  return JSON.stringify([content.exchange, content.routingKey, content.properties, body, text ? 1 : 0]);
}

export function unpackContent(packed: PackedContent): MessageContent {
  const [exchange, routingKey, properties, body, kind] = JSON.parse(packed) as Packed;
  if (kind === 1) return new TextContent(exchange, routingKey, properties, body, utf8Length(body));
  return { exchange, routingKey, properties, body: fromLatin1(body) };
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Bytes as a one-byte string, a character a byte (JSON escapes the control ones; bodies this rare can afford it). */
function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let at = 0; at < bytes.length; at += 8192) out += String.fromCharCode(...bytes.subarray(at, at + 8192));
  return out;
}

function fromLatin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}
