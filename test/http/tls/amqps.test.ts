import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect } from '../../../src/client/index.js';
import { TestPki, type Issued } from './pki.js';
import { httpsRequest, startTlsWarren, type TlsWarren } from './support.js';

describe('AMQPS without client certificates', () => {
  let pki: TestPki;
  let warren: TlsWarren;

  beforeAll(async () => {
    pki = new TestPki();
    warren = await startTlsWarren(pki, pki.issue('localhost', { server: true }));
  });

  afterAll(async () => {
    await warren?.stop();
    pki?.remove();
  });

  it('carries amqplib over amqps:// with a private CA, next to plain amqp://', async () => {
    const secure = await amqp.connect(`amqps://guest:guest@127.0.0.1:${warren.amqpsPort}`, { ca: [pki.ca.cert], servername: 'localhost' });
    const plain = await amqp.connect(`amqp://guest:guest@127.0.0.1:${warren.amqpPort}`);
    try {
      const channel = await secure.createChannel();
      const { queue } = await channel.assertQueue('amqps-to-amqp', { durable: false });
      channel.sendToQueue(queue, Buffer.from('encrypted'));
      const plainChannel = await plain.createChannel();
      const got = await waitFor(() => plainChannel.get(queue, { noAck: true }));
      expect(got.content.toString()).toBe('encrypted');
      await plainChannel.deleteQueue(queue);
    } finally {
      await secure.close();
      await plain.close();
    }
  });

  it('does not offer EXTERNAL without a client certificate', async () => {
    await expect(
      amqp.connect(`amqps://127.0.0.1:${warren.amqpsPort}`, { ca: [pki.ca.cert], credentials: amqp.credentials.external() }),
    ).rejects.toThrow(/SASL mechanism EXTERNAL is not provided by the server/);
  });

  it('lists the AMQPS connection with its TLS session and the plain one without', async () => {
    const secure = await amqp.connect(`amqps://guest:guest@127.0.0.1:${warren.amqpsPort}`, { ca: [pki.ca.cert], clientProperties: { connection_name: 'secure' } });
    const plain = await amqp.connect(`amqp://guest:guest@127.0.0.1:${warren.amqpPort}`, { clientProperties: { connection_name: 'plain' } });
    try {
      const listing = (await httpsRequest(`${warren.url}/api/connections`, { ca: pki.ca.cert })).body as Array<Record<string, unknown>>;
      const byName = new Map(listing.map((c) => [c.user_provided_name, c]));
      expect(byName.get('secure')).toMatchObject({ ssl: true, ssl_protocol: 'tlsv1.3', port: warren.amqpsPort, peer_cert_subject: null, auth_mechanism: 'PLAIN' });
      expect(byName.get('plain')).toMatchObject({ ssl: false, ssl_protocol: null, ssl_cipher: null, port: warren.amqpPort });
    } finally {
      await secure.close();
      await plain.close();
    }
  });
});

