import type { ApiKeyAction, ApiKeyEvent, ApiKeyRecord } from './api-key-store.ts';
import type { MqttCredential, MqttPrincipalRole } from './device-credentials.ts';

/**
 * The rows of the access tables (api_keys, api_key_events, mqtt_credentials)
 * as both stores read them: the embedded store (sqlite-api-keys.ts,
 * sqlite-device-credentials.ts) and PostgreSQL (postgres/pg-access.ts) keep
 * the same columns, so the column lists and the mappers to the records the
 * API sees are defined here once. Times are epoch milliseconds in both.
 */
export const KEY_COLUMNS = 'id, name, role, created_at, created_by, last_used_at, revoked_at, revoked_by';
export const KEY_EVENT_COLUMNS = 'id, key_id, action, actor, at, key_name, role';
export const CREDENTIAL_COLUMNS = 'id, username, role, secret_sha256, issued_at, revoked_at';

export interface KeyRow {
  id: number;
  name: string;
  role: string;
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  revoked_at: number | null;
  revoked_by: string | null;
}

export interface KeyEventRow {
  id: number;
  key_id: number;
  action: ApiKeyAction;
  actor: string;
  at: number;
  key_name: string;
  role: string;
}

export interface CredentialRow {
  id: number;
  username: string;
  role: MqttPrincipalRole;
  secret_sha256: Uint8Array;
  issued_at: number;
  revoked_at: number | null;
}

export function toKey(r: KeyRow): ApiKeyRecord {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    createdAtMs: r.created_at,
    createdBy: r.created_by,
    lastUsedAtMs: r.last_used_at,
    revokedAtMs: r.revoked_at,
    revokedBy: r.revoked_by,
  };
}

export function toKeyEvent(r: KeyEventRow): ApiKeyEvent {
  return { id: r.id, keyId: r.key_id, action: r.action, actor: r.actor, atMs: r.at, keyName: r.key_name, role: r.role };
}

/** The hash is copied out of the driver's Buffer, so the record does not pin the row's memory. */
export function toCredential(r: CredentialRow): MqttCredential {
  return { id: r.id, username: r.username, role: r.role, secretSha256: new Uint8Array(r.secret_sha256), issuedAtMs: r.issued_at, revokedAtMs: r.revoked_at };
}
