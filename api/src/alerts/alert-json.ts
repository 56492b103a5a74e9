import { ALERT_ACTIONS, ALERT_RESOLUTIONS, ALERT_STATES, type AlertEvent, type DeviceRecord, type LeakScore } from '@suido/ingest';
import Type from 'typebox';
export { alertJson, alertMessage } from '@suido/detect';
import { iso } from '../time-params.ts';

/**
 * Alerts as the API writes them: times in ISO 8601 UTC, the same shape as the
 * MQTT alert messages (detect's alert-publisher), so a crew app parses one
 * alert type whichever way it arrived.
 */
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

/** Free-form evidence (scores, thresholds, notes): any JSON object. */
const Details = Type.Object({}, { additionalProperties: true });

export const AlertJson = Type.Object({
  id: Type.Integer(),
  kind: Type.String({ description: 'the condition: leak, continuous_flow, reverse_flow, tamper, burst, stuck_meter' }),
  sourceKind: Type.Union([Type.Literal('meter'), Type.Literal('sensor')]),
  sourceId: Type.String(),
  state: Type.Enum(ALERT_STATES),
  raisedAt: Type.String({ description: 'data time the condition was confirmed' }),
  lastSeenAt: Type.String({ description: 'data time the condition was last seen' }),
  clearedAt: Nullable(Type.String()),
  acknowledgedAt: Nullable(Type.String()),
  acknowledgedBy: Nullable(Type.String()),
  resolvedAt: Nullable(Type.String()),
  resolvedBy: Nullable(Type.String()),
  resolution: Nullable(Type.Enum(ALERT_RESOLUTIONS)),
  peakScore: Nullable(Type.Number()),
  details: Details,
  version: Type.Integer({ description: 'send back as If-Match: "<version>" to acknowledge or resolve' }),
});

/** Where the source is, from the registry: what a crew needs to find it. */
export const SourceJson = Nullable(
  Type.Object({
    district: Nullable(Type.String()),
    lat: Nullable(Type.Number()),
    lon: Nullable(Type.Number()),
    pipeMaterial: Nullable(Type.String()),
    pipeId: Nullable(Type.String({ description: "the main a sensor listens to (the bureau's asset id)" })),
    chainageM: Nullable(Type.Number({ description: "where along that main the sensor sits, m from the main's start: a crew correlating two fittings measures their spacing from it" })),
    site: Nullable(Type.String({ description: "what surrounds a sensor, from the registry: near_prv and near_pump mean a valve's or a pump's hiss is near" })),
  }),
);

export const AlertWithSourceJson = Type.Object({ ...AlertJson.properties, source: SourceJson });

/** One audited change: who, what, when. */
export const AlertEventJson = Type.Object({
  eventId: Type.Integer(),
  action: Type.Enum(ALERT_ACTIONS),
  actor: Type.String({ description: "'detector', 'meter-rules' or 'user:{id}'" }),
  at: Type.String({ description: 'when it happened: data time for detectors, the request time for users' }),
  recordedAt: Type.String(),
  details: Details,
  version: Type.Integer({ description: 'the alert version this change left' }),
});

export const ScoreJson = Type.Object({
  windowStart: Type.String(),
  windowEnd: Type.String(),
  score: Type.Number({ description: '0 (no leak) to 1 (leak)' }),
  modelVersion: Type.String(),
});


export function sourceJson(d: DeviceRecord | undefined) {
  return d ? { district: d.district, lat: d.lat, lon: d.lon, pipeMaterial: d.pipeMaterial, pipeId: d.pipeId, chainageM: d.chainageM, site: d.site } : null;
}

export function alertEventJson(e: AlertEvent) {
  return {
    eventId: e.id,
    action: e.action,
    actor: e.actor,
    at: iso(e.atMs),
    recordedAt: iso(e.recordedAtMs),
    details: e.details,
    version: e.alert.version,
  };
}

export const scoreJson = (s: LeakScore) => ({ windowStart: iso(s.windowStartMs), windowEnd: iso(s.windowEndMs), score: s.score, modelVersion: s.modelVersion });
