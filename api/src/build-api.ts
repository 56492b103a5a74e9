import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ApiKeyStore, Store } from '@suido/ingest';
import { DEFAULT_RATE_LIMIT_PER_MINUTE, installAccessControl } from './access/access-control.ts';
import { redactingLogger } from './access/log-redaction.ts';
import { alertRoutes } from './alerts/alert-routes.ts';
import type { AlertStreamOptions } from './alerts/alert-stream.ts';
import { deadLetterRoutes } from './dead-letters/dead-letter-routes.ts';
import { installErrorHandling } from './errors.ts';
import { meterRoutes } from './meters/meter-routes.ts';
import { DEFAULT_BILLING_SETTINGS, billingRoutes, type BillingSettings } from './billing/billing-routes.ts';
import { crewRoutes } from './crew/crew-routes.ts';
import { refuseNonFiniteQueryNumbers } from './finite-query.ts';
import { installHttpMetrics, opsRoutes } from './ops/ops-routes.ts';

export interface ApiOptions {
  /** The data, and the API keys every route but health and readiness checks callers against. */
  readonly store: Store & ApiKeyStore;
  readonly registry: Registry;
  readonly log: Logger;
  /** Readiness beyond the store's own ping (e.g. the embedded broker is listening). */
  readonly ready?: () => Promise<boolean>;
  /** Billing estimate limits (DEFAULT_REGISTER_RULES when absent). */
  readonly billing?: Partial<BillingSettings> | undefined;
  /** Timing of GET /v1/alerts/stream (poll 500 ms, heartbeat 15 s by default). */
  readonly alertStream?: Partial<AlertStreamOptions> | undefined;
  /** Requests a minute per key (DEFAULT_RATE_LIMIT_PER_MINUTE when absent); 0: no limit. */
  readonly rateLimitPerMinute?: number | undefined;
  /** PEM certificate and key: serve HTTPS (API_TLS_CERT_FILE, API_TLS_KEY_FILE). */
  readonly https?: { readonly cert: Buffer; readonly key: Buffer } | undefined;
}

/** The HTTP API as a fastify instance, not yet listening (tests use inject()). */
export async function buildApi(opts: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger and fastify's logger type differ only in generics.
    loggerInstance: redactingLogger(opts.log) as FastifyBaseLogger,
    // Query strings are the API's whole input; refuse junk instead of coercing it.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false } },
    routerOptions: { ignoreTrailingSlash: true },
    // Routes, hooks and inject() are the same over HTTPS; only the server type differs, hence the cast.
    ...(opts.https && { https: { cert: opts.https.cert, key: opts.https.key } }),
  }) as FastifyInstance;
  installErrorHandling(app);
  refuseNonFiniteQueryNumbers(app);
  // Before any route: it refuses routes that declare no access.
  await installAccessControl(app, { keys: opts.store, rateLimitPerMinute: opts.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE });
  installHttpMetrics(app, opts.registry);
  const ready = async () => {
    await opts.store.ping();
    return opts.ready ? opts.ready() : true;
  };
  await app.register(opsRoutes, { registry: opts.registry, ready });
  await app.register(meterRoutes, { store: opts.store });
  await app.register(billingRoutes, { store: opts.store, settings: { ...DEFAULT_BILLING_SETTINGS, ...opts.billing } });
  await app.register(deadLetterRoutes, { store: opts.store });
  await app.register(alertRoutes, { store: opts.store, stream: opts.alertStream });
  await app.register(crewRoutes);
  return app;
}
