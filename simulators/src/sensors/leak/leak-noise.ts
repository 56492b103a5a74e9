import type { PipeMaterial } from '@suido/ingest';
import { gaussian, uniform } from '../../random/distributions.ts';
import type { Rng } from '../../random/prng.ts';
import { dbToRms, type FrameContext, type NoiseComponent } from '../frame-components.ts';
import { drawHiss, drawModulation, hissShape, modulationAt, type HissSpectrum, type Modulation } from '../hiss.ts';
import { MATERIAL_ACOUSTICS, propagationGainSquared, type PipeSegment } from '../pipe/pipe-acoustics.ts';
import { logUniform } from '../sensor-hardware.ts';
import { slowEnvelope } from '../signal/envelope.ts';
import { binPowers, filtered, type BinGrid } from '../signal/spectral-noise.ts';

/**
 * A leak: water jetting out of a crack, a joint or a corrosion hole at line
 * pressure. Its noise is a steady broadband hiss whose level follows the flow
 * and the pressure, shaped by the pipe wall (DOMAIN.md: mostly 200–1,500 Hz
 * in metal, below ~200–300 Hz and weaker in plastic) and then by the pipe it
 * travels along to the sensor.
 */
export interface LeakSource {
  readonly material: PipeMaterial;
  /** Leak flow, L/s: 0.05–2 by default (log-uniform). */
  readonly sizeLps: number;
  /** Along the pipe from the leak to the sensor, m. */
  readonly distanceM: number;
  /** Static pressure at the leak, MPa. */
  readonly pressureMpa: number;
  /** RMS at the leak (0 m), dBFS0 over 0–8 kHz, at night. */
  readonly levelDb: number;
  /** By day the pressure falls with demand and the leak is quieter, dB (negative). */
  readonly dayShiftDb: number;
  readonly spectrum: HissSpectrum;
  readonly modulation: Modulation;
}

export const LEAK_SIZE_RANGE_LPS: readonly [number, number] = [0.05, 2];

/**
 * Level of a 0.3 L/s leak at 0.35 MPa on a metal main, dBFS0: 14 dB above
 * the −80 dBFS0 reference background. Calibrated so that a mid-size leak on
 * iron is heard across one sensor spacing on a quiet night while a small one
 * at the far end is not, as in practice; it is the model's free constant.
 */
export const LEAK_REFERENCE_DB = -60;
const REFERENCE_FLOW_LPS = 0.3;
const REFERENCE_PRESSURE_MPA = 0.35;

/**
 * Distribution pressure: Japanese design practice keeps static pressure
 * between 0.15 and 0.74 MPa; most mains run at 0.2–0.5 MPa.
 */
export const LEAK_PRESSURE_RANGE_MPA: readonly [number, number] = [0.2, 0.5];

export interface LeakOptions {
  readonly sizeLps?: number | undefined;
  readonly distanceM?: number | undefined;
}

/**
 * Level: acoustic power grows with the flow through the opening (Lighthill's
 * jet-noise scaling at a fixed jet speed: power ∝ opening area ∝ flow, i.e.
 * 10 dB per decade) and with pressure (20 dB per decade of pressure, an
 * assumption milder than a free jet's U⁸ because the jet discharges into
 * soil and water, not air), plus 3 dB (σ) for what varies between leaks of
 * the same flow: crack, joint or hole, backfill, pipe diameter. Spectrum: the
 * material's range, with a weak shift down for bigger openings (jet noise
 * peaks at a Strouhal frequency ∝ speed/diameter, flattened by the pipe
 * wall's response: exponent −0.1 instead of −0.5).
 */
export function drawLeak(material: PipeMaterial, rng: Rng, opts: LeakOptions = {}): LeakSource {
  const m = MATERIAL_ACOUSTICS[material];
  const drawnSize = logUniform(rng, LEAK_SIZE_RANGE_LPS[0], LEAK_SIZE_RANGE_LPS[1]);
  const drawnDistance = uniform(rng, 0, m.sensorSpacingM * uniform(rng, 0.85, 1.15));
  const sizeLps = opts.sizeLps ?? drawnSize;
  const pressureMpa = uniform(rng, LEAK_PRESSURE_RANGE_MPA[0], LEAK_PRESSURE_RANGE_MPA[1]);
  const levelDb =
    LEAK_REFERENCE_DB +
    10 * Math.log10(sizeLps / REFERENCE_FLOW_LPS) +
    20 * Math.log10(pressureMpa / REFERENCE_PRESSURE_MPA) +
    m.leakLevelDb +
    3 * gaussian(rng);
  return {
    material,
    sizeLps,
    distanceM: opts.distanceM ?? drawnDistance,
    pressureMpa,
    levelDb,
    // Demand by day drops the pressure 10–30 %: 20·log10(0.7…0.9).
    dayShiftDb: uniform(rng, -3, -1),
    spectrum: drawHiss(rng, m.leakCentreHz, [1.6, 2.8], (sizeLps / REFERENCE_FLOW_LPS) ** -0.1),
    // Pressure fluctuation: a few per cent to 20 % at 0.05–2 Hz.
    modulation: drawModulation(rng, [0.03, 0.2], [0.05, 2]),
  };
}

const atSensor = new WeakMap<LeakSource, Map<string, Float64Array>>();

/** Powers per bin of the leak where it reaches the sensor (after the pipe, before the sensor), on a typical night. */
export function leakPowersAtSensor(leak: LeakSource, pipe: PipeSegment, grid: BinGrid): Float64Array {
  let byGrid = atSensor.get(leak);
  if (!byGrid) atSensor.set(leak, (byGrid = new Map()));
  const key = `${grid.sampleRateHz}/${grid.fftSize}/${pipe.dbPerMetreHz}/${pipe.jointDbPerMetre}`;
  let powers = byGrid.get(key);
  if (!powers) {
    powers = filtered(binPowers(grid, hissShape(leak.spectrum), dbToRms(leak.levelDb)), propagationGainSquared(pipe, leak.distanceM, grid.freqs));
    byGrid.set(key, powers);
  }
  return powers;
}

/** The leak in one frame: its hiss at the sensor, with the night's pressure and its slow fluctuation. */
export function leakInFrame(leak: LeakSource, index: number, ctx: FrameContext): NoiseComponent {
  const shiftDb = ctx.night.leakDb + (ctx.daytime ? leak.dayShiftDb : 0);
  const powers = leakPowersAtSensor(leak, ctx.pipe, ctx.grid);
  const t0 = ctx.startMs / 1000;
  const envelope = slowEnvelope(ctx.grid.sampleCount, ctx.grid.sampleRateHz, (s) => modulationAt(leak.modulation, t0 + s));
  return { name: 'leak', stream: `leak-${index}`, powers, scale: 10 ** (shiftDb / 10), envelope, path: 'acoustic' };
}
