/**
 * Request bodies as RabbitMQ reads them: JSON whatever the Content-Type (curl's default form type
 * included), empty or `null` meaning `{}`, and `multipart/form-data` with a `file` field for the
 * definitions upload form.
 */
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../protocol/client-input.js';
import { badRequest } from './errors.js';

export function parseBody(contentType: string | undefined, body: Buffer): unknown {
  let text: string;
  if (contentType && /^multipart\/form-data/i.test(contentType)) text = multipartField(contentType, body, 'file');
  else text = body.toString('utf8');
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('failed_to_parse_json');
  }
  // A JSON string here is JSON encoded twice: RabbitMQ refuses it rather than guess.
  if (typeof value === 'string') throw badRequest('body is a JSON string; expected an object (JSON encoded twice?)');
  if (nestsDeeperThan(value, MAX_JSON_DEPTH)) throw badRequest(`body nests deeper than ${MAX_JSON_DEPTH} levels`);
  return value ?? {};
}

/** The named field of a multipart body; enough of RFC 7578 for a browser's file upload form. */
function multipartField(contentType: string, body: Buffer, field: string): string {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const marker = boundary?.[1] ?? boundary?.[2];
  if (!marker) throw badRequest('multipart/form-data without a boundary');
  const text = body.toString('latin1');
  for (const part of text.split(`--${marker}`)) {
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd < 0) continue;
    const headers = part.slice(0, headerEnd);
    const name = /content-disposition:[^\r\n]*\bname="([^"]*)"/i.exec(headers)?.[1];
    if (name !== field) continue;
    const content = part.slice(headerEnd + 4).replace(/\r\n$/, '');
    return Buffer.from(content, 'latin1').toString('utf8');
  }
  throw badRequest(`multipart/form-data without a '${field}' field`);
}
