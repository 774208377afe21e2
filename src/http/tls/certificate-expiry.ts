/**
 * `GET /api/health/checks/certificate-expiration/{within}/{unit}`, as RabbitMQ's
 * rabbit_mgmt_wm_health_check_certificate_expiration: every TLS listener whose certificate file or CA
 * file holds a certificate that expires within the window is listed, and then the check fails (503).
 * Warren reports the certificates being served (what was last loaded), where RabbitMQ reads the files
 * again; after a reload the two are the same.
 */
import type { X509Certificate } from 'node:crypto';

export interface TlsListenerInfo {
  /** RabbitMQ's listener protocol names: `https`, `amqp/ssl`, `https/prometheus`. */
  readonly protocol: string;
  readonly interface: string;
  readonly port: number;
}

/** What the check needs to know of the TLS configuration. */
export interface TlsStatus {
  readonly certFile: string;
  readonly caFile: string | undefined;
  readonly certificates: readonly X509Certificate[];
  readonly caCertificates: readonly X509Certificate[];
  listeners(): TlsListenerInfo[];
}

const DAY_SECONDS = 86_400;
// RabbitMQ's month is a twelfth of a 365-day year.
const UNIT_SECONDS: Readonly<Record<string, number>> = {
  days: DAY_SECONDS,
  weeks: DAY_SECONDS * 7,
  months: (DAY_SECONDS * 365) / 12,
  years: DAY_SECONDS * 365,
};

/** The window in seconds, or RabbitMQ's 400 reason. */
export function windowSeconds(within: string, unit: string): number | { readonly error: string } {
  if (!/^[+-]?\d+$/.test(within)) return { error: 'Invalid expiration value.' };
  const seconds = UNIT_SECONDS[unit.toLowerCase()];
  if (seconds === undefined) return { error: 'Time unit not recognised. Supported units: days, weeks, months, years.' };
  return Number(within) * seconds;
}

/** The listeners whose certificates expire before `now + seconds`, in RabbitMQ's shape; empty when all is well. */
export function expiringListeners(status: TlsStatus | undefined, seconds: number, now: number, node: string): Record<string, unknown>[] {
  if (!status) return [];
  const deadline = now + seconds * 1000;
  const expiring = (certificates: readonly X509Certificate[]): string[] =>
    certificates.map((c) => new Date(c.validTo).getTime()).filter((t) => t < deadline).map(rabbitDateTime);
  const certExpiring = expiring(status.certificates);
  const caExpiring = expiring(status.caCertificates);
  if (certExpiring.length === 0 && caExpiring.length === 0) return [];
  return status.listeners().map((listener) => ({
    node,
    protocol: listener.protocol,
    interface: listener.interface,
    port: listener.port,
    certfile: status.certFile,
    cacertfile: status.caFile ?? null,
    certfile_expires_on: certExpiring,
    cacertfile_expires_on: caExpiring,
  }));
}

/** `2027-01-05 9:30:00`: RabbitMQ's format (the hour is not padded). */
function rabbitDateTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${d.getUTCHours()}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}
