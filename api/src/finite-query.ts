import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.ts';

/**
 * Ajv coerces `?limit=1e309` to Infinity and lets it pass an integer schema
 * with a maximum (found by fuzzing: it reached SQLite as a LIMIT and came
 * back a 500). After validation, any number in the query string must be
 * finite; every numeric query parameter of this API is.
 */
export function refuseNonFiniteQueryNumbers(app: FastifyInstance): void {
  app.addHook('preHandler', async (request) => {
    const query = request.query;
    if (query === null || typeof query !== 'object') return;
    for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        if (typeof v === 'number' && !Number.isFinite(v)) throw new ApiError('REQUEST_INVALID', `querystring/${name} must be a finite number`);
      }
    }
  });
}
