import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { Histogram, type Registry } from 'prom-client';

export interface OpsOptions {
  readonly registry: Registry;
  /** Whether the service can do its job now (store reachable, broker listening...). */
  readonly ready: () => Promise<boolean>;
}

/**
 * /healthz (the process answers), /readyz (it can serve): public, for probes
 * that carry no key. /metrics (Prometheus): operators, since route names and
 * counts describe the installation; Prometheus sends the key as a bearer
 * token (README: Access).
 */
export const opsRoutes: FastifyPluginAsync<OpsOptions> = async (app, { registry, ready }) => {
  app.get('/healthz', { logLevel: 'warn', config: { roles: 'public' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { logLevel: 'warn', config: { roles: 'public' } }, async (_request, reply) => {
    const ok = await ready().catch(() => false);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready' });
  });
  app.get('/metrics', { logLevel: 'warn', config: { roles: ['operator'] } }, async (_request, reply) => {
    return reply.type(registry.contentType).send(await registry.metrics());
  });
};

/**
 * Request durations for every route. A plain function on the root instance,
 * not a plugin: a hook added inside an encapsulated plugin would only see
 * that plugin's routes.
 */
export function installHttpMetrics(app: FastifyInstance, registry: Registry): void {
  const duration = new Histogram({
    name: 'suido_http_request_duration_seconds',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe({ route, method: request.method, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}
