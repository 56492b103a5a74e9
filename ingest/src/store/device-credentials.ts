import type { DeviceKind } from '../contracts/index.ts';

/**
 * Who may connect to the broker with a stored secret:
 * - device: one meter or sensor; its username is its device id and it may
 *   publish only under that id;
 * - gateway: a head-end system or concentrator that forwards for the devices
 *   the registry routes through it (the registry's `gateway` column).
 * The service principal (detector, operators' tools) is configured, not
 * stored (MQTT_SERVICE_PASSWORD).
 */
export const MQTT_PRINCIPAL_ROLES = ['device', 'gateway'] as const;
export type MqttPrincipalRole = (typeof MQTT_PRINCIPAL_ROLES)[number];

export interface NewMqttCredential {
  /** A device id, or a gateway id (same syntax as device ids). */
  readonly username: string;
  readonly role: MqttPrincipalRole;
  /** SHA-256 of the secret (README: Devices and credentials says why not scrypt). */
  readonly secretSha256: Uint8Array;
  readonly issuedAtMs: number;
}

export interface MqttCredential extends NewMqttCredential {
  readonly id: number;
  /** Null while the credential is live. */
  readonly revokedAtMs: number | null;
}

/** What the ACL needs to know of a device: its kind (which topics are its) and the gateway that may speak for it. */
export interface DeviceRoute {
  readonly kind: DeviceKind;
  readonly gatewayId: string | null;
}

export interface MqttCredentialQuery {
  /** Cursor: usernames strictly after this one. */
  readonly afterUsername?: string | undefined;
  /** Revoked credentials too (the history), not only live ones. */
  readonly includeRevoked?: boolean | undefined;
  readonly limit: number;
}

/**
 * Credentials of the principals that connect to the broker. Mutable state
 * that must not be lost or half-written: it lives in the transactional store
 * (SQLite here, PostgreSQL for a server deployment), never in a time-series
 * store. Secrets are never stored, only their hashes.
 */
export interface DeviceCredentialStore {
  /**
   * Records a new live credential and revokes the one the username had, in
   * one transaction: a principal has at most one live secret, so issuing
   * again is how a secret is rotated.
   */
  issueMqttCredential(credential: NewMqttCredential): Promise<MqttCredential>;
  /** The live credential of a username, if any. */
  liveMqttCredential(username: string): Promise<MqttCredential | undefined>;
  /** Revokes the live credential of a username; false when it had none. */
  revokeMqttCredential(username: string, atMs: number): Promise<boolean>;
  /** Credentials in username order (then oldest first), after a cursor. */
  listMqttCredentials(query: MqttCredentialQuery): Promise<MqttCredential[]>;
  /** The registry's kind and gateway of a device; undefined for a device not in the registry. */
  deviceRoute(deviceId: string): Promise<DeviceRoute | undefined>;
}
