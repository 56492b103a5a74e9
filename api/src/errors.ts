import type { FastifyError, FastifyInstance } from 'fastify';
import Type from 'typebox';

/**
 * Every error the API returns, by stable code. One table maps codes to HTTP
 * statuses, so a client can switch on `code` and never parse `message`.
 */
const STATUS = {
  REQUEST_INVALID: 400,
  TIME_INVALID: 400,
  RANGE_INVALID: 400,
  ALERT_CHANGE_INVALID: 400,
  // Billing: a cursor not given out by the API, an asOf beyond the newest arrival, a replacement that cannot be.
  CURSOR_INVALID: 400,
  AS_OF_INVALID: 400,
  REPLACEMENT_INVALID: 400,
  // No API key (README: Access); answered with WWW-Authenticate.
  AUTH_REQUIRED: 401,
  // A key that is malformed, unknown or revoked.
  AUTH_INVALID: 401,
  // A valid key whose role the route does not admit: asking again will not help.
  FORBIDDEN_ROLE: 403,
  METER_NOT_FOUND: 404,
  ALERT_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  // Billing exports speak NDJSON and CSV only (Accept).
  NOT_ACCEPTABLE: 406,
  // The alert is in a state the action cannot leave (ack of a resolved alert).
  ALERT_TRANSITION_INVALID: 409,
  // Another replacement of the meter is recorded at that instant with other registers (with `current`).
  REPLACEMENT_CONFLICT: 409,
  // If-Match names a version the alert has left: another crew (or a detector) changed it.
  ALERT_VERSION_CONFLICT: 412,
  // A change without If-Match would be a blind overwrite; RFC 6585 428.
  PRECONDITION_REQUIRED: 428,
  // Over API_RATE_LIMIT_PER_MINUTE for the key (or the address, without one); with Retry-After.
  RATE_LIMITED: 429,
  STORE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ApiErrorCode = keyof typeof STATUS;

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  /** More fields for the body beside the code (e.g. `current`: the alert as it is now, on a conflict). */
  readonly extra: Readonly<Record<string, unknown>> | undefined;
  constructor(code: ApiErrorCode, message: string, extra?: Readonly<Record<string, unknown>>) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.statusCode = STATUS[code];
    this.extra = extra;
  }
}

/** The body of every 4xx/5xx answer. */
export const ErrorBody = Type.Object(
  {
    statusCode: Type.Integer(),
    code: Type.String({ description: 'stable error code, e.g. METER_NOT_FOUND' }),
    message: Type.String(),
  },
  { $id: 'ErrorBody' },
);

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    let body: { statusCode: number; code: string; message: string; [extra: string]: unknown };
    if (err instanceof ApiError) {
      body = { ...err.extra, statusCode: err.statusCode, code: err.code, message: err.message };
    } else if ((err as FastifyError).validation) {
      body = { statusCode: 400, code: 'REQUEST_INVALID', message: err.message };
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // fastify's own client errors (bad JSON body, unsupported media type...)
      body = { statusCode: err.statusCode, code: 'REQUEST_INVALID', message: err.message };
    } else {
      request.log.error({ err }, 'unhandled error');
      body = { statusCode: 500, code: 'INTERNAL', message: 'internal error; see the server log' };
    }
    void reply.code(body.statusCode).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ statusCode: 404, code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });
}
