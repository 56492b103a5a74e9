import type { PipeMaterial } from '@suido/ingest';
import { lognormalFactor, uniform } from '../../random/distributions.ts';
import type { Rng } from '../../random/prng.ts';

/**
 * How sound travels along a buried, water-filled main.
 *
 * Leak noise reaches a sensor mostly as the fluid-dominated axisymmetric
 * wave (the "s = 1" wave). For a thin-walled pipe well below its ring
 * frequency, its wavenumber is k = k_f·sqrt(1 + β/(1 + iη)) with
 * β = 2·B·a/(E·h) the fluid-loading ratio (B water's bulk modulus, a the
 * radius, h the wall, E the wall's Young's modulus, η its loss factor):
 * Pinnington & Briscoe (1994, J. Sound Vib. 173), Muggleton, Brennan &
 * Pinnington (2002, J. Sound Vib. 249), Gao et al. (2004, J. Sound Vib. 277).
 * Its speed is c = c_f/sqrt(1 + β) and its attenuation, for small η,
 *
 *   α(f) ≈ 8.686 · (2πf/c_f) · β·η / (2·sqrt(1 + β))   dB/m,
 *
 * linear in frequency. Soft plastic walls (E of a few GPa) load the water
 * heavily (β ≈ 10–15), so the wave is slow (~350–450 m/s) and loses 0.4–0.6
 * dB/m at 100 Hz: at 80 m only the lowest tens of hertz survive, which is
 * why plastic leaks are heard below ~200 Hz and at short range. Metal walls
 * (β ≈ 0.25) give ~1,300 m/s and ~0.1–0.2 dB/m at 1 kHz.
 *
 * The wall figures are typical handbook values (E, radius-to-wall ratio of
 * common DN75–150 mains); η for metal is an *effective* loss factor that
 * stands for radiation into the surrounding soil, which dominates on buried
 * iron (an assumption: the cited papers measure it on plastic). On top, a
 * frequency-independent loss per metre stands for joints, tees and service
 * ferrules that each take a little energy (assumption, 0.005–0.03 dB/m).
 * Every pipe draws its own η (lognormal, σ = 0.35), wall ratio (±20 %) and
 * joint loss, so no two sensors share an attenuation curve.
 */
export interface MaterialAcoustics {
  /** Young's modulus of the wall, GPa (plastics: dynamic modulus at audio frequencies). */
  readonly youngGpa: number;
  /** Radius over wall thickness. */
  readonly radiusOverWall: number;
  /** Loss factor η (metal: effective, including radiation into soil). */
  readonly lossFactor: number;
  /** Sensor spacing in practice, m (PARTS.md "Leak detection"). */
  readonly sensorSpacingM: number;
  /** Range of a leak's spectral centre at the leak, Hz (DOMAIN.md: metal ~200–1,500 Hz, plastic below ~200–300 Hz). */
  readonly leakCentreHz: readonly [number, number];
  /** Leak level relative to a metal main for the same flow and pressure, dB: soft walls radiate less into the water column and are excited less. */
  readonly leakLevelDb: number;
  /** Corner of the background's low-pass at the sensor, Hz: what the pipe and soil still carry. */
  readonly backgroundCornerHz: readonly [number, number];
}

/** Water: bulk modulus 2.24 GPa, free-field sound speed 1,480 m/s. */
export const WATER_BULK_GPA = 2.24;
export const WATER_SOUND_SPEED_MS = 1480;
const DB_PER_NEPER = 8.686;

