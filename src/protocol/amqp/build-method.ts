// Builds a method from the arguments that matter, filling the rest with the spec's default values, so
// that callers write buildMethod('basic.publish', { exchange, routingKey }) rather than every reserved
// field (ticket, out-of-band, known-hosts, …) by hand.
import { methodSpec, type MethodName, type MethodOf } from './method-codec.js';
import type { MethodDefaults } from './spec/methods.js';

type Defaulted<N extends MethodName> = Extract<MethodDefaults[N], keyof MethodOf<N>>;

export type MethodInit<N extends MethodName> = Omit<MethodOf<N>, 'method' | Defaulted<N>> & Partial<Pick<MethodOf<N>, Defaulted<N>>>;

export function buildMethod<N extends MethodName>(name: N, init: MethodInit<N>): MethodOf<N> {
  const given = init as Readonly<Record<string, unknown>>;
  const out: Record<string, unknown> = { method: name };
  for (const arg of methodSpec(name).args) {
    const value = given[arg.field];
    out[arg.field] = value === undefined && 'default' in arg ? fromDefault(arg.type, arg.default) : value;
  }
  // Every argument of the spec entry for `name` is set, from init or from the spec's default.
  return out as unknown as MethodOf<N>;
}

function fromDefault(type: string, value: unknown): unknown {
  switch (type) {
    case 'longlong':
    case 'timestamp':
      return BigInt(value as number);
    case 'longstr':
      return Buffer.from(value as string, 'utf8');
    case 'table':
      return new Map();
    default:
      return value;
  }
}
