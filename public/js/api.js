// @ts-check
/**
 * The management REST API: fetch with HTTP Basic credentials kept in sessionStorage for this tab, and
 * RabbitMQ's `{error, reason}` bodies turned into sentences a person can act on.
 */

/** @typedef {{ name: string, tags: string[] }} Whoami */
/** @typedef {{ username: string, authorization: string }} Credentials */
/**
 * @template T
 * @typedef {{ filtered_count: number, item_count: number, items: T[], page: number, page_count: number, page_size: number, total_count: number }} Paged
 */

const STORAGE_KEY = 'warren.credentials';
const TIMEOUT_MS = 20_000;

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 when the server could not be reached)
   * @param {string} error RabbitMQ's error atom (`bad_request`, `not_authorised`…)
   * @param {unknown} reason RabbitMQ's reason (usually a string)
   * @param {string} message the readable sentence
   */
  constructor(status, error, reason, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.error = error;
    this.reason = reason;
  }

  /** The credentials no longer work (wrong password, user deleted, tags removed, token expired): sign in again. */
  get endsSession() {
    return (
      this.status === 401 &&
      (this.error === 'not_authorized' ||
        this.reason === 'Not management user' ||
        this.reason === 'User can only log in via localhost' ||
        (typeof this.reason === 'string' && this.reason.startsWith('token refused')))
    );
  }
}

/** @returns {Credentials | null} */
export function credentials() {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = /** @type {Partial<Credentials>} */ (JSON.parse(raw));
    return typeof parsed.username === 'string' && typeof parsed.authorization === 'string'
      ? { username: parsed.username, authorization: parsed.authorization }
      : null;
  } catch {
    return null;
  }
}

/** @param {string} username @param {string} password @returns {Credentials} */
export function basicCredentials(username, password) {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return { username, authorization: `Basic ${btoa(binary)}` };
}

/** @param {Credentials} value */
export function saveCredentials(value) {
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(value));
}

export function forgetCredentials() {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** Called when a request shows the stored credentials stopped working. @type {(error: ApiError) => void} */
let sessionEnded = () => undefined;
/** @param {(error: ApiError) => void} callback */
export function onSessionEnded(callback) {
  sessionEnded = callback;
}

/**
 * Builds an API path from a template, percent-encoding every value as one segment (`/` → `%2F`).
 * @param {TemplateStringsArray} strings
 * @param {...string} values
 */
export function path(strings, ...values) {
  return strings.reduce((out, part, i) => out + part + (i < values.length ? encodeURIComponent(values[i] ?? '') : ''), '');
}

/** In exchange-name positions of a URL, the default exchange `""` is written `amq.default`. @param {string} name */
export function exchangeSegment(name) {
  return name === '' ? 'amq.default' : name;
}

/**
 * @typedef {Object} RequestOptions
 * @property {unknown} [body] JSON-encoded unless a string
 * @property {Record<string, string | number | boolean | undefined>} [query]
 * @property {Record<string, string>} [headers]
 * @property {Credentials} [as] credentials to use instead of the stored ones (sign-in)
 * @property {AbortSignal} [signal]
 * @property {'json' | 'text'} [expect]
 */

/**
 * One request to `/api`. Resolves with the parsed JSON (or undefined for 201/204), rejects with ApiError.
 * @param {string} method
 * @param {string} apiPath path below /api, already encoded (use `path`)
 * @param {RequestOptions} [options]
 * @returns {Promise<any>}
 */
export async function request(method, apiPath, options = {}) {
  const auth = options.as ?? credentials();
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json', ...options.headers };
  if (auth) headers.authorization = auth.authorization;
  let body;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let response;
  try {
    // credentials: 'omit' keeps the browser from showing its own login prompt on a 401.
    response = await fetch(`/api${apiPath}${queryString(options.query)}`, { method, headers, body, signal, credentials: 'omit', cache: 'no-store' });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    const timedOut = timeout.aborted;
    throw new ApiError(
      0,
      timedOut ? 'timeout' : 'network',
      String(error),
      timedOut ? 'The server did not answer in time.' : 'Cannot reach the Warren server. Is it running?',
    );
  }
  const text = await response.text();
  if (!response.ok) {
    const apiError = toApiError(response.status, text);
    if (apiError.endsSession && !options.as) sessionEnded(apiError);
    throw apiError;
  }
  if (options.expect === 'text') return text;
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(response.status, 'bad_response', text.slice(0, 200), 'The server sent a reply the console cannot read.');
  }
}

/**
 * Opens a streaming `GET /api…` (the trace view's NDJSON): the same credentials and error sentences as
 * `request`, but no timeout, and the Response is handed over unread so its body can be consumed as it
 * arrives. EventSource cannot send the Authorization header, hence fetch.
 * @param {string} apiPath already encoded (use `path`)
 * @param {RequestOptions['query']} query
 * @param {AbortSignal} signal aborting it ends the stream (the server sees the disconnect)
 * @returns {Promise<Response>}
 */
