/**
 * @suido/infra/services: real servers that tests and benchmarks start for
 * themselves. Imports no Suido package, so any package's tests may use it
 * without a dependency cycle (infra imports the runtime packages, not this).
 */
export { startInfluxd, InfluxdMissingError, type InfluxdOptions, type RunningInfluxd } from './influxd.ts';
export { startMosquitto, MosquittoMissingError, SUIDO_MOSQUITTO_CONF_D, type MosquittoOptions, type RunningMosquitto } from './mosquitto.ts';
export { startPostgres, PostgresMissingError, type PostgresOptions, type RunningPostgres } from './postgres.ts';
export { makeTestCertificates, OpensslMissingError, type TestCertificates } from './test-certificates.ts';
