import { Ajv, type ErrorObject, type SchemaObject, type ValidateFunction } from 'ajv';
import { BrokerError } from '../broker/errors.js';
import { clip, MAX_JSON_DEPTH, nestsDeeperThan } from './client-input.js';
import type { ClientFrame, ClientFrames, FrameId } from './frames.js';
import { frameSchemas, isOpName, type OpName } from './schemas.js';

export type ParsedFrame =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly error: BrokerError; readonly id?: FrameId; readonly op?: string };

/**
 * Turns a text frame into a validated client frame. Validators are compiled once, at construction;
 * ajv fills in AMQP's defaults so handlers see complete frames.
 */
export class FrameParser {
  private readonly validators = new Map<string, ValidateFunction<ClientFrame>>();

  constructor() {
    const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: true, allowUnionTypes: true, coerceTypes: false });
    for (const op of Object.keys(frameSchemas).filter(isOpName)) this.validators.set(op, compileFrame(ajv, op));
  }

  parse(text: string): ParsedFrame {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return syntaxError('frame is not valid JSON');
    }
    if (!isJsonObject(value)) return syntaxError('frame must be a JSON object');
    const id = value.id;
    const usableId = typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id)) ? id : undefined;
    if (id !== undefined && usableId === undefined) return syntaxError('/id must be a string or an integer');
    // Every reply echoes the id: a long one would make each reply as large as the frame that asked.
    if (typeof usableId === 'string' && usableId.length > MAX_ID_LENGTH) return syntaxError(`/id must be at most ${MAX_ID_LENGTH} characters`);
    if (nestsDeeperThan(value, MAX_JSON_DEPTH)) {
      return { ok: false, error: new BrokerError('SYNTAX_ERROR', `frame nests deeper than ${MAX_JSON_DEPTH} levels`), id: usableId };
    }
    const op = value.op;
    if (typeof op !== 'string') return { ok: false, error: new BrokerError('SYNTAX_ERROR', "frame must have a string field 'op'"), id: usableId };
    const validate = this.validators.get(op);
    if (!validate) {
      const shown = clip(op);
      return { ok: false, error: new BrokerError('COMMAND_INVALID', `unknown op '${shown}'`), id: usableId, op: shown };
    }
    if (!validate(value)) {
      return { ok: false, error: new BrokerError('SYNTAX_ERROR', describe(validate.errors?.[0], op)), id: usableId, op };
    }
    return { ok: true, frame: value };
  }
}

/**
 * ajv cannot check a type argument against a plain JSON Schema; this one is sound because frames.ts
 * derives `ClientFrames[K]` from this very schema, defaults included.
 */
function compileFrame<K extends OpName>(ajv: Ajv, op: K): ValidateFunction<ClientFrames[K]> {
  // Widened first: matching the literal schema against ajv's JSONSchemaType<T> overload is too deep for tsc.
  const schema: SchemaObject = frameSchemas[op];
  return ajv.compile<ClientFrames[K]>(schema);
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const MAX_ID_LENGTH = 255;

function syntaxError(message: string): ParsedFrame {
  return { ok: false, error: new BrokerError('SYNTAX_ERROR', message) };
}

/** One line naming the field at fault, e.g. `publish: /properties/priority must be <= 255`. */
function describe(error: ErrorObject | undefined, op: string): string {
  if (!error) return `${op}: invalid frame`;
  const path = clip(error.instancePath || '/', 128);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${op}: unknown field '${clip(String(params.additionalProperty))}' at ${path}`;
    case 'required':
      return `${op}: missing required field '${String(params.missingProperty)}'`;
    case 'enum':
      return `${op}: ${path} must be one of ${JSON.stringify(params.allowedValues)}`;
    default:
      return `${op}: ${path} ${error.message ?? 'is invalid'}`;
  }
}
