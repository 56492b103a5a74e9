import { rocAuc } from './metrics.ts';
import { seededRandom } from './seeded-random.ts';

/**
 * Two models' ROC-AUC on the same recordings, their difference and a
 * bootstrap interval of it: the recordings are drawn with replacement, the
 * same draw for both models, so what both get right or wrong on a given
 * recording cancels and only their disagreement spreads the interval. Why:
 * a test set of 80–90 leak recordings moves one model's ROC-AUC by about
 * ±0.025 with the recordings drawn (detect/README.md, "2.7.0: plastic
 * mains as clips"), so whether a new model beats the shipped one there is a
 * question of the interval, not of the two figures.
 */
export interface PairedAuc {
  readonly aucA: number;
  readonly aucB: number;
  /** aucA − aucB. */
  readonly difference: number;
  /** The central `level` share of the bootstrap's differences. */
  readonly low: number;
  readonly high: number;
  readonly level: number;
  /** Draws that held both classes (a draw of one class has no ROC-AUC). */
  readonly draws: number;
}

export function pairedAucDifference(
  scoresA: readonly number[],
  scoresB: readonly number[],
  labels: readonly number[],
  opts: { draws?: number; seed?: number; level?: number } = {},
): PairedAuc {
  const n = labels.length;
  if (scoresA.length !== n || scoresB.length !== n) throw new Error(`paired scores need one score a recording from each model: ${scoresA.length}, ${scoresB.length} and ${n} labels`);
  if (!labels.includes(1) || !labels.includes(0)) throw new Error('paired ROC-AUC needs recordings with and without a leak');
  const level = opts.level ?? 0.95;
  const random = seededRandom(opts.seed ?? 1);
  const aucA = rocAuc(scoresA, labels);
  const aucB = rocAuc(scoresB, labels);
  const differences: number[] = [];
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  const y = new Float64Array(n);
  for (let d = 0; d < (opts.draws ?? 2000); d++) {
    for (let i = 0; i < n; i++) {
      const j = Math.floor(random() * n);
      a[i] = scoresA[j]!;
      b[i] = scoresB[j]!;
      y[i] = labels[j]!;
    }
    if (!y.includes(1) || !y.includes(0)) continue;
    differences.push(rocAuc(a, y) - rocAuc(b, y));
  }
  differences.sort((p, q) => p - q);
  const at = (share: number) => differences[Math.min(differences.length - 1, Math.max(0, Math.round(share * (differences.length - 1))))]!;
  return { aucA, aucB, difference: aucA - aucB, low: at((1 - level) / 2), high: at((1 + level) / 2), level, draws: differences.length };
}
