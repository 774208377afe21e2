/**
 * The web console: the static files of `public/` at `/`, and the browser libraries it uses served from
 * their npm packages under `/vendor/<package>/` (never a CDN).
 *
 * There is no build step, so file names carry no content hash: console files are served `no-cache`
 * (the browser revalidates with ETag / Last-Modified and gets a cheap 304), so a new release takes effect
 * on the next load. Vendored files change only when package.json does and may be cached for a day.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const publicDir = fileURLToPath(new URL('../../public/', import.meta.url));

/** Files each vendored package may serve, under `/vendor/<name>/`. */
const vendored = [{ name: 'uplot', dir: 'dist', files: new Set(['uPlot.esm.js', 'uPlot.min.css']) }] as const;

const require = createRequire(import.meta.url);

/**
 * The console's pages talk only to `/api` (same origin). Scripts are modules from this origin; uPlot
 * styles its elements through the CSSOM, which `style-src 'self'` allows.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function registerConsole(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: publicDir,
    prefix: '/',
    cacheControl: false,
    setHeaders(res, path) {
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('x-content-type-options', 'nosniff');
      res.setHeader('referrer-policy', 'no-referrer');
      if (path.endsWith('.html')) {
        res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
        res.setHeader('x-frame-options', 'DENY');
      }
    },
  });
  for (const pkg of vendored) {
    const root = join(dirname(require.resolve(`${pkg.name}/package.json`)), pkg.dir);
    await app.register(fastifyStatic, {
      root,
      prefix: `/vendor/${pkg.name}/`,
      decorateReply: false,
      index: false,
      cacheControl: false,
      allowedPath: (pathName) => pkg.files.has(pathName.replace(/^\/+/, '')),
      setHeaders(res) {
        res.setHeader('cache-control', 'public, max-age=86400');
        res.setHeader('x-content-type-options', 'nosniff');
      },
    });
  }
}
