/**
 * @suido/dashboards: Grafana dashboards built from TypeScript (issue 5).
 * Not built yet; nothing is exported until it exists.
 */
export {};
