/**
 * Dead-lettered headers in a form that compares across brokers and RabbitMQ versions: without what
 * RabbitMQ 3.10 does not send (`x-last-death-*`, a 3.13 addition) and without the death times (checked apart).
 * Used by the fixture test (test/broker/dead-letter.test.ts) and the live comparison (test/protocol/rabbitmq-x-death.test.ts).
 */
export function comparable(headers: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (key.startsWith('x-last-death-')) continue;
    out[key] = key === 'x-death' ? (value as Array<Record<string, unknown>>).map(({ time: _time, ...rest }) => rest) : value;
  }
  return out;
}
