import { describe, expect, it } from 'vitest';
import { rocAuc } from './metrics.ts';
import { fitSecondStage, secondStageProbability, type SecondStageExample } from './second-stage.ts';

function normals(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/**
 * Recordings where one feature means opposite things by material: low-frequency
 * energy (feature 0) rises with a leak on PVC and with a passing tram on ductile
 * iron. The heads' score tells ductile iron's leaks apart and says nothing on PVC.
 */
function recordings(seed: number, n = 800): SecondStageExample[] {
  const g = normals(seed);
  return Array.from({ length: n }, (_, i) => {
    const material = i % 2 === 0 ? 'pvc' : 'ductile_iron';
    const leak = i % 4 < 2;
    const tram = material === 'ductile_iron' && !leak && i % 8 === 3;
    const low = (material === 'pvc' && leak ? 1.5 : 0) + (tram ? 1.5 : 0) + g();
    const score = material === 'pvc' ? 0.4 + 0.05 * g() : leak ? 0.8 + 0.05 * g() : 0.3 + 0.05 * g();
    return { score: Math.min(0.99, Math.max(0.01, score)), features: [low, g(), g(), g()], material, site: 'quiet_residential', leak };
  });
}

describe('second stage', () => {
  it('told the material, it reads a feature by the main it is on', () => {
    const fitting = recordings(1);
    const fresh = recordings(2);
    const pvc = fresh.filter((e) => e.material === 'pvc');
    const auc = (stage: ReturnType<typeof fitSecondStage>, set: SecondStageExample[], told = true) =>
      rocAuc(
        set.map((e) => secondStageProbability(stage, told ? e : { ...e, material: undefined })),
        set.map((e) => (e.leak ? 1 : 0)),
      );
    const aware = fitSecondStage(fitting, { components: 4 });
    const unaware = fitSecondStage(fitting, { components: 4, materialAware: false });
    const heads = rocAuc(pvc.map((e) => e.score), pvc.map((e) => (e.leak ? 1 : 0)));
    expect(heads).toBeLessThan(0.6);
    expect(auc(aware, pvc)).toBeGreaterThan(0.8);
    expect(auc(aware, pvc)).toBeGreaterThan(auc(unaware, pvc, false) + 0.05);
    expect(auc(aware, fresh)).toBeGreaterThan(rocAuc(fresh.map((e) => e.score), fresh.map((e) => (e.leak ? 1 : 0))));
  });

  it('needs leak and no-leak recordings', () => {
    expect(() => fitSecondStage(recordings(1).filter((e) => e.leak), { components: 2 })).toThrow(/needs leak and no-leak recordings, got 400 and 0/);
  });
});
