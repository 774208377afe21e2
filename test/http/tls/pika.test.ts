// Python's pika, an independent AMQP client, over AMQPS: the password path and EXTERNAL with a client
// certificate. Skipped where /usr/bin/python3 has no pika.
import { execFile, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPki, type Issued } from './pki.js';
import { startTlsWarren, type TlsWarren } from './support.js';

const PYTHON = '/usr/bin/python3';
const hasPika = spawnSync(PYTHON, ['-c', 'import pika'], { stdio: 'ignore' }).status === 0;

const script = `
import ssl, sys, pika
port, ca, cert, key, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
context = ssl.create_default_context(cafile=ca)
context.load_cert_chain(cert, key)
credentials = pika.credentials.ExternalCredentials() if mode == 'external' else pika.PlainCredentials('guest', 'guest')
params = pika.ConnectionParameters(host='localhost', port=int(port), ssl_options=pika.SSLOptions(context, 'localhost'), credentials=credentials)
connection = pika.BlockingConnection(params)
channel = connection.channel()
queue = channel.queue_declare(queue='', exclusive=True).method.queue
channel.basic_publish(exchange='', routing_key=queue, body=b'from pika over TLS')
_, _, body = channel.basic_get(queue, auto_ack=True)
print(body.decode())
connection.close()
`;

describe.skipIf(!hasPika)('pika over AMQPS', () => {
  let pki: TestPki;
  let guest: Issued;
  let warren: TlsWarren;

  beforeAll(async () => {
    pki = new TestPki();
    guest = pki.issue('guest');
    warren = await startTlsWarren(pki, pki.issue('localhost', { server: true }), { tlsVerifyPeer: true });
  });

  afterAll(async () => {
    await warren?.stop();
    pki?.remove();
  });

  // Asynchronously: the broker runs in this same process.
  const run = (mode: 'plain' | 'external'): Promise<string> =>
    new Promise((resolve, reject) => {
      const args = ['-c', script, String(warren.amqpsPort), pki.ca.certFile, guest.certFile, guest.keyFile, mode];
      execFile(PYTHON, args, { timeout: 30_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.trim())));
    });

  it('publishes and gets with a password', async () => {
    expect(await run('plain')).toBe('from pika over TLS');
  });

  it('logs in with EXTERNAL from the client certificate', async () => {
    expect(await run('external')).toBe('from pika over TLS');
  });
});
