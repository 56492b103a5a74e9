/**
 * @suido/dashboards: Grafana dashboards built from TypeScript with the
 * foundation SDK's typed builders (issue 5); the JSON in dashboards/build/
 * is a build output (README: Dashboards).
 */
export { buildOutputs, dashboards, yaml } from './build.ts';
export { API_KEY_HEADER, DASHBOARDS_PATH, INFLUXDB, PROVISIONING_ENV, SUIDO_API, dashboardProvisioning, datasourceProvisioning, type ProvisionedDatasource } from './datasources.ts';
export { InfinityQueryBuilder, apiQuery, isInfinityQuery, type InfinityColumn, type InfinityQuery } from './queries/infinity.ts';
export { InfluxQLQueryBuilder, influxql, isInfluxQLQuery, type InfluxQLQuery } from './queries/influxql.ts';