export async function openStream(apiPath, query, signal) {
  const auth = credentials();
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/x-ndjson' };
  if (auth) headers.authorization = auth.authorization;
  let response;
  try {
    response = await fetch(`/api${apiPath}${queryString(query)}`, { headers, signal, credentials: 'omit', cache: 'no-store' });
  } catch (error) {
    if (signal.aborted) throw error;
    throw new ApiError(0, 'network', String(error), 'Cannot reach the Warren server. Is it running?');
  }
  if (!response.ok) {
    const apiError = toApiError(response.status, await response.text());
    if (apiError.endsSession) sessionEnded(apiError);
    throw apiError;
  }
  return response;
}

/** @param {Record<string, string | number | boolean | undefined> | undefined} query */
function queryString(query) {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

export const api = {
  /** @param {string} p @param {RequestOptions['query']} [query] @param {AbortSignal} [signal] */
  get: (p, query, signal) => request('GET', p, { query, signal }),
  /** @param {string} p @param {unknown} [body] */
  put: (p, body = {}) => request('PUT', p, { body }),
  /** @param {string} p @param {unknown} [body] */
  post: (p, body = {}) => request('POST', p, { body }),
  /** @param {string} p @param {RequestOptions['query']} [query] @param {Record<string, string>} [headers] */
  del: (p, query, headers) => request('DELETE', p, { query, headers }),
};

/** @param {number} status @param {string} text */
function toApiError(status, text) {
  /** @type {{error?: unknown, reason?: unknown}} */
  let body = {};
  try {
    const parsed = text ? JSON.parse(text) : {};
    if (parsed && typeof parsed === 'object') body = parsed;
  } catch {
    body = { reason: text.slice(0, 300) };
  }
  const error = typeof body.error === 'string' ? body.error : '';
  return new ApiError(status, error, body.reason, describe(status, error, body.reason));
}

/** @type {Record<string, string>} */
const KNOWN_REASONS = {
  Not_Authorized: 'Wrong username or password.',
  'Login failed': 'Wrong username or password.',
  'Not management user': 'This user has no management tag (administrator, monitoring, policymaker or management), so it cannot use the console.',
  'User can only log in via localhost': 'This user may only sign in from the machine Warren runs on (localhost).',
  'Access refused.': 'Access refused: your permissions in this virtual host do not allow it.',
  'Not administrator user': 'Only users with the administrator tag can do this.',
  'Not monitor user': 'Only users with the monitoring or administrator tag can see this.',
  'User not authorised to access virtual host': 'You have no permissions in this virtual host.',
  vhost_not_found: 'That virtual host does not exist.',
  exchange_not_found: 'That exchange does not exist.',
  queue_not_found: 'That queue does not exist (it may have been deleted).',
  vhost_or_user_not_found: 'That user or virtual host does not exist.',
  failed_to_parse_json: 'The file is not valid JSON.',
};

/**
 * A readable sentence for an API error.
 * @param {number} status @param {string} error @param {unknown} reason
 */
export function describe(status, error, reason) {
  if (typeof reason === 'string') {
    const known = KNOWN_REASONS[reason];
    if (known) return known;
    const missing = /^\[\{key_missing,(.+)\}\]$/.exec(reason);
    if (missing) return `The field "${missing[1]}" is required.`;
    if (error === 'Object Not Found' || (status === 404 && reason === 'Not Found')) return 'Not found: it does not exist (any more).';
    if (status >= 500) return `The server failed: ${reason}`;
    // RabbitMQ words policy and parameter refusals "Validation failed\n\n<detail>\n".
    const validation = /^Validation failed\s*\n+([\s\S]+)$/.exec(reason);
    if (validation?.[1]) return sentence(`Validation failed: ${validation[1].trim().replace(/\s*\n+\s*/g, '; ')}`);
    return sentence(reason);
  }
  if (Array.isArray(reason)) {
    const [kind, value] = reason;
    if (kind === 'not_boolean') return `Expected true or false, got ${JSON.stringify(value)}.`;
    if (kind === 'unsupported_encoding') return `Unsupported payload encoding ${JSON.stringify(value)}.`;
    return sentence(reason.map((part) => (typeof part === 'string' ? part : JSON.stringify(part))).join(': '));
  }
  if (status === 401) return 'Not signed in, or not allowed.';
  if (status === 404) return 'Not found: it does not exist (any more).';
  if (status === 405) return 'The server does not support this operation.';
  if (status >= 500) return `The server failed (HTTP ${status}).`;
  return `The request failed (HTTP ${status}${error ? `, ${error}` : ''}).`;
}

/** Capital first letter, final full stop. @param {string} text */
function sentence(text) {
  const trimmed = text.trim();
  if (!trimmed) return 'The request failed.';
  const capital = trimmed.charAt(0).toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** A readable message for anything thrown. @param {unknown} error */
export function messageOf(error) {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Whether a value is RabbitMQ's paged wrapper. @param {unknown} value @returns {value is Paged<any>} */
export function isPaged(value) {
  return typeof value === 'object' && value !== null && Array.isArray(/** @type {{items?: unknown}} */ (value).items);
}
