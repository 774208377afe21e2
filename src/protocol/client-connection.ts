import type { AuthenticatedUser } from '../auth/authenticator.js';
import type { Channel } from '../broker/channel.js';
import type { ErrorName } from '../broker/errors.js';
import type { VHost } from '../broker/vhost.js';

/** A resource alarm that holds publishers. */
/** `replication`: a cluster leader with fewer in-sync replicas than min-insync (docs/cluster.md). */
export type Alarm = 'memory' | 'disk' | 'replication';

export interface Peer {
  readonly address: string;
  readonly port: number;
  /** The TLS session the connection runs over; absent on a plain connection. */
  readonly tls?: TlsFacts;
  /** The page's `Origin` when a browser connected from another origin than the broker's own. */
  readonly foreignOrigin?: string | undefined;
}

/**
 * Bytes through a connection's socket, what RabbitMQ's `recv_oct`/`send_oct` count: protocol frames, and
 * the WebSocket framing and HTTP upgrade where the socket carries them (TLS: the decrypted bytes).
 */
export interface Traffic {
  readonly bytesReceived: number;
  readonly bytesSent: number;
}

/** A socket's own counters as `Traffic`. */
export function socketTraffic(socket: { readonly bytesRead: number; readonly bytesWritten: number }): Traffic {
  return {
    get bytesReceived() {
      return socket.bytesRead;
    },
    get bytesSent() {
      return socket.bytesWritten;
    },
  };
}

/** What the management API shows of a connection's TLS session, and what EXTERNAL logs in with. */
export interface TlsFacts {
  /** `TLSv1.3`, as OpenSSL names it. */
  readonly protocol: string;
  /** The cipher suite's standard (IANA) name, `TLS_AES_256_GCM_SHA384`. */
  readonly cipher: string;
  /** The client's certificate; only one verified against the CA is recorded. */
  readonly peerCertificate?: {
    /** RFC 4514 distinguished names, most specific first, as RabbitMQ prints them. */
    readonly subject: string;
    readonly issuer: string;
    /** `<notBefore> - <notAfter>`, ISO 8601 UTC. */
    readonly validity: string;
    /** The subject's CN (several joined with `,`); what SASL EXTERNAL logs in as. */
    readonly commonName: string | undefined;
  };
}

/** The client's own name for its connection (`connection_name` in its client properties), if it gave one. */
export function providedName(clientProperties: Readonly<Record<string, unknown>>): string | null {
  const name = clientProperties.connection_name;
  return typeof name === 'string' ? name : null;
}

/** What the management API shows of one channel of a connection, besides the broker-side channel's own state. */
export interface ChannelView {
  /** 1 for the JSON protocol's one channel; the AMQP channel number otherwise. */
  readonly number: number;
  readonly channel: Channel;
  /** In confirm mode (`confirm.select`, or a JSON client that asked for a confirm). */
  readonly confirm: boolean;
  /** In a transaction (`tx.select`). */
  readonly transactional: boolean;
  /** Publishes awaiting their confirm. */
  readonly unconfirmed: number;
  /** Messages and acks held by an open transaction. */
  readonly uncommittedMessages: number;
  readonly uncommittedAcks: number;
}

/**
 * A client connection of any protocol, as the registry, the management API, limits and alarms see it.
 * The JSON WebSocket session and the AMQP 0-9-1 connection implement it.
 */
export interface ClientConnection {
  readonly id: string;
  /** `Warren JSON over WebSocket`, `AMQP 0-9-1`. */
  readonly protocol: string;
  readonly connectedAt: number;
  readonly peer: Peer;
  /** The transport under the protocol: `tcp`, or `websocket` (AMQP over WebSocket, and the JSON protocol). */
  readonly transport: 'tcp' | 'websocket';
  /** Port on the broker the client connected to. */
  readonly localPort: number;
  readonly isOpen: boolean;
  /** Set once the connection is open. */
  readonly user: AuthenticatedUser | undefined;
  readonly vhost: VHost | undefined;
  readonly clientProperties: Readonly<Record<string, unknown>>;
  readonly authMechanism: string;
  /** Negotiated heartbeat, seconds; 0 = none. */
  readonly heartbeat: number;
  readonly frameMax: number;
  readonly channelMax: number;
  readonly traffic: Traffic;
  /** Open channels, by number. */
  channels(): ChannelView[];
  /**
   * An alarm was raised: publishers stop being read (AMQP also sends `connection.blocked`). The JSON
   * protocol is blocked by the memory alarm only; under a disk alarm it refuses persistent publishes.
   */
  block(alarm: Alarm): void;
  /** That alarm cleared; reading resumes once no alarm holds the connection. */
  unblock(alarm: Alarm): void;
  /** Closes the connection, telling the client why. */
  close(reason: ErrorName, message: string): void;
}
