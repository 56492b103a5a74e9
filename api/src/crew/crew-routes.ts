import { readFile } from 'node:fs/promises';
import type { FastifyPluginAsync } from 'fastify';

/**
 * The crew page: one HTML document, its script and its style, served as
 * files (no build step, no CDN: crews' phones reach only this API). The page
 * is public; every call it makes carries the crew's API key, which the page
 * asks for. The Content-Security-Policy allows this origin's script only, so
 * even a bug that wrote alert data as HTML could not run it.
 */
const FILES = {
  '/crew': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/crew/crew.js': { file: 'crew.js', type: 'text/javascript; charset=utf-8' },
  '/crew/crew.css': { file: 'crew.css', type: 'text/css; charset=utf-8' },
} as const;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Small files that change with a deploy: revalidate, never serve a stale script.
  'cache-control': 'no-cache',
};

export const crewRoutes: FastifyPluginAsync = async (app) => {
  const dir = new URL('./public/', import.meta.url);
  for (const [url, { file, type }] of Object.entries(FILES)) {
    const body = await readFile(new URL(file, dir));
    app.get(url, { config: { roles: 'public' } }, async (_request, reply) => {
      void reply.headers({ ...SECURITY_HEADERS, 'content-type': type });
      return body;
    });
  }
};