export const MATERIAL_ACOUSTICS: Readonly<Record<PipeMaterial, MaterialAcoustics>> = {
  ductile_iron: { youngGpa: 170, radiusOverWall: 9, lossFactor: 0.03, sensorSpacingM: 130, leakCentreHz: [300, 1000], leakLevelDb: 0, backgroundCornerHz: [1500, 2500] },
  cast_iron: { youngGpa: 100, radiusOverWall: 6, lossFactor: 0.04, sensorSpacingM: 130, leakCentreHz: [250, 900], leakLevelDb: 0, backgroundCornerHz: [1500, 2500] },
  steel: { youngGpa: 200, radiusOverWall: 14, lossFactor: 0.02, sensorSpacingM: 130, leakCentreHz: [350, 1100], leakLevelDb: 0, backgroundCornerHz: [1500, 2500] },
  asbestos_cement: { youngGpa: 24, radiusOverWall: 6, lossFactor: 0.04, sensorSpacingM: 100, leakCentreHz: [120, 500], leakLevelDb: -4, backgroundCornerHz: [900, 1600] },
  pvc: { youngGpa: 3.3, radiusOverWall: 8, lossFactor: 0.065, sensorSpacingM: 80, leakCentreHz: [35, 150], leakLevelDb: -7, backgroundCornerHz: [500, 900] },
  pe: { youngGpa: 1.6, radiusOverWall: 5.5, lossFactor: 0.08, sensorSpacingM: 80, leakCentreHz: [30, 130], leakLevelDb: -9, backgroundCornerHz: [500, 900] },
};

const METALS: readonly PipeMaterial[] = ['ductile_iron', 'cast_iron', 'steel'];
const PLASTICS: readonly PipeMaterial[] = ['pvc', 'pe'];

export function isMetal(material: PipeMaterial): boolean {
  return METALS.includes(material);
}

export function isPlastic(material: PipeMaterial): boolean {
  return PLASTICS.includes(material);
}

/** One main as a sensor sees it: its own wall and losses, drawn around the material's figures. */
export interface PipeSegment {
  readonly material: PipeMaterial;
  /** Fluid-loading ratio β = 2·B·a/(E·h). */
  readonly beta: number;
  readonly lossFactor: number;
  /** Attenuation per metre per hertz, dB/(m·Hz): the slope of α(f). */
  readonly dbPerMetreHz: number;
  /** Frequency-independent loss, dB/m: joints, tees, ferrules. */
  readonly jointDbPerMetre: number;
  /** Speed of the fluid-borne wave, m/s (for localisation: DOMAIN.md gives ~1,100–1,400 in iron, ~400–500 in PVC). */
  readonly waveSpeedMs: number;
}

export function pipeSegment(material: PipeMaterial, beta: number, lossFactor: number, jointDbPerMetre: number): PipeSegment {
  const root = Math.sqrt(1 + beta);
  return {
    material,
    beta,
    lossFactor,
    dbPerMetreHz: (DB_PER_NEPER * 2 * Math.PI * beta * lossFactor) / (WATER_SOUND_SPEED_MS * 2 * root),
    jointDbPerMetre,
    waveSpeedMs: WATER_SOUND_SPEED_MS / root,
  };
}

/** The material's nominal pipe, without random variation. */
export function nominalPipe(material: PipeMaterial): PipeSegment {
  const m = MATERIAL_ACOUSTICS[material];
  return pipeSegment(material, (2 * WATER_BULK_GPA * m.radiusOverWall) / m.youngGpa, m.lossFactor, 0.015);
}

export function drawPipe(material: PipeMaterial, rng: Rng): PipeSegment {
  const m = MATERIAL_ACOUSTICS[material];
  const radiusOverWall = m.radiusOverWall * uniform(rng, 0.8, 1.25);
  const youngGpa = m.youngGpa * uniform(rng, 0.9, 1.1);
  return pipeSegment(material, (2 * WATER_BULK_GPA * radiusOverWall) / youngGpa, m.lossFactor * lognormalFactor(rng, 0.35), uniform(rng, 0.005, 0.03));
}

/** Attenuation in dB/m at a frequency. */
export function attenuationDbPerMetre(pipe: PipeSegment, hz: number): number {
  return pipe.jointDbPerMetre + pipe.dbPerMetreHz * hz;
}

/** |H(f)|² of `distanceM` of pipe, for each frequency of a grid. */
export function propagationGainSquared(pipe: PipeSegment, distanceM: number, freqs: Float64Array): Float64Array {
  const out = new Float64Array(freqs.length);
  for (let k = 0; k < freqs.length; k++) out[k] = 10 ** (-(attenuationDbPerMetre(pipe, freqs[k]!) * distanceM) / 10);
  return out;
}

/** Amplitude factor of `distanceM` of pipe at one frequency (for tones). */
export function propagationGain(pipe: PipeSegment, distanceM: number, hz: number): number {
  return 10 ** (-(attenuationDbPerMetre(pipe, hz) * distanceM) / 20);
}
