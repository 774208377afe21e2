import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { BrokerError } from '../broker/errors.js';
import type { ClientFrame, FrameId } from './frames.js';
import { frameSchemas, type OpName } from './schemas.js';

export type ParsedFrame =
  | { readonly ok: true; readonly frame: ClientFrame }
  | { readonly ok: false; readonly error: BrokerError; readonly id?: FrameId; readonly op?: string };

/**
 * Turns a text frame into a validated client frame. Validators are compiled once, at construction;
 * ajv fills in AMQP's defaults so handlers see complete frames.
 */
export class FrameParser {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    const ajv = new Ajv({ useDefaults: true, allErrors: false, strict: true, allowUnionTypes: true, coerceTypes: false });
    for (const [op, schema] of Object.entries(frameSchemas)) this.validators.set(op, ajv.compile(schema));
  }

  parse(text: string): ParsedFrame {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return syntaxError('frame is not valid JSON');
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return syntaxError('frame must be a JSON object');
    const record = value as Record<string, unknown>;
    const id = record.id;
    const usableId = typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id)) ? id : undefined;
    if (id !== undefined && usableId === undefined) return syntaxError('/id must be a string or an integer');
    const op = record.op;
    if (typeof op !== 'string') return { ok: false, error: new BrokerError('SYNTAX_ERROR', "frame must have a string field 'op'"), id: usableId };
    const validate = this.validators.get(op);
    if (!validate) {
      return { ok: false, error: new BrokerError('COMMAND_INVALID', `unknown op '${op}'`), id: usableId, op };
    }
    if (!validate(record)) {
      return { ok: false, error: new BrokerError('SYNTAX_ERROR', describe(validate.errors?.[0], op)), id: usableId, op };
    }
    return { ok: true, frame: record as unknown as ClientFrame };
  }

  static isOp(op: string): op is OpName {
    return Object.hasOwn(frameSchemas, op);
  }
}

function syntaxError(message: string): ParsedFrame {
  return { ok: false, error: new BrokerError('SYNTAX_ERROR', message) };
}

/** One line naming the field at fault, e.g. `publish: /properties/priority must be <= 255`. */
function describe(error: ErrorObject | undefined, op: string): string {
  if (!error) return `${op}: invalid frame`;
  const path = error.instancePath || '/';
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${op}: unknown field '${String(params.additionalProperty)}' at ${path}`;
    case 'required':
      return `${op}: missing required field '${String(params.missingProperty)}'`;
    case 'enum':
      return `${op}: ${path} must be one of ${JSON.stringify(params.allowedValues)}`;
    default:
      return `${op}: ${path} ${error.message ?? 'is invalid'}`;
  }
}
