import type Database from 'better-sqlite3';
import type { DeviceKind } from '../contracts/index.ts';
import { CREDENTIAL_COLUMNS, toCredential, type CredentialRow } from './access-rows.ts';
import type { DeviceCredentialStore, DeviceRoute, MqttCredential, MqttCredentialQuery, NewMqttCredential } from './device-credentials.ts';

/**
 * Registry columns the ACL and the import need (the main a sensor is on; the
 * gateway that may speak for a device) and the credentials table. Appended
 * to sqlite-store.ts's MIGRATIONS.
 */
export const DEVICE_CREDENTIALS_MIGRATION = `ALTER TABLE devices ADD COLUMN pipe_id TEXT;
   ALTER TABLE devices ADD COLUMN gateway_id TEXT;
   CREATE TABLE mqtt_credentials (
     id INTEGER PRIMARY KEY,
     username TEXT NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('device', 'gateway')),
     secret_sha256 BLOB NOT NULL CHECK (length(secret_sha256) = 32),
     issued_at INTEGER NOT NULL,
     revoked_at INTEGER
   );
   CREATE UNIQUE INDEX mqtt_credentials_live ON mqtt_credentials (username) WHERE revoked_at IS NULL;`;

/**
 * The `mqtt_credentials` table: every
 * credential ever issued, live or revoked, so the table is also the audit of
 * who could connect when. A partial unique index keeps one live row per
 * username.
 */
export class SqliteDeviceCredentials implements DeviceCredentialStore {
  private readonly db: Database.Database;
  private readonly stmt: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.db = db;
    this.stmt = prepare(db);
  }

  async issueMqttCredential(c: NewMqttCredential): Promise<MqttCredential> {
    return this.db.transaction((): MqttCredential => {
      this.stmt.revoke.run(c.issuedAtMs, c.username);
      const { lastInsertRowid } = this.stmt.insert.run(c.username, c.role, Buffer.from(c.secretSha256), c.issuedAtMs);
      return { ...c, id: Number(lastInsertRowid), revokedAtMs: null };
    }).immediate();
  }

  async liveMqttCredential(username: string): Promise<MqttCredential | undefined> {
    const row = this.stmt.live.get(username) as CredentialRow | undefined;
    return row && toCredential(row);
  }

  async revokeMqttCredential(username: string, atMs: number): Promise<boolean> {
    return this.stmt.revoke.run(atMs, username).changes > 0;
  }

  async listMqttCredentials(q: MqttCredentialQuery): Promise<MqttCredential[]> {
    const rows = this.stmt.list.all({ after: q.afterUsername ?? null, all: q.includeRevoked ? 1 : 0, limit: q.limit }) as CredentialRow[];
    return rows.map(toCredential);
  }

  async deviceRoute(deviceId: string): Promise<DeviceRoute | undefined> {
    const row = this.stmt.route.get(deviceId) as { kind: DeviceKind; gateway_id: string | null } | undefined;
    return row && { kind: row.kind, gatewayId: row.gateway_id };
  }
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare('INSERT INTO mqtt_credentials (username, role, secret_sha256, issued_at) VALUES (?, ?, ?, ?)'),
    revoke: db.prepare('UPDATE mqtt_credentials SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL'),
    live: db.prepare(`SELECT ${CREDENTIAL_COLUMNS} FROM mqtt_credentials WHERE username = ? AND revoked_at IS NULL`),
    list: db.prepare(
      `SELECT ${CREDENTIAL_COLUMNS} FROM mqtt_credentials
       WHERE (:after IS NULL OR username > :after) AND (:all = 1 OR revoked_at IS NULL)
       ORDER BY username, id LIMIT :limit`,
    ),
    route: db.prepare('SELECT kind, gateway_id FROM devices WHERE id = ?'),
  };
}
