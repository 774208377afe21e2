import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeCertificate, sslFields } from '../../../src/http/tls/tls-facts.js';
import { TestPki } from './pki.js';

describe('describeCertificate', () => {
  let pki: TestPki;
  beforeAll(() => {
    pki = new TestPki();
  });
  afterAll(() => pki?.remove());

  it('prints subject and issuer most specific first, escaped once, and unescapes the CN for login', () => {
    const issued = pki.issue('svc, reporting', { subjectPrefix: '/O=Acme\\+Sons/OU=Ops' });
    const described = describeCertificate(new X509Certificate(issued.cert));
    expect(described.subject).toBe('CN=svc\\, reporting,OU=Ops,O=Acme\\+Sons');
    expect(described.issuer).toBe('CN=Warren Test CA');
    expect(described.commonName).toBe('svc, reporting');
    expect(described.validity).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ - \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });
});

describe('sslFields', () => {
  it('splits suites as Erlang names them', () => {
    expect(sslFields({ protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' })).toMatchObject({
      ssl: true,
      ssl_protocol: 'tlsv1.3',
      ssl_key_exchange: 'any',
      ssl_cipher: 'aes_256_gcm',
      ssl_hash: 'aead',
    });
    expect(sslFields({ protocol: 'TLSv1.3', cipher: 'TLS_CHACHA20_POLY1305_SHA256' })).toMatchObject({ ssl_cipher: 'chacha20_poly1305', ssl_hash: 'aead' });
    expect(sslFields({ protocol: 'TLSv1.2', cipher: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384' })).toMatchObject({
      ssl_protocol: 'tlsv1.2',
      ssl_key_exchange: 'ecdhe_rsa',
      ssl_cipher: 'aes_256_cbc',
      ssl_hash: 'sha384',
    });
    expect(sslFields({ protocol: 'TLSv1.2', cipher: 'TLS_RSA_WITH_AES_128_CBC_SHA' })).toMatchObject({ ssl_key_exchange: 'rsa', ssl_cipher: 'aes_128_cbc', ssl_hash: 'sha' });
  });

  it('is ssl: false with nulls on a plain connection', () => {
    expect(sslFields(undefined)).toEqual({
      peer_cert_issuer: null,
      peer_cert_subject: null,
      peer_cert_validity: null,
      ssl: false,
      ssl_cipher: null,
      ssl_hash: null,
      ssl_key_exchange: null,
      ssl_protocol: null,
    });
  });
});
