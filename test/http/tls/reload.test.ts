import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type WarrenConnection } from '../../../src/client/index.js';
import { TestPki, type Issued } from './pki.js';
import { handshake, httpsRequest, startTlsWarren, type TlsWarren } from './support.js';

describe('certificate reload without restart', () => {
  let pki: TestPki;
  let first: Issued;
  let second: Issued;
  let certFile: string;
  let keyFile: string;
  let warren: TlsWarren;

  beforeAll(async () => {
    pki = new TestPki();
    first = pki.issue('localhost', { server: true });
    second = pki.issue('localhost', { server: true, days: 3 });
    certFile = join(pki.dir, 'live.pem');
    keyFile = join(pki.dir, 'live.key');
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    warren = await startTlsWarren(pki, { ...first, certFile, keyFile }, {}, { tlsWatch: { debounceMs: 20, pollMs: 100 } });
  });

  afterAll(async () => {
    await warren?.stop();
    pki?.remove();
  });

  it('serves the new certificate to new handshakes on every TLS listener; open connections keep working', async () => {
    const amqps = await amqp.connect(`amqps://guest:guest@127.0.0.1:${warren.amqpsPort}`, { ca: [pki.ca.cert] });
    let wss: WarrenConnection | undefined;
    try {
      wss = await connect(`wss://127.0.0.1:${warren.port}/ws`, { username: 'guest', password: 'guest', tls: { ca: pki.ca.cert } });
      expect((await handshake(warren.amqpsPort ?? 0, { ca: pki.ca.cert })).serial).toBe(first.serial);

      writeFileSync(certFile, second.cert);
      writeFileSync(keyFile, second.key);
      await expect.poll(async () => (await handshake(warren.amqpsPort ?? 0, { ca: pki.ca.cert })).serial, { timeout: 10_000, interval: 50 }).toBe(second.serial);
      expect((await httpsRequest(`${warren.url}/api/overview`, { ca: pki.ca.cert })).serial).toBe(second.serial);

      // The connections opened under the old certificate carry on.
      const channel = await amqps.createChannel();
      const { queue } = await channel.assertQueue('', { exclusive: true });
      channel.sendToQueue(queue, Buffer.from('after reload'));
      await expect.poll(async () => (await channel.get(queue, { noAck: true })) || undefined).toMatchObject({ content: Buffer.from('after reload') });
      const declared = await wss.queueDeclare({ queue: '', exclusive: true });
      expect(declared.queue).toMatch(/^amq\.gen-/);

      // And the health check reports the new certificate's expiry (3 days).
      const check = await httpsRequest(`${warren.url}/api/health/checks/certificate-expiration/1/weeks`, { ca: pki.ca.cert });
      expect(check.status).toBe(503);
    } finally {
      await wss?.close();
      await amqps.close();
    }
  });
});
