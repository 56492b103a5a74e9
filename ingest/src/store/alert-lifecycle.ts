import type { DeviceKind } from '../contracts/index.ts';

/**
 * The alert lifecycle (DOMAIN.md), one not-resolved alert per (source, kind):
 *
 *   from \ change   raise (detector)       refresh (detector)  clear (detector)  acknowledge (user)  resolve (user)
 *   (none)          open, new alert        -                   -                 -                   -
 *   open            open (updated¹)        open (updated¹)     cleared           acknowledged        resolved
 *   acknowledged    acknowledged (upd.¹)   acknowledged (¹)    cleared           refused             resolved
 *   cleared         reopened: open, or     -                   -                 refused             resolved
 *                   acknowledged if a
 *                   crew had acknowledged
 *   resolved        a NEW alert            -                   -                 refused             refused
 *
 *   ¹ lastSeenAt moves; an `updated` event only when the score beats the peak.
 *
 * - Detectors (the leak engine, the meter rules) `raise`, `refresh` and
 *   `clear`; users `acknowledge` and `resolve`. Nothing leaves `resolved`: a
 *   raise after that opens a new alert.
 * - A raise while open or acknowledged is a re-trigger: it updates lastSeenAt
 *   and, when the score beats the peak, peakScore (event `updated`); never a
 *   second alert. A raise of a cleared alert reopens the same alert (event
 *   `raised`, details.reopened).
 * - `refresh` is a detector saying "still there": it updates an alert that is
 *   open or acknowledged and never creates or reopens one, so an alert a crew
 *   resolved while the condition persists stays resolved until the condition
 *   has ended and comes back.
 * - `version` counts audited changes (one per event). A detector refreshing
 *   lastSeenAt records no event and keeps the version, so a crew's
 *   acknowledge does not lose a race against every new window; a new peak,
 *   a clear or another user's action does bump it, and the crew's stale
 *   action is refused with ALERT_VERSION_CONFLICT.
 *
 * These are plain functions over values, so every store implementation
 * applies the same machine inside its own transaction.
 */
