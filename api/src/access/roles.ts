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
 * - admin: everything.
 */
export const ROLES = ['billing', 'crew', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Route config: the roles a route admits, or 'public' (health, readiness, the crew page's HTML). */
export type RouteAccess = readonly Role[] | 'public';

declare module 'fastify' {
  interface FastifyContextConfig {
    roles?: RouteAccess;
  }
}
