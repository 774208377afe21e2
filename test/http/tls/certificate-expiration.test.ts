import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWarren, type RunningWarren } from '../../helpers/warren.js';
import { TestPki, type Issued } from './pki.js';
import { httpsRequest, startTlsWarren, type TlsWarren } from './support.js';

const check = (within: string, unit: string): string => `/api/health/checks/certificate-expiration/${within}/${unit}`;

describe('GET /api/health/checks/certificate-expiration/{within}/{unit}', () => {
  let pki: TestPki;
  let soon: Issued;
  let warren: TlsWarren;

  beforeAll(async () => {
    pki = new TestPki();
    soon = pki.issue('localhost', { server: true, days: 10 });
    warren = await startTlsWarren(pki, soon);
  });

  afterAll(async () => {
    await warren?.stop();
    pki?.remove();
  });

  const get = (path: string): ReturnType<typeof httpsRequest> => httpsRequest(`${warren.url}${path}`, { ca: pki.ca.cert });

  it('fails with the expiring listeners when a certificate expires within the window', async () => {
    const response = await get(check('2', 'weeks'));
    expect(response.status).toBe(503);
    const body = response.body as { status: string; reason: string; expired: Array<Record<string, unknown>> };
    expect(body.status).toBe('failed');
    expect(body.reason).toBe('Certificates expiring');
    expect(body.expired.map((l) => [l.protocol, l.port]).sort()).toEqual(
      [
        ['amqp/ssl', warren.amqpsPort],
        ['https', warren.port],
        ['https/prometheus', warren.prometheusPort],
      ].sort(),
    );
    for (const listener of body.expired) {
      expect(listener).toMatchObject({
        node: expect.stringMatching(/^warren@/),
        interface: '127.0.0.1',
        certfile: soon.certFile,
        cacertfile: pki.ca.certFile,
        certfile_expires_on: [expect.stringMatching(/^\d{4}-\d\d-\d\d \d{1,2}:\d\d:\d\d$/)],
        // The CA is valid for ten years.
        cacertfile_expires_on: [],
      });
    }
  });

  it('is ok when nothing expires within the window; the unit is case-insensitive', async () => {
    expect(await get(check('5', 'days'))).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await get(check('1', 'WEEKS'))).toMatchObject({ status: 200, body: { status: 'ok' } });
  });

  it('counts months as a twelfth of a year and years as 365 days (the CA counts too)', async () => {
    expect((await get(check('1', 'months'))).status).toBe(503);
    const tenYears = await get(check('11', 'years'));
    expect(tenYears.status).toBe(503);
    expect((tenYears.body as { expired: Array<{ cacertfile_expires_on: string[] }> }).expired[0]?.cacertfile_expires_on).toHaveLength(1);
  });

  it('answers 400 with RabbitMQ reasons for a bad unit or number', async () => {
    expect(await get(check('1', 'fortnights'))).toMatchObject({
      status: 400,
      body: { error: 'bad_request', reason: 'Time unit not recognised. Supported units: days, weeks, months, years.' },
    });
    expect(await get(check('soon', 'days'))).toMatchObject({ status: 400, body: { error: 'bad_request', reason: 'Invalid expiration value.' } });
  });
});

describe('certificate-expiration without TLS', () => {
  let warren: RunningWarren;
  beforeAll(async () => {
    warren = await startWarren();
  });
  afterAll(async () => warren?.stop());

  it('is ok: no TLS listener, no certificate to expire; a bad unit is still 400', async () => {
    const auth = { authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}` };
    const ok = await warren.server.app.inject({ url: check('1', 'years'), headers: auth });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok' });
    const bad = await warren.server.app.inject({ url: check('1', 'eons'), headers: auth });
    expect(bad.statusCode).toBe(400);
  });
});
