import type { ExampleSet } from './examples.ts';

/**
 * Training without the leaks nearest the audibility line. A leak is labelled
 * audible at 0 dB of in-band SNR at the sensor (simulators' AUDIBLE_SNR_DB);
 * one at +1 dB is, on a night of louder flow or with a pump running, as much
 * background as leak, yet every one of its windows is taught as a leak. The
 * heads may then learn to hedge on every spectrum such leaks share — on a
 * plastic main, even a loud leak's (detect/README.md, "Training with a
 * margin"). This gives such leaks weight 0 in the TRAINING split only, as
 * inaudible leaks already have; validation, test and every reported figure
 * keep them, labelled as before.
 *
 * The SNR a window is judged on is the sensor's quiet-night SNR for a
 * context model (its labels are the sensor's: context-examples.ts) and the
 * frame's own for a window model. A leak with no SNR on record keeps its weight.
 */
export function withoutMarginalLeaks(set: ExampleSet, minSnrDb: number, context: boolean): { set: ExampleSet; dropped: number } {
  let dropped = 0;
  const weights = Float32Array.from(set.examples, (e, i) => {
    const snr = context ? e.meta.sensorSnrDb : e.meta.snrDb;
    const marginal = e.meta.leak && set.labels[i] === 1 && snr !== null && snr !== undefined && snr < minSnrDb;
    if (marginal && set.weights[i] !== 0) dropped++;
    return marginal ? 0 : set.weights[i]!;
  });
  return { set: { ...set, weights }, dropped };
}
