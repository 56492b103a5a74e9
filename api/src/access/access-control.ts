import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ApiKeyStore } from '@suido/ingest';
import { ApiError, type ApiErrorCode } from '../errors.ts';
import { hashApiKey, isWellFormedKey, keyIdentity } from './api-keys.ts';
import { ROLES, admits, type RouteAccess } from './roles.ts';

/** Requests a minute per API key (per address without one) unless configured (API_RATE_LIMIT_PER_MINUTE). */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 600;
/** Last use is written at most this often per key: a hint for spotting unused keys, not a write per request. */
const LAST_USED_RESOLUTION_MS = 15 * 60_000;
const RATE_WINDOW_MS = 60_000;
const REALM = 'Bearer realm="suido"';

/** The caller behind a request, once its key checked out. */
export interface ApiPrincipal {
  readonly keyId: number;
  readonly name: string;
  readonly role: string;
  /** `key:<id>:<name>`: what audit records name. */
  readonly identity: string;
}

/** One route's access, as every route declared it (tests and docs enumerate these). */
export interface RouteAccessRule {
  readonly method: string;
  readonly url: string;
  readonly roles: RouteAccess;
  readonly queryToken: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set on routes that need a key, once it is checked; null on public routes. */
    apiKey: ApiPrincipal | null;
  }
  interface FastifyInstance {
    readonly accessRules: readonly RouteAccessRule[];
  }
}

export interface AccessOptions {
  readonly keys: ApiKeyStore;
  /** Requests a minute per key (per client IP without a valid key); 0: no limit. */
  readonly rateLimitPerMinute: number;
}

type Identified = { readonly ok: true; readonly principal: ApiPrincipal } | { readonly ok: false; readonly code: ApiErrorCode & ('AUTH_REQUIRED' | 'AUTH_INVALID'); readonly message: string };

/**
 * Authentication, rate limiting and role checks for every route, in that
 * order, in one onRequest hook that runs before the body is read. Must be
 * installed on the root instance before any route: it refuses (throws at
 * start-up) a route without `config.roles`.
 *
 * The limit is applied after identifying and before refusing, so that a
 * client trying keys is limited by its IP like any anonymous caller.
 * Public routes (health, readiness) are neither authenticated nor limited:
 * a probe answered 429 would take a healthy instance out of service.
 */
export async function installAccessControl(app: FastifyInstance, opts: AccessOptions): Promise<void> {
  const rules: RouteAccessRule[] = [];
  app.decorate('accessRules', rules);
  app.decorateRequest('apiKey', null);

  let limit: ReturnType<FastifyInstance['createRateLimit']> | undefined;
  if (opts.rateLimitPerMinute > 0) {
    // global: false: the plugin adds no hooks of its own; ours calls it.
    await app.register(rateLimit, {
      global: false,
      max: opts.rateLimitPerMinute,
      timeWindow: RATE_WINDOW_MS,
      keyGenerator: (request) => (request.apiKey ? `key:${request.apiKey.keyId}` : `ip:${request.ip}`),
    });
    limit = app.createRateLimit();
  }

  const lastTouched = new Map<number, number>();

  async function identify(request: FastifyRequest, queryToken: boolean): Promise<Identified> {
    const presented = credentials(request, queryToken);
    if (presented.length === 0) return { ok: false, code: 'AUTH_REQUIRED', message: 'send an API key: Authorization: Bearer <key> (README: Access)' };
    if (new Set(presented).size > 1) return { ok: false, code: 'AUTH_INVALID', message: 'two different API keys in one request' };
    const key = presented[0]!;
    const record = isWellFormedKey(key) ? await opts.keys.apiKeyByHash(hashApiKey(key)) : undefined;
    if (!record || record.revokedAtMs !== null) return { ok: false, code: 'AUTH_INVALID', message: 'the API key is unknown or revoked' };

    const now = Date.now();
    if (now - Math.max(record.lastUsedAtMs ?? 0, lastTouched.get(record.id) ?? 0) >= LAST_USED_RESOLUTION_MS) {
      lastTouched.set(record.id, now);
      // A hint only: a failed write must not fail the request.
      await opts.keys.touchApiKey(record.id, now).catch((err: unknown) => request.log.warn({ err, keyId: record.id }, 'could not record the last use of an API key'));
    }
    return { ok: true, principal: { keyId: record.id, name: record.name, role: record.role, identity: keyIdentity(record) } };
  }

  async function applyLimit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (!limit) return;
    const verdict = await limit(request);
    if (verdict.isAllowed) return;
    void reply.headers({ 'x-ratelimit-limit': verdict.max, 'x-ratelimit-remaining': verdict.remaining, 'x-ratelimit-reset': verdict.ttlInSeconds });
    if (verdict.isExceeded) {
      void reply.header('retry-after', verdict.ttlInSeconds);
      throw new ApiError('RATE_LIMITED', `more than ${verdict.max} requests a minute from this ${request.apiKey ? 'API key' : 'address'}; retry after ${verdict.ttlInSeconds} s`);
    }
  }

  function guard(access: RouteAccess, url: string, queryToken: boolean): onRequestAsyncHookHandler {
    return async (request, reply) => {
      const who = await identify(request, queryToken);
      if (who.ok) request.apiKey = who.principal;
      await applyLimit(request, reply);
      if (!who.ok) {
        void reply.header('www-authenticate', who.code === 'AUTH_REQUIRED' ? REALM : `${REALM}, error="invalid_token"`);
        throw new ApiError(who.code, who.message);
      }
      if (!admits(access, who.principal.role)) {
        request.log.info({ keyId: who.principal.keyId, role: who.principal.role, route: url }, 'API key refused: role not admitted');
        void reply.header('www-authenticate', `${REALM}, error="insufficient_scope"`);
        throw new ApiError('FORBIDDEN_ROLE', `role '${who.principal.role}' may not call ${request.method} ${url}; it needs ${[access, 'admin'].flat().join(' or ')}`);
      }
    };
  }

  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    const roles = route.config?.roles;
    const where = `${methods.join(',')} ${route.url}`;
    if (roles === undefined) {
      throw new Error(`route ${where} declares no access: add config: { roles: [...] } or { roles: 'public' } (api/src/access/roles.ts)`);
    }
    if (roles !== 'public' && (roles.length === 0 || roles.some((r) => !(ROLES as readonly string[]).includes(r)))) {
      throw new Error(`route ${where}: config.roles must be 'public' or a non-empty list of ${ROLES.join(', ')}`);
    }
    const queryToken = route.config?.queryToken === true;
    if (queryToken && roles === 'public') throw new Error(`route ${where}: a public route takes no token`);
    for (const method of methods) rules.push({ method, url: route.url, roles, queryToken });
    if (roles === 'public') return;
    const own = route.onRequest === undefined ? [] : [route.onRequest].flat();
    route.onRequest = [guard(roles, route.url, queryToken), ...own];
  });
}

/** Every key the request presents: Authorization: Bearer, X-Api-Key and, where the route allows it, ?access_token=. */
function credentials(request: FastifyRequest, queryToken: boolean): string[] {
  const found: string[] = [];
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    // Another scheme (Basic...) is a credential too, just not one we accept: refuse it rather than ignore it.
    found.push(bearer ? bearer[1]! : authorization);
  }
  const header = request.headers['x-api-key'];
  if (header !== undefined) found.push(...[header].flat());
  if (queryToken) {
    const token = (request.query as { access_token?: string | string[] } | undefined)?.access_token;
    if (token !== undefined) found.push(...[token].flat());
  }
  return found;
}
