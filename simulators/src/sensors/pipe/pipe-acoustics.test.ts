import { PIPE_MATERIALS } from '@suido/ingest';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../random/prng.ts';
import { attenuationDbPerMetre, drawPipe, nominalPipe, propagationGain } from './pipe-acoustics.ts';

describe('pipe acoustics', () => {
  it('gives wave speeds in the ranges practice knows (DOMAIN.md)', () => {
    for (const m of ['ductile_iron', 'cast_iron', 'steel'] as const) {
      expect(nominalPipe(m).waveSpeedMs).toBeGreaterThan(1100);
      expect(nominalPipe(m).waveSpeedMs).toBeLessThan(1400);
    }
    expect(nominalPipe('pvc').waveSpeedMs).toBeGreaterThan(400);
    expect(nominalPipe('pvc').waveSpeedMs).toBeLessThan(500);
    expect(nominalPipe('pe').waveSpeedMs).toBeLessThan(nominalPipe('pvc').waveSpeedMs);
  });

  it('attenuates more at higher frequencies, and far more in plastic than in metal', () => {
    for (const m of PIPE_MATERIALS) {
      const p = nominalPipe(m);
      expect(attenuationDbPerMetre(p, 1000)).toBeGreaterThan(attenuationDbPerMetre(p, 100));
    }
    const iron = nominalPipe('ductile_iron');
    const pvc = nominalPipe('pvc');
    // ~0.4 dB/m at 100 Hz in PVC against ~0.03 in iron (with joints).
    expect(attenuationDbPerMetre(pvc, 100)).toBeGreaterThan(0.3);
    expect(attenuationDbPerMetre(pvc, 100)).toBeGreaterThan(10 * attenuationDbPerMetre(iron, 100));
    expect(attenuationDbPerMetre(iron, 1000)).toBeLessThan(0.2);
    expect(attenuationDbPerMetre(nominalPipe('asbestos_cement'), 300)).toBeGreaterThan(attenuationDbPerMetre(iron, 300));
    expect(attenuationDbPerMetre(nominalPipe('asbestos_cement'), 300)).toBeLessThan(attenuationDbPerMetre(pvc, 300));
  });

  it('loses more with distance, and gives every pipe its own curve', () => {
    const p = nominalPipe('pe');
    expect(propagationGain(p, 0, 200)).toBe(1);
    expect(propagationGain(p, 10, 200)).toBeGreaterThan(propagationGain(p, 50, 200));
    const slopes = Array.from({ length: 20 }, (_, i) => drawPipe('pvc', createRng(1, 'pipe', i)).dbPerMetreHz);
    expect(new Set(slopes).size).toBe(20);
    expect(Math.max(...slopes) / Math.min(...slopes)).toBeGreaterThan(1.5);
  });
});
