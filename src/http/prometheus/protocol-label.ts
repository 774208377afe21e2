/**
 * The `protocol` label of the per-protocol metrics. RabbitMQ's values where the protocol is RabbitMQ's
 * (`amqp091`, over TCP or WebSocket alike); `warren_json` for Warren's own JSON protocol over WebSocket.
 */
const LABELS: Readonly<Record<string, string>> = {
  'AMQP 0-9-1': 'amqp091',
  'Warren JSON over WebSocket': 'warren_json',
};

/** Every protocol Warren speaks, so a series exists (at 0) before its first client, as in RabbitMQ. */
export const PROTOCOL_NAMES: readonly string[] = Object.keys(LABELS);

export function protocolLabel(protocol: string): string {
  return LABELS[protocol] ?? protocol.toLowerCase().replace(/[^a-z0-9]+/g, '_');
}
