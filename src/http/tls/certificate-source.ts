/**
 * The server's certificate, key and CA, read from their PEM files into the options every TLS listener
 * (HTTPS/WSS, AMQPS) is created with, and reloaded when the files change: each attached server gets
 * `setSecureContext`, so connections already open keep their session and new handshakes get the new
 * certificate. Files are often replaced one at a time (a new certificate, then its key), so a reload
 * swaps only when the whole set reads and the key matches the certificate; otherwise it logs and the
 * old context stays.
 */
import { createPrivateKey, createHash, X509Certificate } from 'node:crypto';
import { unwatchFile, watch, watchFile, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions, type Server as TlsServer, type TlsOptions } from 'node:tls';
import { ConfigError, type TlsVersion, type WarrenConfig } from '../../config.js';
import type { Logger } from '../../protocol/session-context.js';

export interface TlsSettings {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string | undefined;
  readonly minVersion: TlsVersion;
  readonly ciphers: string | undefined;
  readonly verifyPeer: boolean;
}

/** The TLS settings of a configuration, or undefined when TLS is not configured. */
export function tlsSettingsOf(config: WarrenConfig): TlsSettings | undefined {
  if (config.tlsCert === undefined || config.tlsKey === undefined) return undefined;
  return {
    certFile: config.tlsCert,
    keyFile: config.tlsKey,
    caFile: config.tlsCa,
    minVersion: config.tlsMinVersion,
    ciphers: config.tlsCiphers,
    verifyPeer: config.tlsVerifyPeer,
  };
}

/** One consistent read of the files. */
interface Loaded {
  readonly context: SecureContextOptions;
  /** The certificate file's certificates, leaf first. */
  readonly certificates: readonly X509Certificate[];
  readonly caCertificates: readonly X509Certificate[];
  /** Of the files' bytes: a change event that left them as they were reloads nothing. */
  readonly digest: string;
}

export interface WatchOptions {
  /** Quiet time after the last change before reading the files. */
  readonly debounceMs?: number;
  /** Polling, for file systems where change events do not arrive (NFS, some container mounts). */
  readonly pollMs?: number;
}

export class CertificateSource {
  private readonly servers = new Set<TlsServer>();
  private readonly watchers: FSWatcher[] = [];
  private readonly polled: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<boolean> | undefined;
  private again = false;
  private log: Logger | undefined;
  /** Successful reloads since start: tests and operators can tell a reload happened. */
  reloads = 0;

  private constructor(
    readonly settings: TlsSettings,
    private loaded: Loaded,
  ) {}

  /** Reads the files; a missing, unreadable or inconsistent one is a ConfigError naming it. */
  static async open(settings: TlsSettings): Promise<CertificateSource> {
    return new CertificateSource(settings, await load(settings));
  }

  /** Options for `https.createServer` / `tls.createServer`. */
  serverOptions(): TlsOptions {
    const verify = this.settings.verifyPeer;
    return { ...this.loaded.context, requestCert: verify, rejectUnauthorized: verify };
  }

  /** The server gets every reloaded context from now on, until it closes. */
  attach(server: TlsServer): void {
    this.servers.add(server);
    server.once('close', () => this.servers.delete(server));
  }

  /** The certificates served now, leaf first, and the CA file's. */
  get certificates(): readonly X509Certificate[] {
    return this.loaded.certificates;
  }

  get caCertificates(): readonly X509Certificate[] {
    return this.loaded.caCertificates;
  }

