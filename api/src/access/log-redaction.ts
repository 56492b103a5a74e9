import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

const CENSOR = '[Redacted]';

/**
 * Keys never reach a log line. fastify logs each request's method and URL
 * (not its headers); the URL can carry `?access_token=` on the stream route,
 * so the request serializer masks it. The redaction paths cover any code that
 * logs headers or the parsed query on purpose or by mistake.
 */
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.query.access_token',
  'headers.authorization',
  'headers["x-api-key"]',
  'query.access_token',
];

const TOKEN_IN_URL = /([?&]access_token=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(TOKEN_IN_URL, `$1${CENSOR}`);
}

/** The API's logger: the caller's, with keys redacted (fastify's own request fields, URL masked). */
export function redactingLogger(log: Logger): Logger {
  return log.child(
    {},
    {
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      serializers: {
        // Anything else logged under `req` is left to the redaction paths.
        req: (req: FastifyRequest | Record<string, unknown>) =>
          isRequest(req) ? { method: req.method, url: redactUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort } : req,
      },
    },
  );
}

function isRequest(value: FastifyRequest | Record<string, unknown>): value is FastifyRequest {
  return typeof value.method === 'string' && typeof value.url === 'string' && 'raw' in value;
}
