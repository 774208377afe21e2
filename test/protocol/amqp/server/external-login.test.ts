import { describe, expect, it } from 'vitest';
import { UserStore } from '../../../../src/auth/user-store.js';
import type { Peer } from '../../../../src/protocol/client-connection.js';
import { externalLogin, offeredMechanisms } from '../../../../src/protocol/amqp/server/external-login.js';

const withCertificate = (address: string, commonName: string | undefined): Peer => ({
  address,
  port: 40000,
  tls: {
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    peerCertificate: { subject: `CN=${commonName ?? ''}`, issuer: 'CN=Test CA', validity: '2026-01-01T00:00:00Z - 2027-01-01T00:00:00Z', commonName },
  },
});

describe('SASL EXTERNAL login', () => {
  it('logs in as the verified certificate CN, and keeps the loopback rule for guest', async () => {
    const users = new UserStore();
    await users.putUser('guest', { password: 'guest', tags: ['administrator'] });
    await users.putUser('alice', { password: 'pw', tags: ['management'] });
    const admit = (name: string, address: string, origin: string | undefined) => users.admitProven(name, address, origin);

    expect(externalLogin(withCertificate('10.0.0.5', 'alice'), admit)).toEqual({ ok: true, user: { name: 'alice', tags: ['management'] } });
    expect(externalLogin(withCertificate('127.0.0.1', 'guest'), admit)).toMatchObject({ ok: true, user: { name: 'guest' } });
    // A certificate proves who the client is, not where it is: guest stays loopback-only.
    expect(externalLogin(withCertificate('10.0.0.5', 'guest'), admit)).toEqual({ ok: false, detail: "user 'guest' can only connect via localhost" });
    // Nor from a page of a foreign origin over AMQP-over-WebSocket, on this very machine.
    expect(externalLogin({ ...withCertificate('127.0.0.1', 'guest'), foreignOrigin: 'https://evil.test' }, admit)).toMatchObject({ ok: false });
    expect(externalLogin(withCertificate('127.0.0.1', 'mallory'), admit)).toMatchObject({ ok: false, detail: expect.stringMatching(/no such user/) });
    expect(externalLogin(withCertificate('127.0.0.1', undefined), admit)).toMatchObject({ ok: false, detail: expect.stringMatching(/no CN/) });
    expect(externalLogin({ address: '127.0.0.1', port: 1 }, admit)).toMatchObject({ ok: false, detail: expect.stringMatching(/no verified TLS/) });
  });

  it('is offered only where a verified client certificate exists', () => {
    expect(offeredMechanisms(withCertificate('127.0.0.1', 'alice'))).toContain('EXTERNAL');
    expect(offeredMechanisms({ address: '127.0.0.1', port: 1 })).not.toContain('EXTERNAL');
  });
});
