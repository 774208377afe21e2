import type { Exchange } from './exchange.js';
import type { Headers } from './message.js';
import type { Queue } from './queue.js';

export type BindingArguments = Readonly<Record<string, unknown>>;

export type BindingDestination =
  | { readonly kind: 'queue'; readonly queue: Queue }
  | { readonly kind: 'exchange'; readonly exchange: Exchange };

export interface Binding {
  readonly source: Exchange;
  readonly destination: BindingDestination;
  readonly routingKey: string;
  readonly arguments: BindingArguments;
  /** Identity of the binding within its source: destination, key and arguments. */
  readonly id: string;
}

/** What routing looks at; nothing else of a message is needed to choose destinations. */
export interface RoutingInput {
  readonly routingKey: string;
  readonly headers: Headers | undefined;
}

export function destinationName(destination: BindingDestination): string {
  return destination.kind === 'queue' ? destination.queue.name : destination.exchange.name;
}

export function bindingId(destination: BindingDestination, routingKey: string, args: BindingArguments): string {
  return `${destination.kind[0]}\u0000${destinationName(destination)}\u0000${routingKey}\u0000${stableStringify(args)}`;
}

/** JSON with object keys sorted, so equal argument tables give equal strings whatever their key order. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function argumentsEqual(a: BindingArguments, b: BindingArguments): boolean {
  return stableStringify(a) === stableStringify(b);
}
