import type { DeviceRecord, PipeMaterial } from '@suido/ingest';
import { KNOWN_SOURCE_M } from './pair-verdict.ts';

/**
 * The farthest apart, m, two sensors on one main are paired: beyond it a
 * leak between them seldom reaches both (utilities space correlating
 * loggers 100–300 m on metal, 40–120 m on plastic, where leak noise fades
 * faster: DOMAIN.md; simulators' PAIR_SPACING_M).
 */
export const MAX_PAIR_SPACING_M: Readonly<Record<PipeMaterial, number>> = {
  ductile_iron: 500,
  cast_iron: 500,
  steel: 500,
  asbestos_cement: 400,
  pvc: 200,
  pe: 200,
};

/** Two neighbouring sensors on one main, as the registry places them. */
export interface RegistryPair {
  /** `{first}~{second}`: the pair's state name. */
  readonly key: string;
  readonly pipeId: string;
  readonly material: PipeMaterial;
  /** The one nearer the main's start: the pair's alerts are its. */
  readonly first: DeviceRecord;
  readonly second: DeviceRecord;
  /** second.chainageM − first.chainageM. */
  readonly spacingM: number;
  /** The PRVs and pumps the registry maps beside either sensor (sourceChainageM), m along the main from the first. */
  readonly sourcesM: readonly number[];
}

/**
 * A main's sensors in chainage order, each neighbour pair that a correlator
 * can use: both with the main's material recorded alike, more than twice
 * KNOWN_SOURCE_M apart (closer, a leak between them is taken for a source at
 * a sensor) and no farther than MAX_PAIR_SPACING_M. A sensor between two
 * others is in two pairs; one without a main or chainage in none. The PRV or
 * pump the registry places beside either (sourceChainageM) is the pair's
 * known source: its peak is not a leak.
 */
export function pairsOnMains(devices: readonly DeviceRecord[]): RegistryPair[] {
  const byMain = new Map<string, DeviceRecord[]>();
  for (const d of devices) {
    if (d.kind !== 'sensor' || d.pipeId === null || d.chainageM === null || d.pipeMaterial === null) continue;
    byMain.set(d.pipeId, [...(byMain.get(d.pipeId) ?? []), d]);
  }
  const out: RegistryPair[] = [];
  for (const [pipeId, sensors] of byMain) {
    sensors.sort((x, y) => x.chainageM! - y.chainageM! || (x.id < y.id ? -1 : 1));
    for (let i = 1; i < sensors.length; i++) {
      const [first, second] = [sensors[i - 1]!, sensors[i]!];
      const spacingM = second.chainageM! - first.chainageM!;
      if (first.pipeMaterial !== second.pipeMaterial) continue;
      if (!(spacingM > 2 * KNOWN_SOURCE_M && spacingM <= MAX_PAIR_SPACING_M[first.pipeMaterial!])) continue;
      const sourcesM = [...new Set([first, second].flatMap((s) => (s.sourceChainageM === null ? [] : [s.sourceChainageM - first.chainageM!])))];
      out.push({ key: `${first.id}~${second.id}`, pipeId, material: first.pipeMaterial!, first, second, spacingM, sourcesM });
    }
  }
  return out;
}
