import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, defaultConfig, loadConfig, usage } from '../../../src/config.js';
import { createWarrenServer } from '../../../src/http/server.js';
import { TestPki } from './pki.js';
import { handshake, httpsRequest, startTlsWarren, type TlsWarren } from './support.js';

describe('TLS settings', () => {
  it('reads flags and WARREN_TLS_* variables; --tls-verify-peer is a bare flag', () => {
    const fromFlags = loadConfig(
      ['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-ca', 'ca.pem', '--tls-min-version', 'TLSv1.3', '--tls-ciphers', 'ECDHE-RSA-AES128-GCM-SHA256', '--tls-verify-peer', '--amqps-port', '5999'],
      {},
    );
    expect(fromFlags).toMatchObject({ tlsCert: 'c.pem', tlsKey: 'k.pem', tlsCa: 'ca.pem', tlsMinVersion: 'TLSv1.3', tlsCiphers: 'ECDHE-RSA-AES128-GCM-SHA256', tlsVerifyPeer: true, amqpsPort: 5999 });
    const fromEnv = loadConfig([], { WARREN_TLS_CERT: 'c.pem', WARREN_TLS_KEY: 'k.pem', WARREN_TLS_CA: 'ca.pem', WARREN_TLS_VERIFY_PEER: 'true', WARREN_AMQPS_PORT: 'off' });
    expect(fromEnv).toMatchObject({ tlsCert: 'c.pem', tlsKey: 'k.pem', tlsVerifyPeer: true, amqpsPort: 'off', tlsMinVersion: 'TLSv1.2' });
    expect(defaultConfig).toMatchObject({ amqpsPort: 5671, tlsMinVersion: 'TLSv1.2', tlsVerifyPeer: false });
    expect(usage).toMatch(/--tls-cert +WARREN_TLS_CERT +default: \(none\)/);
  });

  it('refuses settings that do not go together, and bad values', () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--tls-cert', 'c.pem'], {}, /--tls-cert and --tls-key go together: --tls-cert is set without the other/],
      [[], { WARREN_TLS_KEY: 'k.pem' }, /--tls-key is set without the other/],
      [['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-verify-peer'], {}, /--tls-verify-peer needs --tls-ca/],
      [['--tls-ca', 'ca.pem', '--tls-min-version', 'TLSv1.3'], {}, /--tls-ca, --tls-min-version need --tls-cert and --tls-key/],
      [['--tls-cert', 'c.pem', '--tls-key', 'k.pem', '--tls-min-version', 'TLSv1.1'], {}, /--tls-min-version: expected TLSv1.2 or TLSv1.3, got 'TLSv1.1'/],
      [[], { WARREN_TLS_VERIFY_PEER: 'yes' }, /WARREN_TLS_VERIFY_PEER: expected true or false, got 'yes'/],
    ];
    for (const [argv, env, message] of cases) {
      expect(() => loadConfig(argv, env)).toThrow(ConfigError);
      expect(() => loadConfig(argv, env)).toThrow(message);
    }
  });

  it('fails start-up naming the file that cannot be read', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-tls-'));
    try {
      const starting = createWarrenServer({ ...defaultConfig, dataDir, port: 0, amqpPort: 0, prometheusPort: 0, logLevel: 'silent', tlsCert: '/nonexistent/cert.pem', tlsKey: '/nonexistent/key.pem' });
      await expect(starting).rejects.toThrow(/^--tls-cert: cannot read '\/nonexistent\/cert\.pem'/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('changes nothing without TLS settings: plain HTTP, no AMQPS listener (its default port stays free)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'warren-tls-'));
    const server = await createWarrenServer({ ...defaultConfig, dataDir, port: 0, amqpPort: 0, prometheusPort: 0, logLevel: 'silent' });
    try {
      const listening = await server.listen();
      expect(listening.url).toMatch(/^http:/);
      expect(listening).not.toHaveProperty('amqpsPort');
    } finally {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('--amqps-port off and --amqp-port off', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = new TestPki();
  });
  afterAll(() => pki?.remove());

  it('serves only what is on', async () => {
    const onlyTls = await startTlsWarren(pki, pki.issue('localhost', { server: true }), { amqpPort: 'off' });
    try {
      expect(onlyTls.amqpPort).toBeUndefined();
      expect(onlyTls.amqpsPort).toEqual(expect.any(Number));
    } finally {
      await onlyTls.stop();
    }
    const noAmqps = await startTlsWarren(pki, pki.issue('localhost', { server: true }), { amqpsPort: 'off' });
    try {
      expect(noAmqps.amqpsPort).toBeUndefined();
      expect((await httpsRequest(`${noAmqps.url}/api/overview`, { ca: pki.ca.cert })).status).toBe(200);
    } finally {
      await noAmqps.stop();
    }
  });
});

describe('--tls-min-version', () => {
  let pki: TestPki;
  let tls12: TlsWarren;
  let tls13: TlsWarren;

  beforeAll(async () => {
    pki = new TestPki();
    const cert = pki.issue('localhost', { server: true });
    tls12 = await startTlsWarren(pki, cert, { tlsCiphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    tls13 = await startTlsWarren(pki, cert, { tlsMinVersion: 'TLSv1.3' });
  });

  afterAll(async () => {
    await tls12?.stop();
    await tls13?.stop();
    pki?.remove();
  });

  it('accepts TLSv1.2 by default, with the configured cipher, and shows the suite as RabbitMQ splits it', async () => {
    expect(await handshake(tls12.amqpsPort ?? 0, { ca: pki.ca.cert, maxVersion: 'TLSv1.2' })).toMatchObject({ protocol: 'TLSv1.2' });
    const connection = await amqp.connect(`amqps://guest:guest@127.0.0.1:${tls12.amqpsPort}`, { ca: [pki.ca.cert], maxVersion: 'TLSv1.2', clientProperties: { connection_name: 'v12' } });
    try {
      const listing = (await httpsRequest(`${tls12.url}/api/connections`, { ca: pki.ca.cert })).body as Array<Record<string, unknown>>;
      // The test certificates have EC keys: ECDHE key exchange signed with ECDSA.
      expect(listing.find((c) => c.user_provided_name === 'v12')).toMatchObject({
        ssl_protocol: 'tlsv1.2',
        ssl_key_exchange: 'ecdhe_ecdsa',
        ssl_cipher: 'aes_128_gcm',
        ssl_hash: 'aead',
      });
      // The cipher list names TLSv1.2 suites only: TLSv1.3 keeps its own.
      expect(await handshake(tls12.amqpsPort ?? 0, { ca: pki.ca.cert })).toMatchObject({ protocol: 'TLSv1.3' });
    } finally {
      await connection.close();
    }
  });

  it('refuses TLSv1.2 on every listener when set to TLSv1.3', async () => {
    await expect(handshake(tls13.amqpsPort ?? 0, { ca: pki.ca.cert, maxVersion: 'TLSv1.2' })).rejects.toThrow(/protocol version/);
    await expect(httpsRequest(`${tls13.url}/api/overview`, { ca: pki.ca.cert, maxVersion: 'TLSv1.2' })).rejects.toThrow(/protocol version/);
    expect(await handshake(tls13.amqpsPort ?? 0, { ca: pki.ca.cert })).toMatchObject({ protocol: 'TLSv1.3' });
  });
});
