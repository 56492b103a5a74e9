/**
 * Slow amplitude envelopes (pressure fluctuation, a vehicle passing, a tap
 * opening) evaluated at a control rate and interpolated: they change over
 * tens of milliseconds at the fastest, so 200 points a second follow them
 * exactly enough at a fraction of the cost of a per-sample evaluation.
 */
const CONTROL_RATE_HZ = 200;

export function slowEnvelope(sampleCount: number, sampleRateHz: number, at: (seconds: number) => number): Float64Array {
  const out = new Float64Array(sampleCount);
  const step = Math.max(1, Math.round(sampleRateHz / CONTROL_RATE_HZ));
  let prev = at(0);
  for (let start = 0; start < sampleCount; start += step) {
    const next = at((start + step) / sampleRateHz);
    const end = Math.min(sampleCount, start + step);
    for (let i = start; i < end; i++) out[i] = prev + ((next - prev) * (i - start)) / step;
    prev = next;
  }
  return out;
}

/** Mean of the squared envelope: the share of its steady power a modulated component delivers in this frame. */
export function meanSquare(envelope: Float64Array | undefined): number {
  if (!envelope) return 1;
  let sum = 0;
  for (const e of envelope) sum += e * e;
  return envelope.length === 0 ? 0 : sum / envelope.length;
}
