import { preconditionFailed, type BrokerError } from './errors.js';

/**
 * A redeclare that differs from what exists, in RabbitMQ's words: `inequivalent arg 'auto_delete' for
 * queue 'q' in vhost '/': received 'true' but current is 'false'`. When one side is missing, RabbitMQ
 * names the other's wire type (`received the value '20' of type 'byte' but current is none`); Warren
 * keeps arguments as JSON, so it names the type amqplib would send the value as.
 */
export function inequivalentArg(field: string, what: string, received: unknown, current: unknown): BrokerError {
  const name = field === 'autoDelete' ? 'auto_delete' : field;
  const oneMissing = (received === undefined) !== (current === undefined);
  const shown = (value: unknown): string => (value === undefined ? 'none' : oneMissing ? `the value ${quoted(value)} of type '${wireType(value)}'` : quoted(value));
  return preconditionFailed(`inequivalent arg '${name}' for ${what}: received ${shown(received)} but current is ${shown(current)}`);
}

function quoted(value: unknown): string {
  return typeof value === 'object' && value !== null ? `'${JSON.stringify(value)}'` : `'${String(value)}'`;
}

/** RabbitMQ's name for the field type a JSON value is sent as by amqplib (the smallest integer that fits). */
function wireType(value: unknown): string {
  if (typeof value === 'string') return 'longstr';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return 'double';
    if (value >= -128 && value <= 127) return 'byte';
    if (value >= -32768 && value <= 32767) return 'short';
    if (value >= -2147483648 && value <= 2147483647) return 'signedint';
    return 'long';
  }
  if (value === null) return 'void';
  return Array.isArray(value) ? 'array' : 'table';
}
