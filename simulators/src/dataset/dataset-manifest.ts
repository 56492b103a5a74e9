import type { PipeMaterial } from '@suido/ingest';
import { BACKGROUND_REFERENCE_DB } from '../sensors/background.ts';
import { ENVIRONMENT_WEIGHTS } from '../sensors/environment.ts';
import { LEAK_PRESSURE_RANGE_MPA, LEAK_REFERENCE_DB, LEAK_SIZE_RANGE_LPS } from '../sensors/leak/leak-noise.ts';
import { RAIN_NIGHT_PROBABILITY } from '../sensors/night-conditions.ts';
import { MATERIAL_ACOUSTICS, nominalPipe } from '../sensors/pipe/pipe-acoustics.ts';
import { SAMPLE_RATES_HZ, SENSOR_TYPES } from '../sensors/sensor-hardware.ts';
import { AUDIBLE_SNR_DB } from '../sensors/sensor-frame.ts';
import { REFERENCE_BAND_HZ } from '../sensors/signal/spectral-noise.ts';
import { SPLIT_SHARES, SPLITS, type Split } from './dataset-population.ts';
import type { FrameRecord } from './dataset-frames.ts';

/**
 * Bump on any change that alters the bytes a seed produces (physics,
 * schedule, format): a dataset names the generator that made it.
 */
export const DATASET_GENERATOR_VERSION = '1.1.0';

export interface SplitCounts {
  sensors: number;
  leakSensors: number;
  noLeakSensors: number;
  /** Leak sensors whose quiet-night SNR is below the audibility threshold. */
  inaudibleSensors: number;
  frames: number;
  leakFrames: number;
  noLeakFrames: number;
  /** Leak frames whose own SNR is below the threshold. */
  inaudibleFrames: number;
  daytimeFrames: number;
  clippedFrames: number;
  pcmBytes: number;
  framesBySampleRate: Record<string, number>;
  framesByConfounder: Record<string, number>;
}

export function emptyCounts(): SplitCounts {
  return {
    sensors: 0,
    leakSensors: 0,
    noLeakSensors: 0,
    inaudibleSensors: 0,
    frames: 0,
    leakFrames: 0,
    noLeakFrames: 0,
    inaudibleFrames: 0,
    daytimeFrames: 0,
    clippedFrames: 0,
    pcmBytes: 0,
    framesBySampleRate: {},
    framesByConfounder: {},
  };
}

export function countFrame(c: SplitCounts, r: FrameRecord): void {
  c.frames++;
  if (r.leak) c.leakFrames++;
  else c.noLeakFrames++;
  if (r.audible === false) c.inaudibleFrames++;
  if (r.daytime) c.daytimeFrames++;
  if (r.clipped) c.clippedFrames++;
  c.pcmBytes += r.samples * 2;
  c.framesBySampleRate[r.sampleRateHz] = (c.framesBySampleRate[r.sampleRateHz] ?? 0) + 1;
  for (const name of r.confounders) c.framesByConfounder[name] = (c.framesByConfounder[name] ?? 0) + 1;
}

export interface DatasetManifestInput {
  readonly seed: number;
  readonly options: Record<string, number | boolean>;
  /** What every sensor shares instead of drawing it; written only where something is fixed. */
  readonly conditions?: object | undefined;
  readonly counts: Record<Split, SplitCounts>;
}

