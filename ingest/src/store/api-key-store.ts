/**
 * API keys of the HTTP API (api/src/access): who may call it, in which role,
 * and the audit of who created or revoked which key. Mutable state, so it
 * lives in the transactional store (SQLite embedded; PostgreSQL with the
 * server stores), never in a time-series database.
 *
 * The store never sees a key's secret, only its hash: a copy of the database
 * (a backup, a support bundle) does not let anyone call the API.
 */
export interface ApiKeyStore {
  /** Stores a new key and its `created` audit event in one transaction. */
  createApiKey(key: NewApiKey): Promise<ApiKeyRecord>;
  /** The key whose secret hashes to `secretHash`, revoked or not (the caller decides). */
  apiKeyByHash(secretHash: string): Promise<ApiKeyRecord | undefined>;
  /** Every key ever created, revoked ones too, by id. */
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /**
   * Revokes a key and records who did it, in one transaction. Revoking a
   * revoked key changes nothing (the first revocation stands, no second
   * event); undefined when there is no such key.
   */
  revokeApiKey(id: number, by: string, atMs: number): Promise<{ readonly key: ApiKeyRecord; readonly revokedNow: boolean } | undefined>;
  /**
   * Moves a key's last use forward to `atMs` (never back). Not audited: it
   * is a coarse hint for spotting unused keys, and callers write it at most
   * once in a while per key, not once per request.
   */
  touchApiKey(id: number, atMs: number): Promise<void>;
  /** The audit trail of key administration, oldest first, after an event id. */
  apiKeyEvents(afterId: number, limit: number): Promise<ApiKeyEvent[]>;
}

export interface NewApiKey {
  /** What the key is for, e.g. "billing-sap" or "crew-3-tablet". */
  readonly name: string;
  /** A role the API knows (api/src/access/roles.ts); the store keeps it as text. */
  readonly role: string;
  /** Lower-case hex SHA-256 of the whole key; unique. */
  readonly secretHash: string;
  readonly createdAtMs: number;
  /** Who created it, e.g. `cli:<os user>`. */
  readonly createdBy: string;
}

export interface ApiKeyRecord {
  readonly id: number;
  readonly name: string;
  readonly role: string;
  readonly createdAtMs: number;
  readonly createdBy: string;
  /** Coarse (see touchApiKey); null when never used. */
  readonly lastUsedAtMs: number | null;
  readonly revokedAtMs: number | null;
  readonly revokedBy: string | null;
}

export const API_KEY_ACTIONS = ['created', 'revoked'] as const;
export type ApiKeyAction = (typeof API_KEY_ACTIONS)[number];

export interface ApiKeyEvent {
  readonly id: number;
  readonly keyId: number;
  readonly action: ApiKeyAction;
  readonly actor: string;
  readonly atMs: number;
  /** The key's name and role at the time, so the trail reads on its own. */
  readonly keyName: string;
  readonly role: string;
}
