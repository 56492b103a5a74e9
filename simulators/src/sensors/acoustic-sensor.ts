import { encodeAcousticFrame, type PipeMaterial } from '@suido/ingest';
import { districtCentre, placeNear, type LatLon } from '../fleet/geography.ts';
import { gaussian, intBetween, pick, uniform } from '../random/distributions.ts';
import { createRng, type Rng } from '../random/prng.ts';
import type { FleetSpec } from '../scenario/scenario.ts';
import { drawAcousticSite, type AcousticSite } from './acoustic-site.ts';
import type { Environment } from './environment.ts';
import { renderSensorFrame, type FrameRequest, type SensorFrame } from './sensor-frame.ts';

/** An acoustic leak sensor's fixed traits, drawn from the seed and its id alone. */
export interface SensorProfile {
  readonly id: string;
  readonly district: string;
  readonly location: LatLon;
  readonly pipeMaterial: PipeMaterial;
  /** Preamp gain, dB: set at installation, 0–40. */
  readonly gainDb: number;
  readonly firmware: string;
  readonly batteryPct: number;
  readonly rssiDbm: number;
  /** Its clock's offset into each recording slot, ms: sensors do not all record on the same second. */
  readonly slotOffsetMs: number;
  /** The pipe, the device and its surroundings: what its frames sound like. */
  readonly site: AcousticSite;
}

const FIRMWARE = ['1.8.2', '1.9.0'];

/** `S-0001` for index 0. */
export function sensorId(index: number): string {
  return `S-${String(index + 1).padStart(4, '0')}`;
}

/**
 * The sensor at `index`: pipe material from the scenario's list in turn,
 * environment from the scenario when it names one, everything else drawn.
 * The acoustic site has its own stream, so fixing the environment changes
 * nothing else about the sensor.
 */
export function sensorProfile(seed: number, index: number, fleet: FleetSpec, environment?: Environment): SensorProfile {
  const id = sensorId(index);
  const rng = createRng(seed, id, 'profile');
  const pipeMaterial = fleet.materials[index % fleet.materials.length]!;
  const districtIndex = intBetween(rng, 0, fleet.districts.length - 1);
  const location = placeNear(districtCentre(districtIndex, fleet.districts.length), rng);
  const site = drawAcousticSite(createRng(seed, id, 'acoustic-site'), { material: pipeMaterial, environment, sampleRateHz: fleet.sampleRateHz });
  return {
    id,
    district: fleet.districts[districtIndex]!,
    location,
    pipeMaterial,
    gainDb: site.hardware.gainDb,
    firmware: pick(rng, FIRMWARE),
    batteryPct: Math.round(uniform(rng, 50, 100) * 10) / 10,
    rssiDbm: Math.round(Math.max(-125, Math.min(-60, -90 + 8 * gaussian(rng)))),
    slotOffsetMs: intBetween(rng, 0, 59) * 1000,
    site,
  };
}

/** One recorded frame, encoded as the sensor sends it, with the labels of what it holds. */
export function acousticFrame(profile: SensorProfile, request: FrameRequest, rng: Rng): { payload: Buffer; frame: SensorFrame } {
  const frame = renderSensorFrame(profile.site, request, rng);
  const payload = encodeAcousticFrame({ startMs: frame.startMs, sampleRateHz: frame.sampleRateHz, gainDb: frame.gainDb, samples: frame.samples });
  return { payload, frame };
}
