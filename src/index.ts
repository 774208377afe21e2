/**
 * Warren as a library: start a broker inside another Node.js process (tests, an application that embeds
 * its broker). `npm start` runs `main.ts`, which does the same from flags and environment variables.
 */
export { defaultConfig, loadConfig, type WarrenConfig } from './config.js';
export { createWarrenServer, type WarrenServer, type WarrenServerOptions } from './http/server.js';
