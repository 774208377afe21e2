/**
 * Helpers for the management API tests: requests through `app.inject` (no socket, but the full fastify
 * pipeline: hooks, parsers, validation, error handler), as guest or any user, from any address.
 */
import type { FastifyInstance } from 'fastify';

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
  readonly headers: Record<string, string | string[] | number | undefined>;
}

export interface RequestOptions {
  /** `[user, password]`; guest by default; null sends no Authorization header. */
  readonly as?: readonly [string, string] | null;
  readonly body?: unknown;
  /** Raw body text (sent as is, with the given content type). */
  readonly raw?: string;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
  readonly remoteAddress?: string;
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

export type Api = (method: string, url: string, options?: RequestOptions) => Promise<ApiResponse>;

export function apiClient(app: FastifyInstance): Api {
  return async (method, url, options = {}) => {
    const as = options.as === undefined ? (['guest', 'guest'] as const) : options.as;
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (as) headers.authorization = basic(as[0], as[1]);
    let payload: string | undefined;
    if (options.raw !== undefined) payload = options.raw;
    else if (options.body !== undefined) payload = JSON.stringify(options.body);
    if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload !== undefined ? { payload } : {}),
      ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {}),
    });
    let body: unknown = undefined;
    if (response.body !== '') {
      try {
        body = JSON.parse(response.body);
      } catch {
        body = response.body;
      }
    }
    return { status: response.statusCode, body, text: response.body, headers: response.headers };
  };
}

/** A user with tags and (optionally) permissions in `/`, created through the API as guest. */
export async function createUser(
  api: Api,
  name: string,
  tags: string,
  permissions?: { configure: string; write: string; read: string; vhost?: string },
): Promise<readonly [string, string]> {
  const password = `${name}-secret`;
  const put = await api('PUT', `/api/users/${encodeURIComponent(name)}`, { body: { password, tags } });
  if (put.status !== 201 && put.status !== 204) throw new Error(`creating user ${name}: ${put.status} ${put.text}`);
  if (permissions) {
    const vhost = encodeURIComponent(permissions.vhost ?? '/');
    const perm = await api('PUT', `/api/permissions/${vhost}/${encodeURIComponent(name)}`, { body: permissions });
    if (perm.status !== 201 && perm.status !== 204) throw new Error(`permissions for ${name}: ${perm.status} ${perm.text}`);
  }
  return [name, password];
}

let counter = 0;
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}-${Math.random().toString(36).slice(2, 7)}`;
}

export function record(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error(`expected an object, got ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

export function array(value: unknown): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw new Error(`expected an array, got ${JSON.stringify(value)}`);
  return value.map(record);
}

