import type { MessageProperties } from '../broker/message.js';

/**
 * The strings of a message record — exchange, routing key, properties JSON — encoded on the path of
 * every persistent publish. They are short and nearly always ASCII.
 */

/** The string's length in UTF-8 bytes (native; an empty string, common for the exchange, skips the call). */
export function utf8Length(text: string): number {
  return text.length === 0 ? 0 : Buffer.byteLength(text, 'utf8');
}

/**
 * Writes `text`, whose UTF-8 length `utf8Length` gave as `bytes`, at `at`. A UTF-8 length equal to the
 * UTF-16 length means every unit is ASCII (anything else takes more bytes than units), and then the
 * Latin-1 writer, which skips UTF-8 encoding, writes the same bytes in half the time.
 */
export function writeUtf8(buf: Buffer, at: number, text: string, bytes: number): void {
  if (bytes === 0) return;
  buf.write(text, at, bytes, bytes === text.length ? 'latin1' : 'utf8');
}

/**
 * The properties as JSON with `priority` as the first key and `expiration` next when they are there,
 * so that recovery can read them from a fixed prefix (`readPriority`, `readExpiration`) without parsing
 * the JSON. A Warren that does not know this still reads the same JSON, so the record format is unchanged.
 *
 * Always exactly `JSON.stringify({ priority, expiration, ...properties })`, or of the properties alone
 * when neither is set. Most messages are like the one before them and hold nothing but numbers and an
 * empty `headers` (`{"headers":{},"deliveryMode":2}`): for those the last text is reused when every
 * key and value is the same, which costs a walk over the keys instead of a `JSON.stringify` (~400 ns).
 */
export function propertiesJson(properties: MessageProperties): string {
  if (properties.priority !== undefined || properties.expiration !== undefined) {
    return JSON.stringify({ priority: properties.priority, expiration: properties.expiration, ...properties });
  }
  return simple.json(properties as Readonly<Record<string, unknown>>) ?? JSON.stringify(properties);
}

/** A value of a simple property: a number, or an empty object. */
const EMPTY_OBJECT = Symbol('{}');
type SimpleValue = number | typeof EMPTY_OBJECT;

/** The last simple properties seen and their JSON. */
class SimplePropertiesJson {
  private readonly keys: string[] = [];
  private readonly values: SimpleValue[] = [];
  private count = -1;
  private text = '';
  private readonly nextKeys: string[] = [];
  private readonly nextValues: SimpleValue[] = [];

  /** Undefined unless every property is a number or an empty object (or undefined, which JSON leaves out). */
  json(properties: Readonly<Record<string, unknown>>): string | undefined {
    let n = 0;
    let same = true;
    for (const key in properties) {
      const value = properties[key];
      let simpleValue: SimpleValue;
      if (typeof value === 'number') simpleValue = value;
      else if (value === undefined) continue;
      else if (isEmptyPlainObject(value)) simpleValue = EMPTY_OBJECT;
      else return undefined;
      // NaN never equals itself: such a text is just built again.
      if (same && (this.keys[n] !== key || this.values[n] !== simpleValue)) same = false;
      this.nextKeys[n] = key;
      this.nextValues[n] = simpleValue;
      n++;
    }
    if (same && n === this.count) return this.text;
    let text = '{';
    for (let i = 0; i < n; i++) {
      const key = this.nextKeys[i] as string;
      const value = this.nextValues[i] as SimpleValue;
      this.keys[i] = key;
      this.values[i] = value;
      if (i > 0) text += ',';
      text += `${JSON.stringify(key)}:${value === EMPTY_OBJECT ? '{}' : Number.isFinite(value) ? String(value) : 'null'}`;
    }
    this.count = n;
    this.text = `${text}}`;
    return this.text;
  }
}

const simple = new SimplePropertiesJson();

/** What JSON.stringify writes as `{}`: a plain object with no enumerable string keys and no `toJSON`. */
function isEmptyPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return false;
  if ((value as { toJSON?: unknown }).toJSON !== undefined) return false;
  for (const _ in value) return false;
  return true;
}
