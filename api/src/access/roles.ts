/**
 * Who may call what. Every route names the roles it admits in its fastify
 * route config (`config: { roles: [...] }`), or says it is public; the access
 * hook refuses a route that says neither, so a new route cannot be left open
 * by forgetting.
 *
 * - billing: meters, their reads, the register at a cut-off, billing exports.
 * - crew: leak and meter alerts (read, acknowledge, resolve, live stream) and
 *   the devices they point at.
 * - operator: everything a bureau operator watches, including dead letters.
 * - admin: everything (a route need not list it).
 */
export const ROLES = ['billing', 'crew', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Route config: the roles a route admits, or 'public' (health, readiness, the crew page's HTML). */
export type RouteAccess = readonly Role[] | 'public';

/** Whether a key's role may call a route that admits `access`. */
export function admits(access: RouteAccess, role: string): boolean {
  return access === 'public' || role === 'admin' || (access as readonly string[]).includes(role);
}

declare module 'fastify' {
  interface FastifyContextConfig {
    roles?: RouteAccess;
    /**
     * Also accept the key as `?access_token=`: only for routes a browser's
     * EventSource calls, which cannot set headers (README: Access).
     */
    queryToken?: boolean;
  }
}
