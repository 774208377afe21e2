/**
 * Opens an @cloudamqp/amqp-client connection to the target over TCP or WebSocket. The WebSocket client
 * uses the global `WebSocket`, which Node 20 lacks: as the library's README says for Node, the `ws`
 * package stands in for it. It asks for no subprotocol (as in browsers); `withSubprotocol` makes it ask
 * for `amqp`, as LavinMQ's own clients do.
 */
import { AMQPClient, type AMQPBaseClient } from '@cloudamqp/amqp-client';
import { AMQPWebSocketClient } from '@cloudamqp/amqp-client/amqp-websocket-client';
import WebSocket from 'ws';
import type { AmqpTarget } from './target.js';

export type AmqpClientTransport = 'tcp' | 'ws';

class AmqpSubprotocolWebSocket extends WebSocket {
  constructor(url: string | URL) {
    super(url, 'amqp');
  }
}

export async function connectAmqpClient(target: AmqpTarget, transport: AmqpClientTransport, withSubprotocol = false): Promise<AMQPBaseClient> {
  if (transport === 'tcp') return new AMQPClient(target.url).connect();
  if (target.wsUrl === undefined) throw new Error(`${target.name} has no AMQP-over-WebSocket endpoint`);
  Object.assign(globalThis, { WebSocket: withSubprotocol ? AmqpSubprotocolWebSocket : WebSocket });
  const client = new AMQPWebSocketClient({ url: target.wsUrl, vhost: '/', username: 'guest', password: 'guest' });
  // A refused upgrade rejects with the socket's bare error or close event; name what happened instead.
  return client.connect().catch((e: unknown) => {
    throw e instanceof Error ? e : new Error(`WebSocket to ${target.wsUrl} failed: ${describeEvent(e)}`);
  });
}

function describeEvent(e: unknown): string {
  if (typeof e !== 'object' || e === null) return String(e);
  const fields = ['type', 'code', 'reason', 'message'].flatMap((k) => (k in e ? [`${k}=${String(Reflect.get(e, k))}`] : []));
  return fields.join(' ') || Object.prototype.toString.call(e);
}
