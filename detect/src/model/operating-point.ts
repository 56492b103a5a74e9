/**
 * When a window's score counts as "leak": at or above the threshold. One rule
 * for the trainer that picks the threshold (its precision, recall and K of N
 * are computed with it), the live alert engine and the recording CLI, so the
 * operating point the model card reports is the one the detector runs. The
 * trainer picks thresholds from observed scores, so a score equal to the
 * threshold is the common case at that point, not an edge.
 */
export function countsAsLeak(score: number, threshold: number): boolean {
  return score >= threshold;
}
