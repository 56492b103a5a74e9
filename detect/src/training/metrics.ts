import { countsAsLeak } from '../model/operating-point.ts';

/** Area under the ROC curve by the rank-sum (Mann–Whitney) statistic, ties shared. */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSumPos = 0;
  let positives = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]!] === 1) {
        rankSumPos += rank;
        positives++;
      }
    }
    i = j + 1;
  }
  const negatives = idx.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSumPos - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface Confusion {
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export function confusionAt(scores: ArrayLike<number>, labels: ArrayLike<number>, threshold: number | ArrayLike<number>): Confusion {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    const yes = countsAsLeak(scores[i]!, typeof threshold === 'number' ? threshold : threshold[i]!);
    if (labels[i] === 1) yes ? tp++ : fn++;
    else yes ? fp++ : tn++;
  }
  const precision = tp + fp === 0 ? Number.NaN : tp / (tp + fp);
  const recall = tp + fn === 0 ? Number.NaN : tp / (tp + fn);
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { tp, fp, tn, fn, precision, recall, f1 };
}

/**
 * The detector's persistence rule over one ordered run of window scores:
 * true once at least `k` of the last `n` windows were at or above the
 * threshold. The alert engine applies the same rule to live scores.
 */
export function persists(scores: readonly number[], threshold: number, k: number, n: number): boolean {
  const recent: boolean[] = [];
  let above = 0;
  for (const s of scores) {
    const hit = countsAsLeak(s, threshold);
    recent.push(hit);
    if (hit) above++;
    if (recent.length > n && recent.shift()) above--;
    if (above >= k) return true;
  }
  return false;
}
