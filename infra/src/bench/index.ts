export * from './report.ts';
export { freePort, httpOk, percentile, startServiceProcess, type ServiceProcess, type ServiceProcessOptions } from './service-process.ts';
