import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, TLSSocket, type ConnectionOptions } from 'node:tls';
import { defaultConfig, type WarrenConfig } from '../../../src/config.js';
import { createWarrenServer, type WarrenServer, type WarrenServerOptions } from '../../../src/http/server.js';
import type { Issued, TestPki } from './pki.js';

export interface TlsWarren {
  readonly server: WarrenServer;
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly amqpPort: number | undefined;
  readonly amqpsPort: number | undefined;
  readonly prometheusPort: number | undefined;
  stop(): Promise<void>;
}

/** A Warren with the given server certificate (and the test CA), every listener on a free port. */
export async function startTlsWarren(pki: TestPki, server: Issued, overrides: Partial<WarrenConfig> = {}, options: WarrenServerOptions = {}): Promise<TlsWarren> {
  const dataDir = mkdtempSync(join(tmpdir(), 'warren-tls-'));
  const config: WarrenConfig = {
    ...defaultConfig,
    port: 0,
    amqpPort: 0,
    amqpsPort: 0,
    prometheusPort: 0,
    logLevel: 'silent',
    dataDir,
    tlsCert: server.certFile,
    tlsKey: server.keyFile,
    tlsCa: pki.ca.certFile,
    ...overrides,
  };
  const warren = await createWarrenServer(config, options);
  const { port, url, amqpPort, amqpsPort, prometheusPort } = await warren.listen();
  return {
    server: warren,
    url,
    port,
    amqpPort,
    amqpsPort,
    prometheusPort,
    async stop() {
      await warren.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface HttpsOptions {
  readonly method?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** Default guest:guest. */
  readonly auth?: string;
  readonly minVersion?: ConnectionOptions['minVersion'];
  readonly maxVersion?: ConnectionOptions['maxVersion'];
}

/** One HTTPS request; the body parsed as JSON when it is. */
export function httpsRequest(url: string, options: HttpsOptions = {}): Promise<{ status: number; body: unknown; serial: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        auth: options.auth ?? 'guest:guest',
        minVersion: options.minVersion,
        maxVersion: options.maxVersion,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        const serial = res.socket instanceof TLSSocket ? res.socket.getPeerCertificate().serialNumber : undefined;
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // not JSON: the text as it is
          }
          resolve({ status: res.statusCode ?? 0, body, serial });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A bare TLS handshake: the serial number of the certificate the server presents, or the handshake's error. */
export function handshake(port: number, options: ConnectionOptions): Promise<{ serial: string; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ...options }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      const protocol = socket.getProtocol();
      socket.end();
      resolve({ serial, protocol });
    });
    socket.on('error', reject);
  });
}
