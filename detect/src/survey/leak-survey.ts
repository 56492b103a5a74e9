import { logit } from '../model/log-odds.ts';
import { persistenceScore, thresholdFor, type Persistence, type SensorPlace, type Thresholds } from '../model/operating-point.ts';

/**
 * Which sensors a crew should listen at next, alerts aside. The detector
 * raises an alert only where the evidence clears a threshold that holds
 * the false-alert budget, and on plastic mains most leaks' scores rank above
 * quiet nights without clearing it (detect/README.md, "Where it stands").
 * A survey ranks every sensor by its strongest K-of-N evidence over a span
 * (the score at which the model's persistence rule would have fired:
 * persistenceScore), as a margin in log-odds over the threshold its site or
 * material is judged at, and places it among the sensors on the same pipe
 * material: the fleet's own quiet sensors are the reference, so the ranking
 * holds where real devices score higher or lower than simulated ones did.
 */
export interface SurveySensor extends SensorPlace {
  readonly id: string;
}

export interface SurveyRow {
  readonly sensorId: string;
  readonly material: string | null;
  readonly site: string | null;
  /** Windows scored in the span. */
  readonly windows: number;
  /** The strongest K-of-N evidence (the K-th highest score of the best N windows in a row); null with fewer than K windows. */
  readonly evidence: number | null;
  /** The threshold the sensor is judged at (its site's, else its material's, else the model's default). */
  readonly threshold: number;
  /** logit(evidence) − logit(threshold): ≥ 0 is where the rule fires. */
  readonly margin: number | null;
  /** 1 for the highest margin among sensors with evidence on the same material (unknown material: one group). */
  readonly materialRank: number | null;
  readonly materialSensors: number;
}

const LOGIT_FLOOR = 1e-6;

/** Every sensor's row, the highest margin first, sensors without evidence last (in id order). */
export function rankSurvey(sensors: readonly SurveySensor[], scoresOf: (id: string) => readonly number[], persistence: Persistence, thresholds: Thresholds): SurveyRow[] {
  const rows = sensors.map((s) => {
    const scores = scoresOf(s.id);
    const best = persistenceScore(scores, persistence);
    const evidence = Number.isFinite(best) ? best : null;
    const threshold = thresholdFor(thresholds, s);
    return {
      sensorId: s.id,
      material: s.material ?? null,
      site: s.site ?? null,
      windows: scores.length,
      evidence,
      threshold,
      margin: evidence === null ? null : logit(evidence, LOGIT_FLOOR) - logit(threshold, LOGIT_FLOOR),
    };
  });
  const byMaterial = new Map<string | null, typeof rows>();
  for (const r of rows) {
    if (r.margin === null) continue;
    const group = byMaterial.get(r.material);
    if (group) group.push(r);
    else byMaterial.set(r.material, [r]);
  }
  const rankOf = new Map<string, { rank: number; of: number }>();
  for (const group of byMaterial.values()) {
    group.sort((a, b) => b.margin! - a.margin!).forEach((r, i) => rankOf.set(r.sensorId, { rank: i + 1, of: group.length }));
  }
  return rows
    .map((r) => ({ ...r, materialRank: rankOf.get(r.sensorId)?.rank ?? null, materialSensors: byMaterial.get(r.material)?.length ?? 0 }))
    .sort((a, b) => (a.margin === null ? (b.margin === null ? a.sensorId.localeCompare(b.sensorId) : 1) : b.margin === null ? -1 : b.margin - a.margin));
}
