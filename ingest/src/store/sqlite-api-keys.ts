import type Database from 'better-sqlite3';
import { KEY_COLUMNS, KEY_EVENT_COLUMNS, toKey, toKeyEvent, type KeyEventRow, type KeyRow } from './access-rows.ts';
import type { ApiKeyAction, ApiKeyEvent, ApiKeyRecord, NewApiKey } from './api-key-store.ts';

/**
 * The API-key tables. Revoked keys stay (with who and when) so that an audit
 * history naming `key:<id>:<name>` can always be traced to its key. The
 * secret hash is unique: a lookup per request is one index descent.
 */
export const API_KEYS_MIGRATION = `
  CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at INTEGER,
    revoked_at INTEGER,
    revoked_by TEXT
  );
  CREATE TABLE api_key_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_id INTEGER NOT NULL REFERENCES api_keys (id),
    action TEXT NOT NULL CHECK (action IN ('created', 'revoked')),
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    key_name TEXT NOT NULL,
    role TEXT NOT NULL
  );`;

/** ApiKeyStore over a migrated SQLite handle; SqliteStore delegates to it. */
export class SqliteApiKeys {
  readonly #db: Database.Database;
  readonly #stmt: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#stmt = prepare(db);
  }

  create(key: NewApiKey): ApiKeyRecord {
    return this.#db
      .transaction((): ApiKeyRecord => {
        const info = this.#stmt.insert.run(key.name, key.role, key.secretHash, key.createdAtMs, key.createdBy);
        const record = toKey(this.#stmt.byId.get(info.lastInsertRowid) as KeyRow);
        this.#event(record, 'created', key.createdBy, key.createdAtMs);
        return record;
      })
      .immediate();
  }

  byHash(secretHash: string): ApiKeyRecord | undefined {
    const row = this.#stmt.byHash.get(secretHash) as KeyRow | undefined;
    return row && toKey(row);
  }

  list(): ApiKeyRecord[] {
    return (this.#stmt.list.all() as KeyRow[]).map(toKey);
  }

  revoke(id: number, by: string, atMs: number): { key: ApiKeyRecord; revokedNow: boolean } | undefined {
    return this.#db
      .transaction(() => {
        const revokedNow = this.#stmt.revoke.run(atMs, by, id).changes === 1;
        const row = this.#stmt.byId.get(id) as KeyRow | undefined;
        if (!row) return undefined;
        const key = toKey(row);
        if (revokedNow) this.#event(key, 'revoked', by, atMs);
        return { key, revokedNow };
      })
      .immediate();
  }

  touch(id: number, atMs: number): void {
    this.#stmt.touch.run(atMs, id);
  }

  events(afterId: number, limit: number): ApiKeyEvent[] {
    return (this.#stmt.events.all(afterId, limit) as KeyEventRow[]).map(toKeyEvent);
  }

  #event(key: ApiKeyRecord, action: ApiKeyAction, actor: string, atMs: number): void {
    this.#stmt.insertEvent.run(key.id, action, actor, atMs, key.name, key.role);
  }
}

function prepare(db: Database.Database) {
  return {
    insert: db.prepare('INSERT INTO api_keys (name, role, secret_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?)'),
    byId: db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`),
    byHash: db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE secret_hash = ?`),
    list: db.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY id`),
    revoke: db.prepare('UPDATE api_keys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL'),
    touch: db.prepare('UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?'),
    insertEvent: db.prepare('INSERT INTO api_key_events (key_id, action, actor, at, key_name, role) VALUES (?, ?, ?, ?, ?, ?)'),
    events: db.prepare(`SELECT ${KEY_EVENT_COLUMNS} FROM api_key_events WHERE id > ? ORDER BY id LIMIT ?`),
  };
}
