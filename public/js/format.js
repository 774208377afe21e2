// @ts-check
/** Number, size, time and rate formatting shared by every page. */

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** @param {unknown} value */
export function num(value) {
  return typeof value === 'number' && Number.isFinite(value) ? integer.format(value) : '–';
}

/** A per-second rate: `12.5/s`, `0/s`. @param {unknown} value */
export function rate(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  return `${value >= 100 ? integer.format(value) : decimal.format(value)}/s`;
}

/** @param {unknown} value */
export function bytes(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = value;
  let unit = 0;
  while (Math.abs(n) >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? integer.format(n) : decimal.format(n)} ${units[unit]}`;
}

/** A duration in milliseconds: `3d 4h`, `5m 12s`, `800ms`. @param {unknown} ms */
export function duration(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hr = Math.floor(s / 3600);
  s -= hr * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${hr}h`;
  if (hr > 0) return `${hr}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** A date (ms since the epoch, or seconds when small) in the reader's locale. @param {unknown} value */
export function dateTime(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  const ms = value < 1e11 ? value * 1000 : value;
  return new Date(ms).toLocaleString();
}

/** `name` or `(AMQP default)` for the default exchange. @param {string} name */
export function exchangeLabel(name) {
  return name === '' ? '(AMQP default)' : name;
}

/**
 * @typedef {Object} Featured
 * @property {boolean} [durable]
 * @property {boolean} [auto_delete]
 * @property {boolean} [internal]
 * @property {boolean} [exclusive]
 * @property {Record<string, unknown>} [arguments]
 * @property {string | null} [policy]
 * @property {string | null} [operator_policy]
 * @property {Record<string, unknown>} [effective_policy_definition]
 */

/** @typedef {{short: string, title: string, kind?: 'policy'}} Feature */

/**
 * Short feature flags for a queue or exchange, like RabbitMQ's Features column: D (durable), AD
 * (auto-delete), I, Excl, one per argument (TTL, DLX, Lim…), and the policies that apply with what their
 * effective definition adds. A key set both ways is one flag whose tooltip names both sources.
 * @param {Featured} item
 * @returns {Feature[]}
 */
export function features(item) {
  /** @type {Feature[]} */
  const out = [];
  if (item.durable) out.push({ short: 'D', title: 'durable' });
  if (item.auto_delete) out.push({ short: 'AD', title: 'auto-delete' });
  if (item.internal) out.push({ short: 'I', title: 'internal' });
  if (item.exclusive) out.push({ short: 'Excl', title: 'exclusive' });
  /** @type {Map<string, Feature>} */
  const byShort = new Map();
  for (const [key, value] of Object.entries(item.arguments ?? {})) {
    const feature = { short: shortArgument(key), title: `${key}: ${shown(value)}` };
    byShort.set(feature.short, feature);
    out.push(feature);
  }
  for (const [key, value] of Object.entries(item.effective_policy_definition ?? {})) {
    const short = shortArgument(key === 'alternate-exchange' ? key : `x-${key}`);
    const title = `${key}: ${shown(value)} (effective policy)`;
    const existing = byShort.get(short);
    if (existing) existing.title += `; ${title}`;
    else {
      const feature = { short: short.startsWith('x-') ? key : short, title, kind: /** @type {const} */ ('policy') };
      byShort.set(short, feature);
      out.push(feature);
    }
  }
  if (item.policy) out.push({ short: `Pol ${item.policy}`, title: `policy: ${item.policy}`, kind: 'policy' });
  if (item.operator_policy) out.push({ short: `Op ${item.operator_policy}`, title: `operator policy: ${item.operator_policy}`, kind: 'policy' });
  return out;
}

/** @param {unknown} value */
function shown(value) {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** @type {Record<string, string>} */
const ARGUMENT_SHORT = {
  'x-message-ttl': 'TTL',
  'x-expires': 'Exp',
  'x-max-length': 'Lim',
  'x-max-length-bytes': 'Lim B',
  'x-overflow': 'Ovfl',
  'x-dead-letter-exchange': 'DLX',
  'x-dead-letter-routing-key': 'DLK',
  'x-max-priority': 'Pri',
  'x-single-active-consumer': 'SAC',
  'x-queue-mode': 'Mode',
  'x-queue-version': 'Ver',
  'x-queue-type': 'Type',
  'x-delivery-limit': 'DL',
  'x-consumer-timeout': 'CT',
  'alternate-exchange': 'AE',
};

/** @param {string} key */
function shortArgument(key) {
  return ARGUMENT_SHORT[key] ?? key;
}

/** Reads a dotted path (`message_stats.publish_details.rate`) from an API object. */
/** @param {unknown} value @param {string} dotted @returns {unknown} */
export function pick(value, dotted) {
  let current = value;
  for (const part of dotted.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = /** @type {Record<string, unknown>} */ (current)[part];
  }
  return current;
}

/** A number at a dotted path, or undefined. @param {unknown} value @param {string} dotted */
export function pickNumber(value, dotted) {
  const found = pick(value, dotted);
  return typeof found === 'number' ? found : undefined;
}
