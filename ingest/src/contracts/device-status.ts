import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { accept, reject, type Decoded } from './rejection.ts';
import { parseIsoTimestamp, timestampProblem, type DecodeLimits } from './limits.ts';
import { parseJsonPayload } from './json-payload.ts';
import type { DeviceKind } from './topics.ts';

/** Payload of `water/v1/{meters|sensors}/{id}/status`: a heartbeat with health. */
export const DeviceStatusPayload = Type.Object(
  {
    ts: Type.String({ description: 'ISO 8601 with offset' }),
    batteryPct: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    firmware: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    rssiDbm: Type.Optional(Type.Number({ minimum: -200, maximum: 0 })),
    uptimeS: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type DeviceStatusPayload = Static<typeof DeviceStatusPayload>;
export const deviceStatusJsonSchema: unknown = DeviceStatusPayload;

const checkStatus = Compile(DeviceStatusPayload);

export interface DeviceStatus {
  readonly deviceId: string;
  readonly deviceKind: DeviceKind;
  readonly ts: number;
  readonly batteryPct?: number | undefined;
  readonly firmware?: string | undefined;
  readonly rssiDbm?: number | undefined;
  readonly uptimeS?: number | undefined;
}

export function decodeDeviceStatus(
  payload: Uint8Array,
  deviceKind: DeviceKind,
  deviceId: string,
  nowMs: number,
  limits: DecodeLimits,
): Decoded<DeviceStatus> {
  // A heartbeat is tiny; anything large is a device bug, not a status.
  const parsed = parseJsonPayload(payload, Math.min(limits.maxPayloadBytes, 4096), 'STATUS_JSON_INVALID');
  if (!parsed.ok) return parsed;
  const value = parsed.value;
  if (!checkStatus.Check(value)) {
    const first = checkStatus.Errors(value)[0];
    return reject('STATUS_SHAPE_INVALID', `${first?.instancePath || 'payload'}: ${first?.message ?? 'does not match the status schema'}`);
  }
  const ts = parseIsoTimestamp(value.ts);
  if (ts === undefined) return reject('STATUS_TS_INVALID', `/ts: '${value.ts.slice(0, 40)}' is not ISO 8601 with offset`);
  const problem = timestampProblem(ts, nowMs, limits);
  if (problem === 'future') return reject('STATUS_TS_FUTURE', `/ts: ${value.ts} is ahead of the server clock`);
  if (problem === 'old') return reject('STATUS_TS_TOO_OLD', `/ts: ${value.ts} is older than the accepted age`);
  return accept({
    deviceId,
    deviceKind,
    ts,
    batteryPct: value.batteryPct,
    firmware: value.firmware,
    rssiDbm: value.rssiDbm,
    uptimeS: value.uptimeS,
  });
}

export function encodeDeviceStatus(status: Omit<DeviceStatus, 'deviceId' | 'deviceKind' | 'ts'> & { ts: number }): Buffer {
  const body: DeviceStatusPayload = { ...status, ts: new Date(status.ts).toISOString() };
  for (const key of Object.keys(body) as (keyof DeviceStatusPayload)[]) if (body[key] === undefined) delete body[key];
  return Buffer.from(JSON.stringify(body));
}