describe('AMQPS with --tls-verify-peer', () => {
  let pki: TestPki;
  let warren: TlsWarren;
  let guestCert: Issued;
  let strangerCert: Issued;

  beforeAll(async () => {
    pki = new TestPki();
    warren = await startTlsWarren(pki, pki.issue('localhost', { server: true }), { tlsVerifyPeer: true });
    guestCert = pki.issue('guest');
    strangerCert = pki.issue('nobody-here');
  });

  afterAll(async () => {
    await warren?.stop();
    pki?.remove();
  });

  const tlsOptions = (client: Issued): Record<string, unknown> => ({ ca: [pki.ca.cert], cert: client.cert, key: client.key });

  it('logs in with EXTERNAL as the certificate CN, and shows the certificate in the listing', async () => {
    const connection = await amqp.connect(`amqps://127.0.0.1:${warren.amqpsPort}`, {
      ...tlsOptions(guestCert),
      credentials: amqp.credentials.external(),
      clientProperties: { connection_name: 'external' },
    });
    try {
      const channel = await connection.createChannel();
      await channel.assertQueue('external-q', { exclusive: true });
      const listing = (await httpsRequest(`${warren.url}/api/connections`, { ca: pki.ca.cert, ...clientPem(guestCert) })).body as Array<Record<string, unknown>>;
      const entry = listing.find((c) => c.user_provided_name === 'external');
      expect(entry).toMatchObject({
        user: 'guest',
        auth_mechanism: 'EXTERNAL',
        ssl: true,
        peer_cert_subject: 'CN=guest,O=Warren tests',
        peer_cert_issuer: 'CN=Warren Test CA',
        peer_cert_validity: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ - \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      });
    } finally {
      await connection.close();
    }
  });

  it('still takes a password over a verified connection', async () => {
    const connection = await amqp.connect(`amqps://guest:guest@127.0.0.1:${warren.amqpsPort}`, tlsOptions(strangerCert));
    await connection.close();
  });

  it('refuses EXTERNAL with 403 ACCESS_REFUSED when no user has the certificate CN', async () => {
    await expect(
      amqp.connect(`amqps://127.0.0.1:${warren.amqpsPort}`, { ...tlsOptions(strangerCert), credentials: amqp.credentials.external() }),
    ).rejects.toThrow(/ACCESS_REFUSED - Login was refused using authentication mechanism EXTERNAL/);
  });

  it('refuses a client without a certificate in the handshake', async () => {
    await expect(amqp.connect(`amqps://guest:guest@127.0.0.1:${warren.amqpsPort}`, { ca: [pki.ca.cert] })).rejects.toThrow(/alert certificate required/);
  });

  it('refuses a client certificate from another CA', async () => {
    const other = pki.otherCa();
    const foreign = pki.issue('guest', { signer: other });
    await expect(amqp.connect(`amqps://127.0.0.1:${warren.amqpsPort}`, { ...tlsOptions(foreign), credentials: amqp.credentials.external() })).rejects.toThrow(
      // TLSv1.3 verifies the client after the client's Finished: the server's alert may come as a close.
      /alert unknown ca|closed abruptly during opening handshake/,
    );
  });

  it('refuses an HTTPS request without a client certificate too', async () => {
    await expect(httpsRequest(`${warren.url}/api/overview`, { ca: pki.ca.cert })).rejects.toThrow(/alert certificate required/);
    const ok = await httpsRequest(`${warren.url}/api/overview`, { ca: pki.ca.cert, ...clientPem(guestCert) });
    expect(ok.status).toBe(200);
  });
});

describe('client certificates on the HTTP port (--tls-verify-peer)', () => {
  let pki: TestPki;
  let warren: TlsWarren;
  let guestCert: Issued;

  beforeAll(async () => {
    pki = new TestPki();
    warren = await startTlsWarren(pki, pki.issue('localhost', { server: true }), { tlsVerifyPeer: true });
    guestCert = pki.issue('guest', { subjectPrefix: '/O=Acme, Inc./OU=Ops' });
  });

  afterAll(async () => {
    await warren?.stop();
    pki?.remove();
  });

  it('shows the JSON client certificate of a WSS session in the listing (RFC 4514, specials escaped)', async () => {
    const connection = await connect(`wss://127.0.0.1:${warren.port}/ws`, {
      username: 'guest',
      password: 'guest',
      tls: { ca: pki.ca.cert, ...clientPem(guestCert) },
      clientProperties: { connection_name: 'json-with-cert' },
    });
    try {
      const listing = (await httpsRequest(`${warren.url}/api/connections`, { ca: pki.ca.cert, ...clientPem(guestCert) })).body as Array<Record<string, unknown>>;
      expect(listing.find((c) => c.user_provided_name === 'json-with-cert')).toMatchObject({
        protocol: 'Warren JSON over WebSocket',
        ssl: true,
        peer_cert_subject: 'CN=guest,OU=Ops,O=Acme\\, Inc.',
        peer_cert_issuer: 'CN=Warren Test CA',
      });
    } finally {
      await connection.close();
    }
  });

  it('offers EXTERNAL to AMQP over WSS (/amqp) with a verified certificate', async () => {
    const socket = new WebSocket(`wss://127.0.0.1:${warren.port}/amqp`, 'amqp', { ca: pki.ca.cert, ...clientPem(guestCert) });
    try {
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const start = new Promise<Buffer>((resolve) => socket.once('message', (data: Buffer) => resolve(data)));
      socket.send(Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
      // connection.start's mechanisms long string, as the server wrote it.
      expect((await start).toString('latin1')).toContain('PLAIN AMQPLAIN EXTERNAL');
    } finally {
      socket.terminate();
    }
  });
});

function clientPem(client: Issued): { cert: string; key: string } {
  return { cert: client.cert, key: client.key };
}

async function waitFor<T>(read: () => Promise<T | false>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('timed out');
}
