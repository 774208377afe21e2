import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config.js';
import { CertificateSource, type TlsSettings } from '../../../src/http/tls/certificate-source.js';
import { TestPki, type Issued } from './pki.js';
import { handshake } from './support.js';

describe('CertificateSource', () => {
  let pki: TestPki;
  let first: Issued;
  let second: Issued;
  let servers: Server[] = [];

  beforeAll(() => {
    pki = new TestPki();
    first = pki.issue('localhost', { server: true });
    second = pki.issue('localhost', { server: true });
  });

  afterAll(() => pki?.remove());

  afterEach(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
    servers = [];
  });

  /** Copies of `first`'s files that a test may overwrite. */
  function liveFiles(name: string): TlsSettings {
    const certFile = join(pki.dir, `${name}.pem`);
    const keyFile = join(pki.dir, `${name}.key`);
    copyFileSync(first.certFile, certFile);
    copyFileSync(first.keyFile, keyFile);
    return { certFile, keyFile, caFile: pki.ca.certFile, minVersion: 'TLSv1.2', ciphers: undefined, verifyPeer: false };
  }

  async function serve(source: CertificateSource): Promise<number> {
    const server = createServer(source.serverOptions(), (socket) => socket.end());
    server.on('tlsClientError', () => undefined);
    source.attach(server);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  function recordingLog(): { errors: string[]; log: { info(): void; warn(): void; debug(): void; error(obj: object, msg?: string): void } } {
    const errors: string[] = [];
    return { errors, log: { info: () => undefined, warn: () => undefined, debug: () => undefined, error: (_obj, msg) => void errors.push(msg ?? '') } };
  }

  it('refuses to start with a missing file, a foreign key, a file without a certificate, or ciphers that match nothing', async () => {
    const base: TlsSettings = { certFile: first.certFile, keyFile: first.keyFile, caFile: undefined, minVersion: 'TLSv1.2', ciphers: undefined, verifyPeer: false };
    const garbage = join(pki.dir, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const cases: Array<[Partial<TlsSettings>, RegExp]> = [
      [{ certFile: join(pki.dir, 'missing.pem') }, /^--tls-cert: cannot read '.*missing\.pem': ENOENT/],
      [{ keyFile: second.keyFile }, /^--tls-key: '.*' is not the private key of the certificate in '.*'/],
      [{ certFile: garbage }, /^--tls-cert: '.*garbage\.pem' holds no PEM certificate/],
      [{ keyFile: garbage }, /^--tls-key: '.*garbage\.pem' is not a usable PEM private key/],
      [{ caFile: join(pki.dir, 'no-ca.pem') }, /^--tls-ca: cannot read/],
      [{ ciphers: 'NO-SUCH-CIPHER' }, /^--tls-ciphers: .*no cipher match/i],
    ];
    for (const [change, message] of cases) {
      const opening = CertificateSource.open({ ...base, ...change });
      await expect(opening).rejects.toBeInstanceOf(ConfigError);
      await expect(opening).rejects.toThrow(message);
    }
  });

  it('installs a new certificate for new handshakes on reload', async () => {
    const settings = liveFiles('swap');
    const source = await CertificateSource.open(settings);
    const port = await serve(source);
    expect((await handshake(port, { ca: pki.ca.cert })).serial).toBe(first.serial);
    copyFileSync(second.certFile, settings.certFile);
    copyFileSync(second.keyFile, settings.keyFile);
    await expect(source.reload()).resolves.toBe(true);
    expect((await handshake(port, { ca: pki.ca.cert })).serial).toBe(second.serial);
    expect(source.certificates[0]?.serialNumber).toBe(second.serial);
    // Nothing changed: nothing to install.
    await expect(source.reload()).resolves.toBe(false);
  });

  it('keeps the old certificate while the pair is half replaced, and logs why', async () => {
    const settings = liveFiles('half');
    const source = await CertificateSource.open(settings);
    const { errors, log } = recordingLog();
    source.startWatching(log, { debounceMs: 10_000, pollMs: 60_000 });
    try {
      const port = await serve(source);
      copyFileSync(second.certFile, settings.certFile); // the key is still the old one
      await expect(source.reload()).resolves.toBe(false);
      expect(errors).toEqual([expect.stringMatching(/TLS certificate reload failed; still serving the previous certificate: --tls-key: .* is not the private key/)]);
      expect((await handshake(port, { ca: pki.ca.cert })).serial).toBe(first.serial);
      copyFileSync(second.keyFile, settings.keyFile);
      await expect(source.reload()).resolves.toBe(true);
      expect((await handshake(port, { ca: pki.ca.cert })).serial).toBe(second.serial);
    } finally {
      source.stop();
    }
  });

  it('notices changed files by itself', async () => {
    const settings = liveFiles('watched');
    const source = await CertificateSource.open(settings);
    const { log } = recordingLog();
    source.startWatching(log, { debounceMs: 20, pollMs: 100 });
    try {
      const port = await serve(source);
      // Not atomic: the certificate first, then the key, as a copy by hand would do it.
      writeFileSync(settings.certFile, second.cert);
      writeFileSync(settings.keyFile, second.key);
      await expect.poll(async () => (await handshake(port, { ca: pki.ca.cert })).serial, { timeout: 10_000, interval: 50 }).toBe(second.serial);
      expect(source.reloads).toBeGreaterThanOrEqual(1);
    } finally {
      source.stop();
    }
  });
});
