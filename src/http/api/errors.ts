/**
 * Every failure under /api becomes RabbitMQ's `{"error": ..., "reason": ...}` body with RabbitMQ's status:
 * broker errors by their symbolic name, fastify's own (validation, body size, parsing) by their kind.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isBrokerError, type BrokerError } from '../../broker/errors.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    /** Usually a string; RabbitMQ sends a JSON array for tuple-shaped errors such as `["not_boolean","x"]`. */
    readonly reason: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(typeof reason === 'string' ? reason : JSON.stringify(reason));
    this.name = 'ApiError';
  }
}

export const REALM = 'Basic realm="RabbitMQ Management"';

/** The body RabbitMQ sends for an object (or vhost) named in the URL that does not exist. */
export const objectNotFound = (): ApiError => new ApiError(404, 'Object Not Found', 'Not Found');
/** A missing thing found while doing an operation (or a missing vhost in PUT/POST). */
export const notFound = (reason: string): ApiError => new ApiError(404, 'not_found', reason);
export const badRequest = (reason: unknown, error = 'bad_request'): ApiError => new ApiError(400, error, reason);
/** Authenticated but not allowed: RabbitMQ answers 401 (not 403), with the British spelling. */
export const notAuthorised = (reason: string): ApiError => new ApiError(401, 'not_authorised', reason);
export const accessRefused = (): ApiError => notAuthorised('Access refused.');

function fromBrokerError(error: BrokerError): ApiError {
  switch (error.reason) {
    case 'NOT_FOUND':
      return notFound(error.message);
    case 'ACCESS_REFUSED':
    case 'NOT_ALLOWED':
      return accessRefused();
    case 'INTERNAL_ERROR':
      return new ApiError(500, 'internal_server_error', error.message);
    default:
      return badRequest(error.message);
  }
}

interface AjvLikeError {
  readonly keyword: string;
  readonly instancePath?: string;
  readonly message?: string;
  readonly params?: Record<string, unknown>;
  readonly data?: unknown;
}

function isFastifyError(error: unknown): error is FastifyError {
  return error instanceof Error && ('code' in error || 'statusCode' in error || 'validation' in error);
}

/** RabbitMQ's reasons where it has a recognisable one; ajv's message (naming the field) otherwise. */
function validationReason(error: FastifyError): unknown {
  const first = (error.validation as AjvLikeError[] | undefined)?.[0];
  if (!first) return error.message;
  const params = first.params ?? {};
  if (first.keyword === 'required') return `[{key_missing,${String(params.missingProperty)}}]`;
  const allowed = params.allowedValues;
  if (first.keyword === 'enum' && Array.isArray(allowed) && allowed.includes(true) && allowed.includes('true')) {
    return ['not_boolean', first.data];
  }
  const where = `${error.validationContext ?? 'body'}${first.instancePath ?? ''}`;
  return `${where} ${first.message ?? 'is invalid'}`;
}

export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (isBrokerError(error)) return fromBrokerError(error);
  if (isFastifyError(error)) {
    if (error.validation) return badRequest(validationReason(error));
    const status = error.statusCode ?? 500;
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return badRequest('request body too large');
    if (status >= 400 && status < 500) return new ApiError(status, 'bad_request', error.message);
  }
  return new ApiError(500, 'internal_server_error', 'internal error; see the server log');
}

export function sendError(error: ApiError, reply: FastifyReply): FastifyReply {
  for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
  return reply.code(error.status).type('application/json').send({ error: error.error, reason: error.reason });
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const apiError = toApiError(error);
  if (apiError.status >= 500) request.log.error({ err: error }, 'management API internal error');
  return sendError(apiError, reply);
}
