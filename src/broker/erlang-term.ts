/** A decoded JSON value as Erlang's `~tp` prints it, so refusals read as RabbitMQ's do. */
export function erlangTerm(value: unknown): string {
  if (typeof value === 'string') return `<<${JSON.stringify(value)}>>`;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(erlangTerm).join(',')}]`;
  if (typeof value === 'object') {
    return `#{${Object.entries(value).map(([k, v]) => `${erlangTerm(k)} => ${erlangTerm(v)}`).join(',')}}`;
  }
  return String(value);
}
