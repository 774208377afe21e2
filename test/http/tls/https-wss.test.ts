import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect } from '../../../src/client/index.js';
import { TestPki, type Issued } from './pki.js';
import { httpsRequest, startTlsWarren, type TlsWarren } from './support.js';

describe('HTTPS and WSS on the HTTP port', () => {
  let pki: TestPki;
  let serverCert: Issued;
  let warren: TlsWarren;

  beforeAll(async () => {
    pki = new TestPki();
    serverCert = pki.issue('localhost', { server: true });
    warren = await startTlsWarren(pki, serverCert);
  });

  afterAll(async () => {
    await warren?.stop();
    pki?.remove();
  });

  it('serves the REST API over HTTPS with the configured certificate', async () => {
    expect(warren.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const overview = await httpsRequest(`${warren.url}/api/overview`, { ca: pki.ca.cert });
    expect(overview.status).toBe(200);
    expect(overview.serial).toBe(serverCert.serial);
    expect(overview.body).toMatchObject({ management_version: expect.any(String) });
  });

  it('refuses a client that does not trust the CA (the handshake fails, nothing is served)', async () => {
    await expect(httpsRequest(`${warren.url}/api/overview`, { ca: pki.otherCa().cert })).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
  });

  it('serves Prometheus metrics over HTTPS too, and names that listener in the expiration check', async () => {
    const scrape = await httpsRequest(`https://127.0.0.1:${String(warren.prometheusPort)}/metrics`, { ca: pki.ca.cert });
    expect(scrape.status).toBe(200);
    expect(scrape.serial).toBe(serverCert.serial);
    expect(String(scrape.body)).toMatch(/^rabbitmq_build_info\{/m);
    const check = await httpsRequest(`${warren.url}/api/health/checks/certificate-expiration/100/years`, { ca: pki.ca.cert });
    expect(check.status).toBe(503);
    expect(JSON.stringify(check.body)).toContain('https/prometheus');
  });

  it('lists every listener with its TLS protocol name in the overview, and the listener checks know them', async () => {
    const overview = await httpsRequest(`${warren.url}/api/overview`, { ca: pki.ca.cert });
    const listeners = (overview.body as { listeners: Array<{ protocol: string; port: number }> }).listeners;
    expect(listeners.map((l) => [l.protocol, l.port])).toEqual([
      ['amqp', warren.amqpPort],
      ['amqp/ssl', warren.amqpsPort],
      ['https', warren.port],
      ['warren-ws/ssl', warren.port],
      ['https/web-amqp', warren.port],
      ['https/prometheus', warren.prometheusPort],
    ]);
    for (const protocol of ['amqp/ssl', 'amqps', 'https']) {
      expect((await httpsRequest(`${warren.url}/api/health/checks/protocol-listener/${encodeURIComponent(protocol)}`, { ca: pki.ca.cert })).status, protocol).toBe(200);
    }
    expect((await httpsRequest(`${warren.url}/api/health/checks/port-listener/${String(warren.amqpsPort)}`, { ca: pki.ca.cert })).status).toBe(200);
  });

  it('keeps plain AMQP as configured and adds AMQPS', () => {
    expect(warren.amqpPort).toEqual(expect.any(Number));
    expect(warren.amqpsPort).toEqual(expect.any(Number));
    expect(warren.amqpsPort).not.toBe(warren.amqpPort);
  });

  it('carries the bundled client over wss:// with a private CA, and lists the connection as ssl', async () => {
    const wsUrl = `wss://127.0.0.1:${warren.port}/ws`;
    const connection = await connect(wsUrl, { username: 'guest', password: 'guest', tls: { ca: pki.ca.cert }, clientProperties: { connection_name: 'wss-client' } });
    try {
      const { queue } = await connection.queueDeclare({ queue: '', exclusive: true });
      await connection.publish({ routingKey: queue, body: 'over TLS' });
      const got = await connection.get({ queue, noAck: true });
      expect(got?.text()).toBe('over TLS');

      const listing = await httpsRequest(`${warren.url}/api/connections`, { ca: pki.ca.cert });
      const entry = (listing.body as Array<Record<string, unknown>>).find((c) => c.user_provided_name === 'wss-client');
      expect(entry).toMatchObject({
        ssl: true,
        ssl_protocol: 'tlsv1.3',
        ssl_cipher: expect.stringMatching(/^(aes_(128|256)_gcm|chacha20_poly1305)$/),
        ssl_key_exchange: 'any',
        ssl_hash: 'aead',
        peer_cert_subject: null,
        peer_cert_issuer: null,
        peer_cert_validity: null,
      });
    } finally {
      await connection.close();
    }
  });

  it("takes the broker's own origin as https:// on a TLS port: the same page over http:// is foreign", async () => {
    const open = (origin: string) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(`wss://127.0.0.1:${warren.port}/ws`, { ca: pki.ca.cert, origin });
        socket.once('open', () => {
          socket.close();
          resolve(101);
        });
        socket.once('unexpected-response', (_request, response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        socket.once('error', reject);
      });
    expect(await open(`https://127.0.0.1:${warren.port}`)).toBe(101);
    expect(await open(`http://127.0.0.1:${warren.port}`)).toBe(403);
  });

  it('fails a wss:// connection without the CA with a clear error', async () => {
    await expect(connect(`wss://127.0.0.1:${warren.port}/ws`, { username: 'guest', password: 'guest', tls: {} })).rejects.toThrow(/cannot connect to wss:.*(self[- ]signed|unable to (get|verify))/i);
  });

  it('answers the certificate-expiration check ok for a certificate valid for a year', async () => {
    const check = await httpsRequest(`${warren.url}/api/health/checks/certificate-expiration/1/months`, { ca: pki.ca.cert });
    expect(check).toMatchObject({ status: 200, body: { status: 'ok' } });
  });
});