/** The manifest: what was generated, how, and how to read it. Deterministic: no wall-clock time in it. */
export function datasetManifest(input: DatasetManifestInput): Record<string, unknown> {
  const materials: Record<string, unknown> = {};
  for (const [material, m] of Object.entries(MATERIAL_ACOUSTICS)) {
    const pipe = nominalPipe(material as PipeMaterial);
    materials[material] = {
      waveSpeedMs: Math.round(pipe.waveSpeedMs),
      fluidLoadingBeta: round(pipe.beta, 3),
      lossFactor: m.lossFactor,
      attenuationDbPerM: { at100Hz: round(pipe.jointDbPerMetre + pipe.dbPerMetreHz * 100, 4), at1kHz: round(pipe.jointDbPerMetre + pipe.dbPerMetreHz * 1000, 4) },
      sensorSpacingM: m.sensorSpacingM,
      leakCentreHz: m.leakCentreHz,
      leakLevelDb: m.leakLevelDb,
    };
  }
  return {
    generator: { name: '@suido/simulators acoustic dataset', version: DATASET_GENERATOR_VERSION },
    seed: input.seed,
    options: input.options,
    ...(input.conditions && Object.keys(input.conditions).length > 0 && { conditions: input.conditions }),
    splits: Object.fromEntries(SPLITS.map((s) => [s, input.counts[s]])),
    files: {
      layout: Object.fromEntries(SPLITS.map((s) => [s, { pcm: `${s}.pcm`, index: `${s}.jsonl` }])),
      pcm: 'mono int16 little-endian PCM, every frame of the split concatenated in index order; a frame is `samples` samples from byte `offsetBytes`',
      index: 'one JSON object per line and frame: id, sensorId, night, frame, startMs, sampleRateHz, samples, offsetBytes, gainDb, material, sensorType, environment, daytime, leak, audible, sensorAudible, leakSizeLps, distanceM, leakStartMs (only where the leak begins inside the recorded nights), snrDb, sensorSnrDb, confounders, clipped',
      level: 'PCM / 32767 / 10^(gainDb/20) is the level before the preamp; sensor sensitivity (±6 dB) and DC offset are unknown, as in the field',
    },
    labels: {
      leak: 'a leak on the sensor’s pipe at the frame’s time: every night of the sensor, or (--leak-onset-share) from leakStartMs on, when it begins inside the recorded nights; it persists once begun',
      snrDb: 'the leak’s power over everything else within its band at the sensor (bins within 10 dB of its peak), from the frame’s source spectra; clamped to ±120 dB',
      audible: `snrDb ≥ ${AUDIBLE_SNR_DB} dB in this frame; null without a leak`,
      sensorAudible: `the same against the steady floor of a typical quiet night (no traffic, trams, water use or rain; the site’s pump and PRV running): ≥ ${AUDIBLE_SNR_DB} dB`,
      confounders: 'sources perceptible in the frame: noise carrying ≥ 1 % of the floor’s power, tones above the floor within ±5 Hz',
      split: `by sensor, stratified by leak: ${JSON.stringify(SPLIT_SHARES)}`,
    },
    // Only for a data set of pairs, so every other manifest is as it was (its text keys detect's feature cache).
    ...(input.options.pairs === true && {
      pairs: {
        index: 'each frame of a pair carries pair: { id, partnerId, positionM (along the main; the first sensor at 0), spacingM, leakPositionM (null without a leak), sources (the main’s PRV and pump: kind, positionM, as a registry maps them) }; a pair’s two frames start at the same instant',
        physics: 'one main (material, pipe segment), one sample rate, each sensor its own device and surroundings; a leak between the two is one sound reaching each after its distance along the pipe, delayed by distance / wave speed (waveSpeedMs of the material, this pipe’s own within a few %); a PRV or pump beside either sensor is on the main too, heard by both at their distances and delays (its hiss shared; a whistle’s or a pump line’s phase each sensor’s own); the main’s pressure shifts (leak, PRV), its pump’s running and the rain are shared; everything else is each sensor’s own',
        spacingM: 'uniform 100–300 on metal and asbestos cement, 40–120 on plastic',
        split: 'by pair: both sensors of a pair in one split',
      },
    }),
    physics: {
      levels: `dB re int16 full scale at 0 dB gain (dBFS0), RMS over 0–${REFERENCE_BAND_HZ} Hz; reference night background ${BACKGROUND_REFERENCE_DB} dBFS0`,
      propagation: 'α(f) = joint loss + 8.686·(2πf/c_f)·βη/(2√(1+β)) dB/m, β = 2Ba/(Eh) (fluid-loaded thin-walled pipe: Pinnington & Briscoe 1994; Muggleton, Brennan & Pinnington 2002; Gao et al. 2004); per pipe η ×lognormal(σ 0.35), a/h ±20 %, joint loss 0.005–0.03 dB/m',
      materials,
      leak: {
        sizeRangeLps: LEAK_SIZE_RANGE_LPS,
        sizeDistribution: 'log-uniform',
        pressureRangeMpa: LEAK_PRESSURE_RANGE_MPA,
        levelDb: `${LEAK_REFERENCE_DB} + 10·log10(q/0.3 L/s) + 20·log10(P/0.35 MPa) + material offset + N(0, 3 dB), at 0 m`,
        spectrum: 'band-pass hiss, centre log-uniform in the material’s range × (q/0.3)^-0.1, corners centre ÷× 1.6–2.8, skirts of order 1–2 (low) and 1.5–3 (high), tilt ±2 dB/octave; slow AM 3–20 % at 0.05–2 Hz',
        distance: 'uniform from 0 to the material’s sensor spacing ×0.85–1.15',
      },
      environments: ENVIRONMENT_WEIGHTS,
      sensor: {
        types: SENSOR_TYPES,
        sampleRatesHz: SAMPLE_RATES_HZ,
        gainDb: [0, 40],
        sensitivityDb: [-6, 6],
        accelerometer: '2nd-order high-pass 60–250 Hz, mounting resonance 0.8–3 kHz (+6–15 dB), 1–2 fitting resonances 150–1,200 Hz',
        hydrophone: '1st-order high-pass 3–15 Hz, 1–2 water-column resonances 40–600 Hz (+2–8 dB)',
        selfNoiseDb: [-102, -92],
        adcNoiseLsb: [0.3, 1.2],
        dcOffsetLsb: [-250, 250],
      },
      schedule: { night: '02:00–04:00 Tokyo', day: '07:00–22:00 Tokyo', rainNightProbability: RAIN_NIGHT_PROBABILITY },
      audibleSnrDb: AUDIBLE_SNR_DB,
    },
  };
}

function round(x: number, digits: number): number {
  return Math.round(x * 10 ** digits) / 10 ** digits;
}
