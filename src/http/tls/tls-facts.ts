/**
 * A connection's TLS session as the rest of Warren sees it: read once from the socket when the connection
 * is accepted (`Peer.tls`), shown by the management API in RabbitMQ's `ssl_*` and `peer_cert_*` fields,
 * and used by SASL EXTERNAL (the verified certificate's CN).
 */
import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { TlsFacts } from '../../protocol/client-connection.js';

/** `{ tls }` for a TLS socket, `{}` for a plain one: spread into a connection's `Peer`. */
export function tlsFactsOf(socket: Socket): { tls?: TlsFacts } {
  if (!(socket instanceof TLSSocket)) return {};
  const cipher = socket.getCipher();
  // A certificate the handshake did not verify against the CA identifies no one; only verified ones count.
  const certificate = socket.authorized ? socket.getPeerX509Certificate() : undefined;
  return {
    tls: {
      protocol: socket.getProtocol() ?? 'unknown',
      cipher: cipher.standardName || cipher.name,
      ...(certificate ? { peerCertificate: describeCertificate(certificate) } : {}),
    },
  };
}

export function describeCertificate(certificate: X509Certificate): NonNullable<TlsFacts['peerCertificate']> {
  const subject = attributes(certificate.subject);
  const commonNames = subject.filter(([type]) => type === 'CN').map(([, value]) => unescape(value));
  return {
    subject: distinguishedName(subject),
    issuer: distinguishedName(attributes(certificate.issuer)),
    validity: `${isoTime(certificate.validFrom)} - ${isoTime(certificate.validTo)}`,
    commonName: commonNames.length > 0 ? commonNames.join(',') : undefined,
  };
}

/**
 * Node prints a name one attribute a line, in certificate order (least specific first), each value
 * already escaped as RFC 2253 asks (`O=Acme\, Inc.`; control characters as `\XX`).
 */
function attributes(name: string): Array<[string, string]> {
  return name
    .split('\n')
    .filter((line) => line.includes('='))
    .map((line) => {
      const at = line.indexOf('=');
      return [line.slice(0, at), line.slice(at + 1)];
    });
}

/** RFC 4514: most specific first, comma separated (rabbit_cert_info:format_rdn_sequence). */
function distinguishedName(items: ReadonlyArray<[string, string]>): string {
  return [...items]
    .reverse()
    .map(([type, value]) => `${type}=${value}`)
    .join(',');
}

/** The value itself, for a user name: `Acme\, Inc.` → `Acme, Inc.`. */
function unescape(value: string): string {
  return value.replace(/\\([0-9A-Fa-f]{2}|.)/g, (_, escaped: string) => (escaped.length === 2 ? String.fromCharCode(parseInt(escaped, 16)) : escaped));
}

/** `Nov 30 22:30:00 2026 GMT` → `2026-11-30T22:30:00Z`, as RabbitMQ prints certificate times. */
export function isoTime(opensslTime: string): string {
  const date = new Date(opensslTime);
  return Number.isNaN(date.getTime()) ? opensslTime : date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * RabbitMQ's connection fields for the TLS session. RabbitMQ splits the suite as Erlang's ssl does:
 * key exchange (`any` under TLSv1.3, which negotiates it apart from the suite), bulk cipher, and MAC
 * (`aead` for GCM, CCM and ChaCha20-Poly1305).
 */
export function sslFields(tls: TlsFacts | undefined): Record<string, unknown> {
  if (!tls) {
    return { peer_cert_issuer: null, peer_cert_subject: null, peer_cert_validity: null, ssl: false, ssl_cipher: null, ssl_hash: null, ssl_key_exchange: null, ssl_protocol: null };
  }
  const suite = /^TLS_(?:(.+)_WITH_)?(.+)_(SHA\d*|MD5)$/.exec(tls.cipher);
  const cipher = suite?.[2]?.toLowerCase();
  const aead = cipher !== undefined && /gcm|ccm|chacha20_poly1305/.test(cipher);
  const certificate = tls.peerCertificate;
  return {
    peer_cert_issuer: certificate?.issuer ?? null,
    peer_cert_subject: certificate?.subject ?? null,
    peer_cert_validity: certificate?.validity ?? null,
    ssl: true,
    ssl_cipher: cipher ?? tls.cipher,
    ssl_hash: suite ? (aead ? 'aead' : suite[3]?.toLowerCase()) : null,
    ssl_key_exchange: suite ? (suite[1]?.toLowerCase() ?? 'any') : null,
    ssl_protocol: tls.protocol.toLowerCase(),
  };
}