  /** Watches the files' directories (a replaced file or a swapped symlink shows up there) and polls them. */
  startWatching(log: Logger, options: WatchOptions = {}): void {
    this.log = log;
    const debounceMs = options.debounceMs ?? 250;
    const changed = (): void => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), debounceMs);
      this.timer.unref();
    };
    const files = [this.settings.certFile, this.settings.keyFile, ...(this.settings.caFile ? [this.settings.caFile] : [])];
    for (const dir of new Set(files.map((file) => dirname(file)))) {
      const names = new Set(files.filter((file) => dirname(file) === dir).map((file) => basename(file)));
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          // Kubernetes secret volumes swap a `..data` symlink; anything but an unrelated named file counts.
          if (name === null || names.has(name) || name.startsWith('..')) changed();
        });
        watcher.on('error', (error) => log.warn({ err: error, dir }, 'TLS certificate watch failed; polling only'));
        this.watchers.push(watcher);
      } catch (error) {
        log.warn({ err: error, dir }, 'cannot watch the TLS certificate directory; polling only');
      }
    }
    for (const file of files) {
      watchFile(file, { persistent: false, interval: options.pollMs ?? 5000 }, (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.ino !== before.ino || now.size !== before.size) changed();
      });
      this.polled.push(file);
    }
  }

  /** Reads the files again; true when a new context was installed. Concurrent calls run one after another. */
  reload(): Promise<boolean> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = this.readAndSwap().finally(() => {
      this.reloading = undefined;
      if (this.again) {
        this.again = false;
        void this.reload();
      }
    });
    return this.reloading;
  }

  stop(): void {
    clearTimeout(this.timer);
    for (const watcher of this.watchers.splice(0)) watcher.close();
    for (const file of this.polled.splice(0)) unwatchFile(file);
  }

  private async readAndSwap(): Promise<boolean> {
    let next: Loaded;
    try {
      next = await load(this.settings);
    } catch (error) {
      this.log?.error({ err: error }, `TLS certificate reload failed; still serving the previous certificate: ${(error as Error).message}`);
      return false;
    }
    if (next.digest === this.loaded.digest) return false;
    for (const server of this.servers) server.setSecureContext(next.context);
    this.loaded = next;
    this.reloads += 1;
    const leaf = next.certificates[0];
    this.log?.info({ subject: leaf?.subject, serial: leaf?.serialNumber, validTo: leaf?.validTo }, 'TLS certificate reloaded');
    return true;
  }
}

async function load(settings: TlsSettings): Promise<Loaded> {
  // One after the other, so that with several files unreadable the error always names the first flag,
  // not whichever read happened to fail first (three small files: nothing to gain from reading at once).
  const cert = await read('--tls-cert', settings.certFile);
  const key = await read('--tls-key', settings.keyFile);
  const ca = settings.caFile === undefined ? undefined : await read('--tls-ca', settings.caFile);
  const certificates = parseCertificates('--tls-cert', settings.certFile, cert);
  const caCertificates = ca === undefined || settings.caFile === undefined ? [] : parseCertificates('--tls-ca', settings.caFile, ca);
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new ConfigError(`--tls-key: '${settings.keyFile}' is not a usable PEM private key (encrypted keys are not supported): ${(error as Error).message}`);
  }
  const leaf = certificates[0];
  if (leaf && !leaf.checkPrivateKey(privateKey)) {
    throw new ConfigError(`--tls-key: '${settings.keyFile}' is not the private key of the certificate in '${settings.certFile}'`);
  }
  const context: SecureContextOptions = {
    cert,
    key,
    ...(ca !== undefined ? { ca } : {}),
    minVersion: settings.minVersion,
    ...(settings.ciphers !== undefined ? { ciphers: settings.ciphers } : {}),
  };
  try {
    // What setSecureContext would do: any remaining problem (a cipher list that matches nothing) shows here.
    createSecureContext(context);
  } catch (error) {
    const flag = settings.ciphers !== undefined && /cipher/i.test((error as Error).message) ? '--tls-ciphers' : '--tls-cert';
    throw new ConfigError(`${flag}: ${(error as Error).message}`);
  }
  const digest = createHash('sha256').update(cert).update('\0').update(key).update('\0').update(ca ?? '').digest('hex');
  return { context, certificates, caCertificates, digest };
}

async function read(flag: string, file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new ConfigError(`${flag}: cannot read '${file}': ${(error as Error).message}`);
  }
}

function parseCertificates(flag: string, file: string, pem: Buffer): X509Certificate[] {
  const blocks = pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new ConfigError(`${flag}: '${file}' holds no PEM certificate`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new ConfigError(`${flag}: '${file}' holds an unreadable certificate: ${(error as Error).message}`);
    }
  });
}
