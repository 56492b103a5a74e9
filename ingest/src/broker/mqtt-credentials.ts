import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isValidDeviceId } from '../contracts/index.ts';
import type { DeviceCredentialStore, MqttCredential, MqttPrincipalRole } from '../store/device-credentials.ts';

/**
 * The service principal's MQTT username. The ':' keeps it outside the device
 * id syntax, so no device or gateway can ever be issued the same name.
 */
export const MQTT_SERVICE_USERNAME = 'suido:service';

/** 256 random bits: no list of guesses gets anywhere near it. */
const SECRET_BYTES = 32;

/**
 * A new secret, base64url (43 characters, safe in a CSV cell, a shell
 * variable or a device's configuration file).
 */
export function newMqttSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/**
 * SHA-256, not scrypt: the secrets are 256 random bits made by us, never
 * chosen by a person, so a stolen hash cannot be reversed by guessing and a
 * slow hash would add no protection. It would cost a lot, though: battery
 * meters open a connection per session (600,000 a day, and all at once after
 * a broker restart), and scrypt's ~50 ms of CPU per check would make each
 * reconnect wave hours of work. A configured service password is hashed the
 * same way; it must be long (MQTT_SERVICE_PASSWORD, 24 characters or more).
 */
export function hashMqttSecret(secret: string | Uint8Array): Uint8Array {
  return createHash('sha256').update(secret).digest();
}

/** Constant-time comparison of a presented password with a stored hash. */
export function mqttSecretMatches(password: Uint8Array | undefined, secretSha256: Uint8Array): boolean {
  if (password === undefined || password.length === 0) return false;
  return timingSafeEqual(hashMqttSecret(password), secretSha256);
}

export const CREDENTIAL_ERROR_CODES = ['CREDENTIAL_USERNAME_INVALID', 'DEVICE_NOT_REGISTERED', 'GATEWAY_ID_IS_DEVICE', 'CREDENTIAL_NOT_FOUND'] as const;
export type CredentialErrorCode = (typeof CREDENTIAL_ERROR_CODES)[number];

export class CredentialError extends Error {
  readonly code: CredentialErrorCode;
  constructor(code: CredentialErrorCode, message: string) {
    super(message);
    this.name = 'CredentialError';
    this.code = code;
  }
}

export interface IssuedMqttCredential {
  readonly credential: MqttCredential;
  /** Shown once to whoever issued it; only its hash is kept. */
  readonly secret: string;
}

/**
 * Issues (or rotates) the credential of a device or gateway. A device must be
 * in the registry, because its kind decides which topics are its; a gateway
 * must not share an id with a device, or "username = device id" would be
 * ambiguous.
 */
export async function issueMqttCredential(
  store: Pick<DeviceCredentialStore, 'issueMqttCredential' | 'deviceRoute'>,
  username: string,
  role: MqttPrincipalRole,
  nowMs: number = Date.now(),
): Promise<IssuedMqttCredential> {
  if (!isValidDeviceId(username)) {
    throw new CredentialError('CREDENTIAL_USERNAME_INVALID', `'${username}' is not a valid id: 1-64 of [A-Za-z0-9._-], starting with a letter or digit`);
  }
  const route = await store.deviceRoute(username);
  if (role === 'device' && !route) {
    throw new CredentialError('DEVICE_NOT_REGISTERED', `device '${username}' is not in the registry; import it first (registry import)`);
  }
  if (role === 'gateway' && route) {
    throw new CredentialError('GATEWAY_ID_IS_DEVICE', `'${username}' is a registered ${route.kind}; a gateway needs an id of its own`);
  }
  const secret = newMqttSecret();
  const credential = await store.issueMqttCredential({ username, role, secretSha256: hashMqttSecret(secret), issuedAtMs: nowMs });
  return { credential, secret };
}
