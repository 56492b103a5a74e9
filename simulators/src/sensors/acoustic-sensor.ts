import { encodeAcousticFrame, type PipeMaterial } from '@suido/ingest';
import { districtCentre, placeNear, type LatLon } from '../fleet/geography.ts';
import { intBetween, lognormalFactor, pick, uniform, gaussian } from '../random/distributions.ts';
import { createRng, type Rng } from '../random/prng.ts';
import type { FleetSpec } from '../scenario/scenario.ts';
import { renderAmbientNoise, toPcm, type AmbientNoise } from './ambient-noise.ts';

/** An acoustic leak sensor's fixed traits, drawn from the seed and its id alone. */
export interface SensorProfile {
  readonly id: string;
  readonly district: string;
  readonly location: LatLon;
  readonly pipeMaterial: PipeMaterial;
  /** Preamp gain, dB: set higher on plastic mains, which carry sound poorly. */
  readonly gainDb: number;
  readonly firmware: string;
  readonly batteryPct: number;
  readonly rssiDbm: number;
  /** Its clock's offset into each recording slot, ms: sensors do not all record on the same second. */
  readonly slotOffsetMs: number;
  readonly noise: AmbientNoise;
}

const FIRMWARE = ['1.8.2', '1.9.0'];
const METALLIC: readonly PipeMaterial[] = ['ductile_iron', 'cast_iron', 'steel'];

/** `S-0001` for index 0. */
export function sensorId(index: number): string {
  return `S-${String(index + 1).padStart(4, '0')}`;
}

export function sensorProfile(seed: number, index: number, fleet: FleetSpec): SensorProfile {
  const id = sensorId(index);
  const rng = createRng(seed, id, 'profile');
  const pipeMaterial = fleet.materials[index % fleet.materials.length]!;
  const metallic = METALLIC.includes(pipeMaterial);
  const districtIndex = intBetween(rng, 0, fleet.districts.length - 1);
  // About -80 dBFS of background before gain; gain brings it to -45…-55 dBFS.
  const backgroundRms = 1e-4 * lognormalFactor(rng, 0.3) * (metallic ? 1.2 : 0.8);
  return {
    id,
    district: fleet.districts[districtIndex]!,
    location: placeNear(districtCentre(districtIndex, fleet.districts.length), rng),
    pipeMaterial,
    gainDb: Math.round(metallic ? uniform(rng, 24, 30) : uniform(rng, 32, 40)),
    firmware: pick(rng, FIRMWARE),
    batteryPct: Math.round(uniform(rng, 50, 100) * 10) / 10,
    rssiDbm: Math.round(Math.max(-125, Math.min(-60, -90 + 8 * gaussian(rng)))),
    slotOffsetMs: intBetween(rng, 0, 59) * 1000,
    noise: {
      backgroundRms,
      // Metal carries the higher frequencies further than plastic.
      cornerHz: metallic ? uniform(rng, 1500, 2500) : uniform(rng, 500, 900),
      mainsHz: 60,
      humRms: backgroundRms * uniform(rng, 0.1, 1),
      harmonics: [1, uniform(rng, 0.2, 0.6), uniform(rng, 0.1, 0.4), uniform(rng, 0.05, 0.2)],
      // 02:00–04:00 is quiet, but night buses, taxis and delivery trucks pass.
      trafficChance: uniform(rng, 0.05, 0.25),
      trafficRms: backgroundRms * uniform(rng, 5, 20),
    },
  };
}

/** One recorded frame, encoded as the sensor sends it. */
export function acousticFrame(profile: SensorProfile, startMs: number, sampleRateHz: number, sampleCount: number, rng: Rng): Buffer {
  const signal = renderAmbientNoise(profile.noise, sampleRateHz, sampleCount, rng);
  return encodeAcousticFrame({ startMs, sampleRateHz, gainDb: profile.gainDb, samples: toPcm(signal, profile.gainDb) });
}
