/** @suido/api: the HTTP API for billing systems, field crews and operators. */
export { buildApi, type ApiOptions } from './build-api.ts';
export { loadApiConfig, type ApiConfig } from './config.ts';
export { ApiError, type ApiErrorCode } from './errors.ts';
export { ROLES, type Role } from './access/roles.ts';
export { issueApiKey, keyIdentity, type IssuedApiKey } from './access/api-keys.ts';
export type { AlertStreamOptions } from './alerts/alert-stream.ts';
