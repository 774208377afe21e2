/**
 * The broker's rules for browsers, wired in one call from server.ts: which origins may open its
 * WebSockets, and CORS for the management API for those same origins.
 */
import type { FastifyInstance } from 'fastify';
import type { WarrenConfig } from '../config.js';
import { registerApiCors } from './api/cors.js';
import { AllowedOrigins, registerOriginCheck } from './origin-check.js';

/** Registers the hooks; call before the routes they guard. */
export function registerBrowserAccess(app: FastifyInstance, config: Pick<WarrenConfig, 'wsAllowedOrigins'>): AllowedOrigins {
  const allowed = new AllowedOrigins(config.wsAllowedOrigins);
  registerOriginCheck(app, allowed);
  registerApiCors(app, allowed);
  return allowed;
}