export const ALERT_STATES = ['open', 'acknowledged', 'cleared', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export const ALERT_ACTIONS = ['raised', 'updated', 'cleared', 'acknowledged', 'resolved'] as const;
export type AlertAction = (typeof ALERT_ACTIONS)[number];

/** How a crew closes an alert (DOMAIN.md: repaired, false alarm, customer-side, could not find). */
export const ALERT_RESOLUTIONS = ['repaired', 'false_alarm', 'customer_side', 'not_found'] as const;
export type AlertResolution = (typeof ALERT_RESOLUTIONS)[number];

export const SYSTEM_ACTORS = ['detector', 'meter-rules'] as const;
export type SystemActor = (typeof SYSTEM_ACTORS)[number];
/** A person, by user id; prefixed so that no user can pass for a detector. */
export type UserActor = `user:${string}`;
export type AlertActor = SystemActor | UserActor;

/**
 * An alert kind names the condition (`leak`, `continuous_flow`, ...). It is
 * a segment of the MQTT topic `water/v1/alerts/{kind}/{sourceId}`, hence the
 * syntax: no '/', '+', '#'.
 */
const ALERT_KIND = /^[a-z][a-z0-9_]{0,31}$/;

export function isValidAlertKind(kind: string): boolean {
  return ALERT_KIND.test(kind);
}

/** Free-form evidence (scores, thresholds, litres), JSON. */
export type AlertDetails = Readonly<Record<string, unknown>>;

export interface Alert {
  readonly id: number;
  readonly kind: string;
  readonly sourceKind: DeviceKind;
  readonly sourceId: string;
  readonly state: AlertState;
  /** When the condition was confirmed: the data time (window end, read time), not the wall clock. */
  readonly raisedAtMs: number;
  /** The last time the condition was seen (data time). */
  readonly lastSeenAtMs: number;
  /** Set while cleared (and kept once resolved from cleared); null while active. */
  readonly clearedAtMs: number | null;
  readonly acknowledgedAtMs: number | null;
  /** User id, without the `user:` prefix. */
  readonly acknowledgedBy: string | null;
  readonly resolvedAtMs: number | null;
  readonly resolvedBy: string | null;
  readonly resolution: AlertResolution | null;
  /**
   * The largest score seen while the alert lived: a model score for leaks,
   * the rule's magnitude for meter rules (details.scoreUnit says which); null
   * for conditions without one (tamper).
   */
  readonly peakScore: number | null;
  /** The evidence so far: each event's details merged over the previous ones. */
  readonly details: AlertDetails;
  /** Optimistic concurrency: +1 at every audited change. */
  readonly version: number;
}

export type NewAlert = Omit<Alert, 'id'>;

export interface AlertEvent {
  readonly id: number;
  readonly alertId: number;
  readonly action: AlertAction;
  readonly actor: AlertActor;
  /** When it happened: data time for detectors, the user's time for users. */
  readonly atMs: number;
  /** When the store recorded it (wall clock). */
  readonly recordedAtMs: number;
  readonly details: AlertDetails;
  /** The alert as this change left it. */
  readonly alert: Alert;
}

/** What an alert is about: a condition of one device. */
export interface AlertSubject {
  readonly kind: string;
  readonly sourceKind: DeviceKind;
  readonly sourceId: string;
}

/** A detector's decision about one subject, applied by the store in its transaction. */
export type AlertChange =
  | (AlertSubject & { readonly op: 'raise' | 'refresh'; readonly atMs: number; readonly score: number | null; readonly details?: AlertDetails })
  | (AlertSubject & { readonly op: 'clear'; readonly atMs: number; readonly details?: AlertDetails });

export interface AlertUserAction {
  readonly id: number;
  /** The version the user saw; the action is refused if the alert changed since. */
  readonly expectedVersion: number;
  /** User id (recorded as actor `user:{by}`). */
  readonly by: string;
  readonly atMs: number;
  readonly note?: string | undefined;
}

export const ALERT_ERROR_CODES = ['ALERT_NOT_FOUND', 'ALERT_VERSION_CONFLICT', 'ALERT_TRANSITION_INVALID', 'ALERT_CHANGE_INVALID'] as const;
export type AlertErrorCode = (typeof ALERT_ERROR_CODES)[number];

/**
 * An alert change refused, by stable code. The API (api/src/errors.ts) maps
 * ALERT_NOT_FOUND to 404, ALERT_VERSION_CONFLICT to 412 (If-Match failed)
 * and ALERT_TRANSITION_INVALID to 409, both with the current alert so that
 * the client can show what changed, and ALERT_CHANGE_INVALID to 400.
 */
export class AlertError extends Error {
  readonly code: AlertErrorCode;
  /** The alert as stored now, when there is one. */
  readonly current: Alert | undefined;
  constructor(code: AlertErrorCode, message: string, current?: Alert) {
    super(message);
    this.name = 'AlertError';
    this.code = code;
    this.current = current;
  }
}

/** What a change does: nothing, a new alert, or a new value of the current one (with the event to record, if any). */
export type AlertTransition =
  | { readonly kind: 'none' }
  | { readonly kind: 'insert'; readonly alert: NewAlert; readonly action: 'raised'; readonly eventDetails: AlertDetails }
  | { readonly kind: 'update'; readonly alert: Alert; readonly action: AlertAction | null; readonly eventDetails: AlertDetails };

/** Validates a detector's change at the store's edge. */
export function checkAlertChange(change: AlertChange): void {
  if (!isValidAlertKind(change.kind)) throw new AlertError('ALERT_CHANGE_INVALID', `alert kind '${change.kind}' must match ${ALERT_KIND}`);
  if (change.sourceKind !== 'meter' && change.sourceKind !== 'sensor') throw new AlertError('ALERT_CHANGE_INVALID', `source kind '${String(change.sourceKind)}' is not meter or sensor`);
  if (!Number.isFinite(change.atMs)) throw new AlertError('ALERT_CHANGE_INVALID', 'atMs must be a finite number');
  if (change.op !== 'clear' && change.score !== null && !Number.isFinite(change.score)) {
    throw new AlertError('ALERT_CHANGE_INVALID', 'score must be a finite number or null');
  }
}

/**
 * Applies a detector's change to the subject's current not-resolved alert
 * (undefined if none).
 */
export function applyDetectorChange(current: Alert | undefined, change: AlertChange): AlertTransition {
  const details = change.details ?? {};
  if (change.op === 'clear') {
    if (!current || (current.state !== 'open' && current.state !== 'acknowledged')) return { kind: 'none' };
    return {
      kind: 'update',
      action: 'cleared',
      eventDetails: details,
      alert: { ...current, state: 'cleared', clearedAtMs: change.atMs, details: { ...current.details, ...details }, version: current.version + 1 },
    };
  }
  if (!current) {
    if (change.op === 'refresh') return { kind: 'none' };
    return {
      kind: 'insert',
      action: 'raised',
      eventDetails: { ...details, score: change.score },
      alert: {
        kind: change.kind,
        sourceKind: change.sourceKind,
        sourceId: change.sourceId,
        state: 'open',
        raisedAtMs: change.atMs,
        lastSeenAtMs: change.atMs,
        clearedAtMs: null,
        acknowledgedAtMs: null,
        acknowledgedBy: null,
        resolvedAtMs: null,
        resolvedBy: null,
        resolution: null,
        peakScore: change.score,
        details,
        version: 1,
      },
    };
  }
  if (current.state === 'cleared') {
    if (change.op === 'refresh') return { kind: 'none' };
    const eventDetails = { ...details, score: change.score, reopened: true, clearedAtMs: current.clearedAtMs };
    return {
      kind: 'update',
      action: 'raised',
      eventDetails,
      alert: {
        ...current,
        state: current.acknowledgedAtMs === null ? 'open' : 'acknowledged',
        clearedAtMs: null,
        lastSeenAtMs: Math.max(current.lastSeenAtMs, change.atMs),
        peakScore: maxScore(current.peakScore, change.score),
        details: { ...current.details, ...details },
        version: current.version + 1,
      },
    };
  }
  if (current.state === 'resolved') return { kind: 'none' }; // never passed: the store looks up not-resolved alerts only
  // open or acknowledged: a re-trigger.
  const lastSeenAtMs = Math.max(current.lastSeenAtMs, change.atMs);
  const newPeak = change.score !== null && (current.peakScore === null || change.score > current.peakScore);
  if (!newPeak) {
    if (lastSeenAtMs === current.lastSeenAtMs) return { kind: 'none' };
    return { kind: 'update', action: null, eventDetails: {}, alert: { ...current, lastSeenAtMs } };
  }
  return {
    kind: 'update',
    action: 'updated',
    eventDetails: { ...details, score: change.score, previousPeakScore: current.peakScore },
    alert: { ...current, lastSeenAtMs, peakScore: change.score, details: { ...current.details, ...details }, version: current.version + 1 },
  };
}

export type UserAlertAction = { readonly action: 'acknowledge' } | { readonly action: 'resolve'; readonly resolution: AlertResolution };

/** Applies a user's acknowledge or resolve, checking the version the user saw. Throws AlertError. */
export function applyUserAction(current: Alert | undefined, request: AlertUserAction, what: UserAlertAction): { alert: Alert; action: AlertAction; eventDetails: AlertDetails } {
  if (!current) throw new AlertError('ALERT_NOT_FOUND', `no alert ${request.id}`);
  if (current.version !== request.expectedVersion) {
    throw new AlertError('ALERT_VERSION_CONFLICT', `alert ${current.id} is at version ${current.version}, not ${request.expectedVersion}: it changed since it was read`, current);
  }
  if (request.by.length === 0) throw new AlertError('ALERT_CHANGE_INVALID', 'a user action needs the user id');
  const note = request.note === undefined ? {} : { note: request.note };
  if (what.action === 'acknowledge') {
    if (current.state !== 'open') {
      throw new AlertError('ALERT_TRANSITION_INVALID', `alert ${current.id} is ${current.state}; only an open alert can be acknowledged`, current);
    }
    return {
      action: 'acknowledged',
      eventDetails: note,
      alert: { ...current, state: 'acknowledged', acknowledgedAtMs: request.atMs, acknowledgedBy: request.by, version: current.version + 1 },
    };
  }
  if (current.state === 'resolved') throw new AlertError('ALERT_TRANSITION_INVALID', `alert ${current.id} is already resolved`, current);
  if (!(ALERT_RESOLUTIONS as readonly string[]).includes(what.resolution)) {
    throw new AlertError('ALERT_CHANGE_INVALID', `resolution '${what.resolution}' is not one of ${ALERT_RESOLUTIONS.join(', ')}`);
  }
  return {
    action: 'resolved',
    eventDetails: { ...note, resolution: what.resolution },
    alert: { ...current, state: 'resolved', resolvedAtMs: request.atMs, resolvedBy: request.by, resolution: what.resolution, version: current.version + 1 },
  };
}

function maxScore(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}
