/** @suido/api: the HTTP API for billing systems, field crews and operators. */
export { buildApi, type ApiOptions } from './build-api.ts';
export { loadApiConfig, type ApiConfig } from './config.ts';
export { ApiError, type ApiErrorCode } from './errors.ts';
export type { AlertStreamOptions } from './alerts/alert-stream.ts';
