// The two SASL mechanisms Warren offers, parsed as RabbitMQ parses them
// (deps/rabbit/src/rabbit_auth_mechanism_plain.erl, rabbit_auth_mechanism_amqplain.erl): the response
// carries a user name and a password, which are then checked by the injected authenticator.
import { Malformed } from './errors.js';
import { readTable } from './field-table.js';
import { WireReader } from './wire-reader.js';

export const AUTH_MECHANISMS = ['PLAIN', 'AMQPLAIN'] as const;
/** SASL EXTERNAL: the identity is the TLS client certificate's, offered only where there is one. */
export const EXTERNAL = 'EXTERNAL';
export type AuthMechanism = (typeof AUTH_MECHANISMS)[number] | typeof EXTERNAL;

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

export function isAuthMechanism(name: string): name is AuthMechanism {
  return name === EXTERNAL || (AUTH_MECHANISMS as readonly string[]).includes(name);
}

/** The credentials in a start-ok response, or a detail string saying why the response is malformed. */
export function parseCredentials(mechanism: AuthMechanism, response: Uint8Array): Credentials | string {
  // EXTERNAL's response (an authorisation identity) is ignored, as RabbitMQ's rabbit_auth_mechanism_ssl does.
  if (mechanism === EXTERNAL) return { user: '', password: '' };
  return mechanism === 'PLAIN' ? parsePlain(response) : parseAmqplain(response);
}

// RFC 4616 allows an authorisation identity before the first NUL; RabbitMQ requires it to be empty
// (the response must start with NUL) and refuses anything after the password.
function parsePlain(response: Uint8Array): Credentials | string {
  const bytes = Buffer.from(response.buffer, response.byteOffset, response.byteLength);
  const second = bytes.indexOf(0, 1);
  if (bytes[0] !== 0 || second < 0 || bytes.indexOf(0, second + 1) >= 0) {
    return 'PLAIN response is not "\\0user\\0password"';
  }
  return { user: bytes.subarray(1, second).toString('utf8'), password: bytes.subarray(second + 1).toString('utf8') };
}

// AMQPLAIN's response is a field table without its 4-byte length prefix (amqplib's credentials.js sends
// exactly that), holding LOGIN and PASSWORD.
function parseAmqplain(response: Uint8Array): Credentials | string {
  const framed = Buffer.allocUnsafe(response.byteLength + 4);
  framed.writeUInt32BE(response.byteLength, 0);
  framed.set(response, 4);
  try {
    const table = readTable(new WireReader(framed));
    const login = table.get('LOGIN');
    const password = table.get('PASSWORD');
    if (login?.type !== 'longstr' || password?.type !== 'longstr') return 'AMQPLAIN auth info is missing LOGIN or PASSWORD field';
    return { user: Buffer.from(login.value).toString('utf8'), password: Buffer.from(password.value).toString('utf8') };
  } catch (e) {
    if (e instanceof Malformed) return `AMQPLAIN response is not a field table: ${e.detail}`;
    throw e;
  }
}
