// What an AMQP connection needs of the bytes under it; src/http/amqp-transports.ts implements it for TCP
// and for WebSocket.
import type { Traffic } from '../../client-connection.js';

/** The bytes under a connection: a TCP socket, or a WebSocket carrying AMQP frames in binary messages. */
export interface AmqpTransport {
  /** Queues bytes; a transport batches what is written in one turn of the event loop. */
  write(frames: readonly Uint8Array[]): void;
  /**
   * Queues `size` bytes the caller fills at once, before anything else is written (a delivery is encoded
   * straight into the transport's send buffer); undefined once the transport is closing.
   */
  reserve(size: number): Buffer | undefined;
  /** Closes once what was written has gone, after `lingerMs`. */
  end(lingerMs: number): void;
  pauseReading(reason: 'memory' | 'handshake'): void;
  resumeReading(reason: 'memory' | 'handshake'): void;
  readonly traffic: Traffic;
}
