import { TOPIC_ROOT, type DeviceKind } from '../contracts/index.ts';
import type { DeviceCredentialStore } from '../store/device-credentials.ts';
import { MQTT_SERVICE_USERNAME, hashMqttSecret, mqttSecretMatches } from './mqtt-credentials.ts';

/**
 * Who a connection is, once CONNECT is accepted:
 * - device: publishes under its own id only (its kind's collection);
 * - gateway: publishes for the devices the registry routes through it;
 * - service: Suido's own processes (the alert relay) and operators' tools:
 *   publish alerts, subscribe to anything;
 * - anonymous: only with MQTT_ALLOW_ANONYMOUS=true (development): anything.
 */
export type MqttPrincipal =
  | { readonly role: 'device'; readonly username: string; readonly deviceKind: DeviceKind; readonly credentialId: number }
  | { readonly role: 'gateway'; readonly username: string; readonly credentialId: number }
  | { readonly role: 'service'; readonly username: string }
  | { readonly role: 'anonymous' };

/** Why the broker refused a connection, a publish or a subscription. Stable: metrics and logs key on them. */
export const MQTT_REFUSAL_CODES = [
  'MQTT_ANONYMOUS_REFUSED',
  // No live credential for the username: never issued, or revoked.
  'MQTT_CREDENTIAL_UNKNOWN',
  'MQTT_SECRET_WRONG',
  'MQTT_AUTH_UNAVAILABLE',
  // A connected client whose credential was revoked or rotated since it connected.
  'MQTT_CREDENTIAL_REVOKED',
  'MQTT_TOPIC_NOT_OWN_DEVICE',
  'MQTT_TOPIC_NOT_ALLOWED',
  'MQTT_SUBSCRIBE_NOT_ALLOWED',
] as const;
export type MqttRefusalCode = (typeof MQTT_REFUSAL_CODES)[number];

/** MQTT 3.1.1 CONNACK return codes (table 3.1). */
export const CONNACK = { serverUnavailable: 3, badUsernameOrPassword: 4, notAuthorized: 5 } as const;

export type AuthenticationResult =
  | { readonly ok: true; readonly principal: MqttPrincipal }
  | { readonly ok: false; readonly code: MqttRefusalCode; readonly connackCode: number };

export interface MqttAccessOptions {
  readonly credentials: Pick<DeviceCredentialStore, 'liveMqttCredential' | 'deviceRoute'>;
  readonly allowAnonymous: boolean;
  /** The service principal's password (MQTT_SERVICE_PASSWORD); undefined: no service may connect. */
  readonly servicePassword?: string | undefined;
}

const COLLECTION_KINDS: Readonly<Record<string, DeviceKind>> = { meters: 'meter', sensors: 'sensor' };
const ALERTS_PREFIX = `${TOPIC_ROOT}/alerts/`;

/**
 * The broker's access policy, apart from aedes so that each rule is a plain
 * function of (principal, topic). The device ACL is what makes a topic's
 * device id authoritative (contracts/topics.ts): without it any client could
 * write any meter's register.
 */
export class MqttAccess {
  private readonly opts: MqttAccessOptions;
  private readonly serviceSecretSha256: Uint8Array | undefined;

  constructor(opts: MqttAccessOptions) {
    this.opts = opts;
    // Hashed once so that a check compares fixed-length digests in constant time.
    this.serviceSecretSha256 = opts.servicePassword === undefined ? undefined : hashMqttSecret(opts.servicePassword);
  }

  async authenticate(username: string | undefined, password: Uint8Array | undefined): Promise<AuthenticationResult> {
    if (username === undefined || username === '') {
      return this.opts.allowAnonymous
        ? { ok: true, principal: { role: 'anonymous' } }
        : { ok: false, code: 'MQTT_ANONYMOUS_REFUSED', connackCode: CONNACK.notAuthorized };
    }
    // Unknown, revoked and wrong secret all answer "bad username or password",
    // so a caller cannot learn which usernames exist.
    const bad = (code: MqttRefusalCode): AuthenticationResult => ({ ok: false, code, connackCode: CONNACK.badUsernameOrPassword });
    if (username === MQTT_SERVICE_USERNAME) {
      if (!this.serviceSecretSha256) return bad('MQTT_CREDENTIAL_UNKNOWN');
      return mqttSecretMatches(password, this.serviceSecretSha256) ? { ok: true, principal: { role: 'service', username } } : bad('MQTT_SECRET_WRONG');
    }
    try {
      const credential = await this.opts.credentials.liveMqttCredential(username);
      if (!credential) return bad('MQTT_CREDENTIAL_UNKNOWN');
      if (!mqttSecretMatches(password, credential.secretSha256)) return bad('MQTT_SECRET_WRONG');
      if (credential.role === 'gateway') return { ok: true, principal: { role: 'gateway', username, credentialId: credential.id } };
      const route = await this.opts.credentials.deviceRoute(username);
      if (!route) return bad('MQTT_CREDENTIAL_UNKNOWN');
      return { ok: true, principal: { role: 'device', username, deviceKind: route.kind, credentialId: credential.id } };
    } catch {
      // The store is down: "try later", not "your password is wrong".
      return { ok: false, code: 'MQTT_AUTH_UNAVAILABLE', connackCode: CONNACK.serverUnavailable };
    }
  }

  /** Undefined when the principal may publish on the topic. Rejects when the store cannot answer (the broker then drops the connection unacknowledged). */
  async publishRefusal(principal: MqttPrincipal, topic: string): Promise<MqttRefusalCode | undefined> {
    // aedes reserves $SYS for itself; its default hook refuses it and ours replaces that hook.
    if (topic.startsWith('$SYS')) return 'MQTT_TOPIC_NOT_ALLOWED';
    switch (principal.role) {
      case 'anonymous':
        return undefined;
      case 'service':
        return topic.startsWith(ALERTS_PREFIX) ? undefined : 'MQTT_TOPIC_NOT_ALLOWED';
      case 'device':
      case 'gateway': {
        const target = deviceOf(topic);
        if (!target) return 'MQTT_TOPIC_NOT_ALLOWED';
        if (principal.role === 'device') {
          return target.id === principal.username && target.kind === principal.deviceKind ? undefined : 'MQTT_TOPIC_NOT_OWN_DEVICE';
        }
        const route = await this.opts.credentials.deviceRoute(target.id);
        return route?.gatewayId === principal.username && route.kind === target.kind ? undefined : 'MQTT_TOPIC_NOT_OWN_DEVICE';
      }
    }
  }

  /** Devices and gateways have nothing to subscribe to (no command topics yet); services and anonymous development clients may subscribe to anything. */
  subscribeRefusal(principal: MqttPrincipal, _topicFilter: string): MqttRefusalCode | undefined {
    return principal.role === 'service' || principal.role === 'anonymous' ? undefined : 'MQTT_SUBSCRIBE_NOT_ALLOWED';
  }

  /** Whether a connected principal's credential is still the live one (not revoked, not rotated). */
  async stillValid(principal: MqttPrincipal): Promise<boolean> {
    if (principal.role !== 'device' && principal.role !== 'gateway') return true;
    const live = await this.opts.credentials.liveMqttCredential(principal.username);
    return live?.id === principal.credentialId;
  }
}

/** The device a device topic speaks for: `water/v1/{meters|sensors}/{id}/…`; undefined for any other topic. */
function deviceOf(topic: string): { kind: DeviceKind; id: string } | undefined {
  const parts = topic.split('/', 5);
  if (parts.length < 4 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) return undefined;
  const kind = COLLECTION_KINDS[parts[2]!];
  return kind ? { kind, id: parts[3]! } : undefined;
}
