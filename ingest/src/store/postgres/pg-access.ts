import type pg from 'pg';
import type { DeviceKind } from '../../contracts/index.ts';
import { CREDENTIAL_COLUMNS, KEY_COLUMNS, KEY_EVENT_COLUMNS, toCredential, toKey, toKeyEvent, type CredentialRow, type KeyEventRow, type KeyRow } from '../access-rows.ts';
import type { ApiKeyAction, ApiKeyEvent, ApiKeyRecord, NewApiKey } from '../api-key-store.ts';
import type { DeviceRoute, MqttCredential, MqttCredentialQuery, NewMqttCredential } from '../device-credentials.ts';
import { q, transaction } from './pg-pool.ts';

/** Second key space of Suido's advisory locks: one MQTT username's credentials ('SUDU'). */
const USERNAME_LOCK_CLASS = 1398099285;

/**
 * API keys and MQTT credentials (ApiKeyStore, DeviceCredentialStore) in
 * PostgreSQL; PostgresStore delegates to it once its schema is migrated.
 * The same tables and rules as the embedded store (sqlite-api-keys.ts,
 * sqlite-device-credentials.ts): only hashes are stored; revoked keys and
 * credentials stay for the audit.
 */
export class PgAccess {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** The key and its `created` event in one transaction; a second key with the same hash violates the unique index. */
  async createApiKey(key: NewApiKey): Promise<ApiKeyRecord> {
    return transaction(this.#pool, async (c) => {
      const [row] = await q<KeyRow>(
        c,
        'pg-create-api-key',
        `INSERT INTO api_keys (name, role, secret_hash, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING ${KEY_COLUMNS}`,
        [key.name, key.role, key.secretHash, key.createdAtMs, key.createdBy],
      );
      const record = toKey(row!);
      await keyEvent(c, record, 'created', key.createdBy, key.createdAtMs);
      return record;
    });
  }

  async apiKeyByHash(secretHash: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await q<KeyRow>(this.#pool, 'pg-api-key-by-hash', `SELECT ${KEY_COLUMNS} FROM api_keys WHERE secret_hash = $1`, [secretHash]);
    return row && toKey(row);
  }

  async listApiKeys(): Promise<ApiKeyRecord[]> {
    return (await q<KeyRow>(this.#pool, 'pg-list-api-keys', `SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY id`)).map(toKey);
  }

  /** The first revocation stands: the UPDATE matches only a live key, so of two concurrent revocations one records the event. */
  async revokeApiKey(id: number, by: string, atMs: number): Promise<{ key: ApiKeyRecord; revokedNow: boolean } | undefined> {
    if (!Number.isSafeInteger(id)) return undefined;
    return transaction(this.#pool, async (c) => {
      const revoked = await q<KeyRow>(c, 'pg-revoke-api-key', `UPDATE api_keys SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL RETURNING ${KEY_COLUMNS}`, [
        atMs,
        by,
        id,
      ]);
      if (revoked[0]) {
        const key = toKey(revoked[0]);
        await keyEvent(c, key, 'revoked', by, atMs);
        return { key, revokedNow: true };
      }
      const [row] = await q<KeyRow>(c, 'pg-api-key-by-id', `SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
      return row && { key: toKey(row), revokedNow: false };
    });
  }

  async touchApiKey(id: number, atMs: number): Promise<void> {
    await q(this.#pool, 'pg-touch-api-key', 'UPDATE api_keys SET last_used_at = greatest(last_used_at, $1) WHERE id = $2', [atMs, id]);
  }

  async apiKeyEvents(afterId: number, limit: number): Promise<ApiKeyEvent[]> {
    const rows = await q<KeyEventRow>(this.#pool, 'pg-api-key-events', `SELECT ${KEY_EVENT_COLUMNS} FROM api_key_events WHERE id > $1 ORDER BY id LIMIT $2`, [
      afterId,
      limit,
    ]);
    return rows.map(toKeyEvent);
  }

  /**
   * Revokes the username's live credential and records the new one, in one
   * transaction. Two issues for one username at once are serialised by an
   * advisory lock on the username (without it, the second would not see
   * the first's new row and would fail on the one-live-credential index).
   */
  async issueMqttCredential(cred: NewMqttCredential): Promise<MqttCredential> {
    return transaction(this.#pool, async (c) => {
      await q(c, 'pg-lock-username', 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [USERNAME_LOCK_CLASS, cred.username]);
      await q(c, 'pg-revoke-credential', 'UPDATE mqtt_credentials SET revoked_at = $1 WHERE username = $2 AND revoked_at IS NULL', [cred.issuedAtMs, cred.username]);
      const [row] = await q<{ id: number }>(
        c,
        'pg-insert-credential',
        'INSERT INTO mqtt_credentials (username, role, secret_sha256, issued_at) VALUES ($1, $2, $3, $4) RETURNING id',
        [cred.username, cred.role, Buffer.from(cred.secretSha256.buffer, cred.secretSha256.byteOffset, cred.secretSha256.byteLength), cred.issuedAtMs],
      );
      return { ...cred, id: row!.id, revokedAtMs: null };
    });
  }

  async liveMqttCredential(username: string): Promise<MqttCredential | undefined> {
    const [row] = await q<CredentialRow>(this.#pool, 'pg-live-credential', `SELECT ${CREDENTIAL_COLUMNS} FROM mqtt_credentials WHERE username = $1 AND revoked_at IS NULL`, [username]);
    return row && toCredential(row);
  }

  async revokeMqttCredential(username: string, atMs: number): Promise<boolean> {
    const res = await this.#pool.query('UPDATE mqtt_credentials SET revoked_at = $1 WHERE username = $2 AND revoked_at IS NULL', [atMs, username]);
    return (res.rowCount ?? 0) > 0;
  }

  async listMqttCredentials(query: MqttCredentialQuery): Promise<MqttCredential[]> {
    const rows = await q<CredentialRow>(
      this.#pool,
      'pg-list-credentials',
      `SELECT ${CREDENTIAL_COLUMNS} FROM mqtt_credentials WHERE username > $1 AND ($2 OR revoked_at IS NULL) ORDER BY username, id LIMIT $3`,
      [query.afterUsername ?? '', query.includeRevoked === true, query.limit],
    );
    return rows.map(toCredential);
  }

  async deviceRoute(deviceId: string): Promise<DeviceRoute | undefined> {
    const [row] = await q<{ kind: DeviceKind; gateway_id: string | null }>(this.#pool, 'pg-device-route', 'SELECT kind, gateway_id FROM devices WHERE id = $1', [deviceId]);
    return row && { kind: row.kind, gatewayId: row.gateway_id };
  }
}

async function keyEvent(c: pg.PoolClient, key: ApiKeyRecord, action: ApiKeyAction, actor: string, atMs: number): Promise<void> {
  await q(c, 'pg-api-key-event', 'INSERT INTO api_key_events (key_id, action, actor, at, key_name, role) VALUES ($1, $2, $3, $4, $5, $6)', [key.id, action, actor, atMs, key.name, key.role]);
}
