// SASL EXTERNAL for AMQP 0-9-1 over TLS, as RabbitMQ's rabbitmq_auth_mechanism_ssl with its default
// `ssl_cert_login_from = common_name`: the user is the verified client certificate's CN, and must exist;
// there is no password to check, the handshake already proved the client holds the certificate's key.
import type { AuthenticatedUser, AuthResult } from '../../../auth/authenticator.js';
import type { Peer } from '../../client-connection.js';
import { AUTH_MECHANISMS, EXTERNAL, type AuthMechanism } from '../connection-auth.js';
import type { AuthOutcome } from '../connection-types.js';

/** Admits an existing user without credentials, loopback rule included (the user store's `admitProven`); undefined when there is no such user. */
export type UserLookup = (name: string, peerAddress: string, foreignOrigin: string | undefined) => AuthResult | undefined;

/**
 * PLAIN and AMQPLAIN everywhere; EXTERNAL too on a TLS connection whose client certificate was verified.
 * (RabbitMQ offers it on every TLS connection and refuses at login when there is no certificate; offering
 * it only where it can succeed lets a client that prefers EXTERNAL fall back to a password.)
 */
export function offeredMechanisms(peer: Peer): readonly AuthMechanism[] {
  return peer.tls?.peerCertificate ? [...AUTH_MECHANISMS, EXTERNAL] : AUTH_MECHANISMS;
}

export function externalLogin(peer: Peer, findUser: UserLookup | undefined): AuthOutcome<AuthenticatedUser> {
  const certificate = peer.tls?.peerCertificate;
  if (!certificate) return { ok: false, detail: 'connection peer presented no verified TLS (x.509) certificate' };
  if (certificate.commonName === undefined) return { ok: false, detail: `no CN in the certificate subject '${certificate.subject}'` };
  const admitted = findUser?.(certificate.commonName, peer.address, peer.foreignOrigin);
  if (!admitted) return { ok: false, detail: `certificate CN '${certificate.commonName}': no such user` };
  return admitted.ok ? { ok: true, user: admitted.user } : { ok: false, detail: admitted.error.message };
}
