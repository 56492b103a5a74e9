import { reject, accept, type Decoded } from './rejection.ts';

/**
 * Topic layout, version 1. The device id in the topic is authoritative: a
 * payload never names its own device, so a device cannot write under another
 * id once the broker checks that the topic matches its credentials.
 */
export const TOPIC_ROOT = 'water/v1';

export type DeviceKind = 'meter' | 'sensor';

export type TopicKind = 'meter-reads' | 'meter-status' | 'sensor-acoustic' | 'sensor-status';

export interface DeviceTopic {
  readonly kind: TopicKind;
  readonly deviceKind: DeviceKind;
  readonly deviceId: string;
}

/**
 * 1–64 characters of letters, digits, '.', '_' and '-', starting with a letter
 * or digit. Excludes MQTT wildcards and separators ('+', '#', '/') and anything
 * that would need escaping in a URL path, a CSV cell or an InfluxDB tag.
 */
const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function isValidDeviceId(id: string): boolean {
  return DEVICE_ID.test(id);
}

export const topics = {
  meterReads: (meterId: string) => `${TOPIC_ROOT}/meters/${meterId}/reads`,
  meterStatus: (meterId: string) => `${TOPIC_ROOT}/meters/${meterId}/status`,
  sensorAcoustic: (sensorId: string) => `${TOPIC_ROOT}/sensors/${sensorId}/acoustic`,
  sensorStatus: (sensorId: string) => `${TOPIC_ROOT}/sensors/${sensorId}/status`,
  /** Subscription filters that cover every device topic of version 1. */
  allMeters: `${TOPIC_ROOT}/meters/+/+`,
  allSensors: `${TOPIC_ROOT}/sensors/+/+`,
} as const;

// Maps, not object literals: a topic segment is device input, and a lookup
// of "constructor" in a literal finds Object.prototype's (found by fuzzing).
const COLLECTIONS: ReadonlyMap<string, DeviceKind> = new Map([
  ['meters', 'meter'],
  ['sensors', 'sensor'],
]);
const LEAVES: Readonly<Record<DeviceKind, ReadonlyMap<string, TopicKind>>> = {
  meter: new Map([
    ['reads', 'meter-reads'],
    ['status', 'meter-status'],
  ]),
  sensor: new Map([
    ['acoustic', 'sensor-acoustic'],
    ['status', 'sensor-status'],
  ]),
};

export function parseTopic(topic: string): Decoded<DeviceTopic> {
  const parts = topic.split('/');
  if (parts.length !== 5 || `${parts[0]}/${parts[1]}` !== TOPIC_ROOT) {
    return reject('TOPIC_UNKNOWN', `topic is not under ${TOPIC_ROOT}/{meters|sensors}/{id}/{kind}`);
  }
  const deviceKind = COLLECTIONS.get(parts[2]!);
  const kind = deviceKind ? LEAVES[deviceKind].get(parts[4]!) : undefined;
  if (!deviceKind || !kind) {
    return reject('TOPIC_UNKNOWN', `no device topic ${TOPIC_ROOT}/${parts[2]}/{id}/${parts[4]}`);
  }
  const deviceId = parts[3]!;
  if (!isValidDeviceId(deviceId)) {
    return reject('DEVICE_ID_INVALID', 'device id must be 1-64 of [A-Za-z0-9._-], starting with a letter or digit');
  }
  return accept({ kind, deviceKind, deviceId });
}
