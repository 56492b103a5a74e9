/**
 * Log-odds of a score or probability, the scale the second-stage models
 * (the level verdict, material calibration, the recording stage) are
 * linear in. Each clamps into [floor, 1 − floor] so a saturated 0 or 1
 * stays finite; the floor is part of what a fitted model's weights were
 * fitted on, so each caller keeps its own.
 */
export function logit(p: number, floor: number): number {
  const q = Math.min(1 - floor, Math.max(floor, p));
  return Math.log(q / (1 - q));
}

export const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * PVC and PE: their leak noise lies mostly below ~300 Hz, and the second
 * stages weigh them apart. A material the registry does not hold counts as
 * a metal main.
 */
export const isPlasticMain = (material: string | undefined): boolean => material === 'pvc' || material === 'pe';
