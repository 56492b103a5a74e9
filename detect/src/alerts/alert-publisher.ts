import { TOPIC_ROOT, type Alert, type AlertEvent } from '@suido/ingest';

/**
 * Where alert events go after the store has recorded them. `publish`
 * resolves once the event is delivered (MQTT: PUBACK at QoS 1) and rejects
 * otherwise; the relay then retries from the store's event table, so a
 * publisher needs no buffer of its own.
 */
export interface AlertPublisher {
  publish(event: AlertEvent): Promise<void>;
  close(): Promise<void>;
}

/** `water/v1/alerts/{kind}/{sourceId}`: subscribe to `water/v1/alerts/#`, or `water/v1/alerts/leak/+`. */
export function alertTopic(kind: string, sourceId: string): string {
  return `${TOPIC_ROOT}/alerts/${kind}/${sourceId}`;
}

/** Times as ISO 8601 UTC, as the HTTP API writes them. */
export interface AlertMessage {
  /** The event's id in the store: at-least-once delivery, so subscribers drop ids they have seen. */
  readonly eventId: number;
  readonly action: AlertEvent['action'];
  readonly actor: AlertEvent['actor'];
  readonly at: string;
  readonly recordedAt: string;
  /** What this change added (score, resolution, note...). */
  readonly details: AlertEvent['details'];
  /** The alert as this change left it. */
  readonly alert: AlertMessageAlert;
}

export interface AlertMessageAlert {
  readonly id: number;
  readonly kind: string;
  readonly sourceKind: Alert['sourceKind'];
  readonly sourceId: string;
  readonly state: Alert['state'];
  readonly raisedAt: string;
  readonly lastSeenAt: string;
  readonly clearedAt: string | null;
  readonly acknowledgedAt: string | null;
  readonly acknowledgedBy: string | null;
  readonly resolvedAt: string | null;
  readonly resolvedBy: string | null;
  readonly resolution: Alert['resolution'];
  readonly peakScore: number | null;
  readonly details: Alert['details'];
  readonly version: number;
}

export function alertMessage(event: AlertEvent): AlertMessage {
  return {
    eventId: event.id,
    action: event.action,
    actor: event.actor,
    at: iso(event.atMs),
    recordedAt: iso(event.recordedAtMs),
    details: event.details,
    alert: alertJson(event.alert),
  };
}

/** An alert as JSON, times in ISO 8601 UTC: the one shape MQTT, the API and SSE all send. */
export function alertJson(a: Alert): AlertMessageAlert {
  return {
    id: a.id,
    kind: a.kind,
    sourceKind: a.sourceKind,
    sourceId: a.sourceId,
    state: a.state,
    raisedAt: iso(a.raisedAtMs),
    lastSeenAt: iso(a.lastSeenAtMs),
    clearedAt: isoOrNull(a.clearedAtMs),
    acknowledgedAt: isoOrNull(a.acknowledgedAtMs),
    acknowledgedBy: a.acknowledgedBy,
    resolvedAt: isoOrNull(a.resolvedAtMs),
    resolvedBy: a.resolvedBy,
    resolution: a.resolution,
    peakScore: a.peakScore,
    details: a.details,
    version: a.version,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}
