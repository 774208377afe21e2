/**
 * Certificates made at test time with the openssl CLI: a CA, server certificates for 127.0.0.1 and
 * localhost, client certificates by CN, an expired one. EC P-256 keys: fast to make.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
  /** Upper-case hex, as X509Certificate.serialNumber prints it. */
  readonly serial: string;
}

export interface IssueOptions {
  /** Default 365; negative: already expired. */
  readonly days?: number;
  /** Server certificates: subjectAltName for 127.0.0.1 and localhost. */
  readonly server?: boolean;
  /** Other than the test CA (for a certificate the server does not trust). */
  readonly signer?: Issued;
  /** Extra subject attributes before the CN, `/O=Warren tests`. */
  readonly subjectPrefix?: string;
}

export class TestPki {
  readonly dir = mkdtempSync(join(tmpdir(), 'warren-pki-'));
  readonly ca: Issued;
  private count = 0;

  constructor() {
    this.ca = this.selfSigned('Warren Test CA');
  }

  /** A certificate with `cn`, signed by the test CA (or `options.signer`). */
  issue(cn: string, options: IssueOptions = {}): Issued {
    const base = join(this.dir, `${++this.count}-${cn.replace(/[^a-z0-9]/gi, '_')}`);
    const signer = options.signer ?? this.ca;
    openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `${options.subjectPrefix ?? '/O=Warren tests'}/CN=${cn}`]);
    const serial = randomSerial();
    const ext = `${base}.ext`;
    writeFileSync(ext, options.server ? 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n');
    openssl(['x509', '-req', '-in', `${base}.csr`, '-CA', signer.certFile, '-CAkey', signer.keyFile, '-set_serial', `0x${serial}`, '-days', String(options.days ?? 365), '-extfile', ext, '-out', `${base}.pem`]);
    return { certFile: `${base}.pem`, keyFile: `${base}.key`, cert: readFileSync(`${base}.pem`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8'), serial };
  }

  /** Another CA, which the server does not trust. */
  otherCa(): Issued {
    return this.selfSigned('Untrusted CA');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private selfSigned(cn: string): Issued {
    const base = join(this.dir, `${++this.count}-ca`);
    const serial = randomSerial();
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.pem`, '-subj', `/CN=${cn}`, '-days', '3650', '-set_serial', `0x${serial}`]);
    return { certFile: `${base}.pem`, keyFile: `${base}.key`, cert: readFileSync(`${base}.pem`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8'), serial };
  }
}

/** 16 hex digits, first one 4–7: positive, no leading zero, printed the same by openssl and Node. */
function randomSerial(): string {
  const bytes = randomBytes(8);
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes.toString('hex').toUpperCase();
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
