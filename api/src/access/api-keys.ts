import { createHash, randomBytes } from 'node:crypto';
import type { ApiKeyRecord, ApiKeyStore } from '@suido/ingest';
import { ROLES, type Role } from './roles.ts';

/**
 * An API key is `sk_<role>_<secret>`: 32 random bytes (256 bits) in
 * base64url. The role in the prefix only helps people and secret scanners
 * recognise a key; the role that counts is the one stored with it.
 */
const SECRET_BYTES = 32;
const KEY_FORMAT = new RegExp(`^sk_(${ROLES.join('|')})_[A-Za-z0-9_-]{43}$`);

/** A key's name: what it is for ("billing-sap", "crew-3-tablet"); it appears in audit records as `key:<id>:<name>`. */
export const KEY_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** Whether a presented credential can be a key at all (checked before any store lookup). */
export function isWellFormedKey(key: string): boolean {
  return KEY_FORMAT.test(key);
}

/**
 * SHA-256, unsalted and fast, is enough here and a password hash (bcrypt,
 * scrypt) would not add anything: those slow down guessing of low-entropy
 * secrets that people choose, while a key's 256 random bits cannot be
 * guessed at any speed. A fast hash keeps the per-request lookup cheap, and
 * being deterministic, it is the lookup index itself.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function generateApiKey(role: Role): string {
  return `sk_${role}_${randomBytes(SECRET_BYTES).toString('base64url')}`;
}

/** The identity recorded for what a key does (alert audit, logs): `key:<id>:<name>`. */
export function keyIdentity(key: Pick<ApiKeyRecord, 'id' | 'name'>): string {
  return `key:${key.id}:${key.name}`;
}

export interface IssuedApiKey {
  /** The whole key: shown once to whoever asked for it, never stored. */
  readonly key: string;
  readonly record: ApiKeyRecord;
}

export class ApiKeyInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiKeyInputError';
  }
}

/** Creates a key in the store (hash only) with its audit record, and returns it once. */
export async function issueApiKey(
  store: ApiKeyStore,
  request: { readonly role: string; readonly name: string; readonly by: string; readonly atMs?: number },
): Promise<IssuedApiKey> {
  if (!isRole(request.role)) throw new ApiKeyInputError(`role '${request.role}' must be one of ${ROLES.join(', ')}`);
  if (!KEY_NAME.test(request.name)) throw new ApiKeyInputError(`name '${request.name}' must be 1-64 of A-Z a-z 0-9 . _ @ -`);
  const key = generateApiKey(request.role);
  const record = await store.createApiKey({
    name: request.name,
    role: request.role,
    secretHash: hashApiKey(key),
    createdAtMs: request.atMs ?? Date.now(),
    createdBy: request.by,
  });
  return { key, record };
}
