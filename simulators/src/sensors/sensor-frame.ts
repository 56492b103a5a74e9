import { gaussian } from '../random/distributions.ts';
import { createRng, type Rng } from '../random/prng.ts';
import { TOKYO_OFFSET_MS } from '../clock/tokyo-time.ts';
import type { AcousticSite } from './acoustic-site.ts';
import { quantise, FULL_SCALE } from './adc.ts';
import { backgroundInFrame } from './background.ts';
import { mainsHzInFrame, pickupInFrame, transformerInFrame } from './confounders/mains-hum.ts';
import { prvInFrame } from './confounders/prv.ts';
import { pumpNoiseInFrame, pumpRunning, pumpTonesInFrame } from './confounders/pump.ts';
import { rainInFrame } from './confounders/rain.ts';
import { trafficInFrame } from './confounders/traffic.ts';
import { tramInFrame } from './confounders/tram.ts';
import { waterUseInFrame } from './confounders/water-use-noise.ts';
import { activityAt, CONFOUNDERS, isDaytime, type Confounder } from './environment.ts';
import { dbToRms, type FrameContext, type FrameSources, type NoiseComponent, type SignalPath, type Tone, type ToneComponent } from './frame-components.ts';
import { leakInFrame, type LeakSource } from './leak/leak-noise.ts';
import { QUIET_NIGHT, type NightConditions } from './night-conditions.ts';
import { antiAliasGainSquared, overGrid, transducerGainSquared, type SensorHardware } from './sensor-hardware.ts';
import { meanSquare } from './signal/envelope.ts';
import { binGrid, binPowers, cachedPowers, synthesiseInto, type BinGrid, type NoiseSource } from './signal/spectral-noise.ts';

export interface FrameRequest {
  /** When the frame starts, ms since the epoch: sets the local hour (traffic, trams, water use, day or night). */
  readonly startMs: number;
  readonly sampleCount: number;
  readonly night: NightConditions;
  /** Leaks active on this sensor's pipe during the frame (none: a frame without a leak). */
  readonly leaks: readonly LeakSource[];
  /**
   * Sources another sensor hears in the same frame too (a correlator's pair,
   * sensor-pair.ts): a leak on the main, a PRV or pump on it. Each named
   * noise stream (`leak-0`, `prv`, `pump`) is drawn from `seed`, which the
   * pair shares, and reaches this sensor `delaySamples` later than the
   * first of the pair; it is synthesised alone, not in the steady sum.
   * Without it every source is this sensor's own.
   */
  readonly shared?: { readonly seed: number; readonly delaySamples: Readonly<Record<string, number>> } | undefined;
}

export interface SensorFrame {
  readonly startMs: number;
  readonly sampleRateHz: number;
  readonly gainDb: number;
  readonly samples: Int16Array;
  readonly localHour: number;
  readonly daytime: boolean;
  /** Any sample at a rail of the int16 range. */
  readonly clipped: boolean;
  readonly clippedSamples: number;
  /** Confounders perceptible in this frame (see `frameSources`). */
  readonly confounders: readonly Confounder[];
  /** The leak's band SNR in this frame, dB; null without a leak. */
  readonly snrDb: number | null;
  /** snrDb ≥ AUDIBLE_SNR_DB; null without a leak. */
  readonly audible: boolean | null;
}

/**
 * A leak is audible when, within its own band at the sensor, it carries at
 * least as much power as everything else (SNR ≥ 0 dB): it then lifts that
 * band by 3 dB or more, twice the 1.5 dB (σ) the background wanders from
 * night to night (NightConditions), which a listener or a noise logger
 * comparing nights can tell from a louder night. Below it the leak is still
 * a leak, labelled inaudible.
 */
export const AUDIBLE_SNR_DB = 0;
/** The leak's band: where its power at the sensor is within 10 dB of its peak bin. */
const LEAK_BAND_DB = 10;
/** A noise confounder counts as present when it carries at least 1 % of the floor's power (−20 dB). */
const PRESENT_NOISE_SHARE = 0.01;
/** A tone counts as present when it stands above the floor's power within ±5 Hz of it (a line in a 10 Hz-resolution spectrum). */
const TONE_BAND_HZ = 5;

const HOUR_MS = 3_600_000;

export function localHourOf(ms: number): number {
  const dayMs = 24 * HOUR_MS;
  return ((((ms + TOKYO_OFFSET_MS) % dayMs) + dayMs) % dayMs) / HOUR_MS;
}

export function frameContext(site: AcousticSite, grid: BinGrid, startMs: number, night: NightConditions, frameSeed: number): FrameContext {
  const localHour = localHourOf(startMs);
  return {
    grid,
    startMs,
    durationS: grid.sampleCount / grid.sampleRateHz,
    localHour,
    activity: activityAt(localHour),
    daytime: isDaytime(localHour),
    night,
    pipe: site.pipe,
    stream: (label) => createRng(frameSeed, 'events', label),
  };
}

/**
 * Every source in a frame, where it reaches the sensor. `transients: false`
 * leaves out what comes and goes (traffic, trams, water use, rain): the
 * steady floor a noise logger's minimum night level sees.
 */
export function frameSources(site: AcousticSite, ctx: FrameContext, leaks: readonly LeakSource[], transients = true): FrameSources {
  const noise: NoiseComponent[] = [backgroundInFrame(site.background, ctx), ...sensorNoise(site.hardware, ctx.grid)];
  const tones: ToneComponent[] = [];
  const mainsHz = mainsHzInFrame(ctx.stream('mains'));
  tones.push(pickupInFrame(site.mainsHum, mainsHz, ctx));
  const transformer = transformerInFrame(site.mainsHum, mainsHz, ctx);
  if (transformer) tones.push(transformer);
  if (site.pump && pumpRunning(ctx)) {
    tones.push(pumpTonesInFrame(site.pump, mainsHz, ctx));
    const hiss = pumpNoiseInFrame(site.pump, ctx);
    if (hiss) noise.push(hiss);
  }
  if (site.prv) {
    const prv = prvInFrame(site.prv, ctx);
    noise.push(prv.noise);
    if (prv.whistle) tones.push(prv.whistle);
  }
  leaks.forEach((leak, i) => noise.push(leakInFrame(leak, i, ctx)));
  if (!transients) return { noise, tones };
  const traffic = trafficInFrame(site.traffic, ctx);
  if (traffic) noise.push(traffic);
  if (site.tram) {
    const tram = tramInFrame(site.tram, ctx);
    if (tram) {
      noise.push(tram.noise);
      if (tram.squeal) tones.push(tram.squeal);
    }
  }
  const use = waterUseInFrame(site.waterUse, ctx);
  if (use) noise.push(use);
  const rain = rainInFrame(site.rain, ctx);
  if (rain) noise.push(rain);
  return { noise, tones };
}

/**
 * The preamp's own noise (white with a 1/f rise below its corner, through
 * the anti-alias filter) and the ADC's (white, after the gain; here referred
 * to the ADC's input at the frame's gain).
 */
function sensorNoise(hw: SensorHardware, grid: BinGrid): NoiseComponent[] {
  const self = cachedPowers(hw, grid, 'self-noise', () => binPowers(grid, (f) => 1 + hw.flickerCornerHz / f, dbToRms(hw.selfNoiseDb)));
  const adc = cachedPowers(hw, grid, 'adc-noise', () => whitePowers(grid, adcInputRms(hw, hw.adcNoiseLsb)));
  return [
    { name: 'sensor_noise', stream: 'sensor-noise', powers: self, scale: 1, envelope: undefined, path: 'electrical' },
    { name: 'adc_noise', stream: 'adc-noise', powers: adc, scale: 1, envelope: undefined, path: 'digital' },
  ];
}

function adcInputRms(hw: SensorHardware, lsb: number): number {
  return lsb / FULL_SCALE / 10 ** (hw.gainDb / 20);
}

function whitePowers(grid: BinGrid, rms: number): Float64Array {
  const out = new Float64Array(grid.freqs.length);
  const bins = out.length - 2;
  for (let k = 1; k <= bins; k++) out[k] = (rms * rms) / bins;
  return out;
}

/** |H(f)|² of each path, bins of the grid. */
function pathPowers(hw: SensorHardware, grid: BinGrid, path: SignalPath): Float64Array {
  if (path === 'acoustic') {
    const sensitivity = 10 ** (hw.sensitivityDb / 10);
    return cachedPowers(hw, grid, 'acoustic-path', () => overGrid(grid.freqs, (f) => sensitivity * transducerGainSquared(hw, f)));
  }
  if (path === 'electrical') return cachedPowers(hw, grid, 'electrical-path', () => overGrid(grid.freqs, (f) => antiAliasGainSquared(hw, f)));
  return cachedPowers(hw, grid, 'digital-path', () => overGrid(grid.freqs, () => 1));
}

function pathGainAt(hw: SensorHardware, path: SignalPath, hz: number): number {
  if (path === 'acoustic') return Math.sqrt(10 ** (hw.sensitivityDb / 10) * transducerGainSquared(hw, hz));
  if (path === 'electrical') return Math.sqrt(antiAliasGainSquared(hw, hz));
  return 1;
}

/** A noise component's powers per bin at the ADC's input, after the sensor's path, and its mean power in this frame. */
interface Recorded {
  readonly component: NoiseComponent;
  /** |H(f)|² of its path. */
  readonly path: Float64Array;
  /** Filled for modulated components only: they are synthesised alone. */
  readonly powers: Float64Array | undefined;
  /** Σ powers × mean square of the envelope: what it delivers in this frame. */
  readonly meanPower: number;
}

interface Mix {
  /** Steady components summed: one realisation for all of them. */
  readonly steady: Float64Array;
  readonly modulated: readonly Recorded[];
  readonly parts: readonly Recorded[];
  /** Background and sensor noise: what a confounder must stand out from to count as present. */
  readonly floor: readonly Recorded[];
  readonly floorPower: number;
  /** The leak's powers and everything else's, each × its envelope's mean square: filled only when a leak is present. */
  readonly leak: Float64Array | undefined;
  readonly others: Float64Array | undefined;
}

const FLOOR_NAMES: ReadonlySet<string> = new Set(['background', 'sensor_noise', 'adc_noise']);

/** `alone`: the streams synthesised apart from the steady sum even when steady (shared with another sensor). */
function mix(hw: SensorHardware, grid: BinGrid, noise: readonly NoiseComponent[], hasLeak: boolean, alone?: ReadonlySet<string>): Mix {
  const n = grid.freqs.length;
  const steady = new Float64Array(n);
  const floor: Recorded[] = [];
  let floorPower = 0;
  const leak = hasLeak ? new Float64Array(n) : undefined;
  const others = hasLeak ? new Float64Array(n) : undefined;
  const parts: Recorded[] = [];
  const modulated: Recorded[] = [];
  for (const c of noise) {
    const path = pathPowers(hw, grid, c.path);
    const src = c.powers;
    const scale = c.scale;
    // One simple loop per purpose: branch-free inner loops are what the JIT makes fast.
    const apart = c.envelope !== undefined || (alone?.has(c.stream) ?? false);
    const own = apart ? new Float64Array(n) : steady;
    let total = 0;
    if (apart) {
      for (let k = 1; k < n - 1; k++) {
        const p = scale * src[k]! * path[k]!;
        own[k] = p;
        total += p;
      }
    } else {
      for (let k = 1; k < n - 1; k++) {
        const p = scale * src[k]! * path[k]!;
        own[k]! += p;
        total += p;
      }
    }
    const ms = meanSquare(c.envelope);
    const target = c.name === 'leak' ? leak : others;
    if (target) for (let k = 1; k < n - 1; k++) target[k]! += scale * src[k]! * path[k]! * ms;
    const r: Recorded = { component: c, path, powers: apart ? own : undefined, meanPower: total * ms };
    parts.push(r);
    if (apart) modulated.push(r);
    if (FLOOR_NAMES.has(c.name)) {
      floor.push(r);
      floorPower += total;
    }
  }
  return { steady, modulated, parts, floor, floorPower, leak, others };
}

/** One frame as the sensor records it, with its labels. */
export function renderSensorFrame(site: AcousticSite, request: FrameRequest, rng: Rng): SensorFrame {
  const hw = site.hardware;
  const grid = binGrid(hw.sampleRateHz, request.sampleCount);
  const frameSeed = rng.uint32();
  const ctx = frameContext(site, grid, request.startMs, request.night, frameSeed);
  const sources = frameSources(site, ctx, request.leaks);
  const hasLeak = request.leaks.length > 0;
  const m = mix(hw, grid, sources.noise, hasLeak, request.shared ? new Set(Object.keys(request.shared.delaySamples)) : undefined);

  // Steady parts share one realisation; each modulated part gets its own, then its envelope.
  const noiseSources: NoiseSource[] = [
    { powers: m.steady, rng: createRng(frameSeed, 'noise', 'steady') },
    ...m.modulated.map((p) => {
      const delay = request.shared?.delaySamples[p.component.stream];
      return delay !== undefined
        ? { powers: p.powers!, rng: createRng(request.shared!.seed, 'noise', p.component.stream), envelope: p.component.envelope, delaySamples: delay }
        : { powers: p.powers!, rng: createRng(frameSeed, 'noise', p.component.stream), envelope: p.component.envelope };
    }),
  ];
  const out = new Float64Array(grid.sampleCount);
  synthesiseInto(out, grid, noiseSources);
  addTones(out, sources.tones, hw, grid.sampleRateHz);

  // The offset drifts a little with temperature from frame to frame.
  const dc = hw.dcOffsetLsb + 3 * gaussian(createRng(frameSeed, 'events', 'dc'));
  const { samples, clippedSamples } = quantise(out, hw.gainDb, dc);
  const labels = frameLabels(hw, grid, m, sources.tones, hasLeak);
  return {
    startMs: request.startMs,
    sampleRateHz: hw.sampleRateHz,
    gainDb: hw.gainDb,
    samples,
    localHour: ctx.localHour,
    daytime: ctx.daytime,
    clipped: clippedSamples > 0,
    clippedSamples,
    ...labels,
  };
}

/**
 * Adds every tone to the frame. Plain tones (hum, pump lines) run as
 * rotating phasors, all in one pass over the frame; the few that waver in
 * pitch or come and go (squeal, a whistling valve) get a pass of their own.
 */
function addTones(out: Float64Array, components: readonly ToneComponent[], hw: SensorHardware, sampleRateHz: number): void {
  const c: number[] = [];
  const s: number[] = [];
  const cs: number[] = [];
  const sn: number[] = [];
  for (const component of components) {
    for (const tone of component.tones) {
      if (tone.hz >= sampleRateHz / 2) continue;
      const amplitude = tone.amplitude * pathGainAt(hw, component.path, tone.hz);
      if (amplitude === 0) continue;
      if (tone.vibratoHz || component.envelope) {
        addWaveringTone(out, tone, amplitude, component.envelope, sampleRateHz);
        continue;
      }
      const step = (2 * Math.PI * tone.hz) / sampleRateHz;
      c.push(amplitude * Math.cos(tone.phase));
      s.push(amplitude * Math.sin(tone.phase));
      cs.push(Math.cos(step));
      sn.push(Math.sin(step));
    }
  }
  const count = c.length;
  if (count === 0) return;
  const re = Float64Array.from(c);
  const im = Float64Array.from(s);
  const rc = Float64Array.from(cs);
  const rs = Float64Array.from(sn);
  for (let n = 0; n < out.length; n++) {
    let sum = 0;
    for (let t = 0; t < count; t++) {
      const x = re[t]!;
      const y = im[t]!;
      sum += y;
      re[t] = x * rc[t]! - y * rs[t]!;
      im[t] = y * rc[t]! + x * rs[t]!;
    }
    out[n]! += sum;
  }
}

function addWaveringTone(out: Float64Array, tone: Tone, amplitude: number, env: Float64Array | undefined, sampleRateHz: number): void {
  let phase = tone.phase;
  const rate = (2 * Math.PI * (tone.vibratoRateHz ?? 0)) / sampleRateHz;
  const depth = tone.vibratoHz ?? 0;
  for (let n = 0; n < out.length; n++) {
    phase += (2 * Math.PI * (tone.hz + depth * Math.sin(rate * n))) / sampleRateHz;
    out[n]! += amplitude * Math.sin(phase) * (env ? env[n]! : 1);
  }
}

interface FrameLabels {
  readonly confounders: readonly Confounder[];
  readonly snrDb: number | null;
  readonly audible: boolean | null;
}

const isConfounder = (name: string): name is Confounder => (CONFOUNDERS as readonly string[]).includes(name);

function frameLabels(hw: SensorHardware, grid: BinGrid, m: Mix, tones: readonly ToneComponent[], hasLeak: boolean): FrameLabels {
  const n = grid.freqs.length;
  const present = new Set<Confounder>();
  for (const p of m.parts) {
    const name = p.component.name;
    if (isConfounder(name) && p.meanPower >= PRESENT_NOISE_SHARE * m.floorPower) present.add(name);
  }
  for (const t of tones) {
    const ms = meanSquare(t.envelope);
    for (const tone of t.tones) {
      if (tone.hz >= grid.sampleRateHz / 2) continue;
      const power = ((tone.amplitude * pathGainAt(hw, t.path, tone.hz)) ** 2 / 2) * ms;
      const k = Math.round(tone.hz / grid.binHz);
      if (m.others && k > 0 && k < n) m.others[k]! += power;
      if (isConfounder(t.name) && power >= floorNear(m.floor, grid, tone.hz)) present.add(t.name);
    }
  }
  const confounders = CONFOUNDERS.filter((c) => present.has(c));
  if (!hasLeak || !m.leak || !m.others) return { confounders, snrDb: null, audible: null };
  // Rounding to integers adds 1/12 LSB² of white noise.
  const rounding = adcInputRms(hw, Math.sqrt(1 / 12)) ** 2 / (n - 2);
  for (let k = 1; k < n - 1; k++) m.others[k]! += rounding;
  const snrDb = bandSnrDb(m.leak, m.others);
  return { confounders, snrDb, audible: snrDb >= AUDIBLE_SNR_DB };
}

/** The floor's power within ±TONE_BAND_HZ of a frequency. */
function floorNear(floor: readonly Recorded[], grid: BinGrid, hz: number): number {
  const last = grid.freqs.length - 2;
  const from = Math.max(1, Math.floor((hz - TONE_BAND_HZ) / grid.binHz));
  const to = Math.min(last, Math.ceil((hz + TONE_BAND_HZ) / grid.binHz));
  let sum = 0;
  for (const p of floor) for (let k = from; k <= to; k++) sum += p.component.scale * p.component.powers[k]! * p.path[k]!;
  return sum;
}

/** SNRs are reported within ±120 dB: a leak attenuated to nothing is −120 dB, not −∞ (JSON has no infinities). */
const SNR_LIMIT_DB = 120;

/** SNR of the leak within its band (bins within LEAK_BAND_DB of its peak), dB to 0.1 dB. */
export function bandSnrDb(leak: Float64Array, others: Float64Array): number {
  let peak = 0;
  for (const p of leak) if (p > peak) peak = p;
  if (peak <= 0) return -SNR_LIMIT_DB;
  const threshold = peak * 10 ** (-LEAK_BAND_DB / 10);
  let signal = 0;
  let noise = 0;
  for (let k = 0; k < leak.length; k++) {
    if (leak[k]! < threshold) continue;
    signal += leak[k]!;
    noise += others[k]!;
  }
  const db = noise > 0 ? 10 * Math.log10(signal / noise) : SNR_LIMIT_DB;
  return Math.round(Math.max(-SNR_LIMIT_DB, Math.min(SNR_LIMIT_DB, db)) * 10) / 10;
}

/** 03:00 Tokyo on an ordinary night: the reference instant for a sensor's quiet-night audibility. */
const QUIET_NIGHT_MS = Date.parse('2026-01-14T03:00:00+09:00');

/**
 * A sensor's audibility as a noise logger judges it: the leak's band SNR
 * against the steady floor of a typical quiet night (QUIET_NIGHT: background
 * at its usual level, the site's pump running and PRV hissing, no traffic,
 * trams, water use or rain). Null without a leak.
 */
export function quietNightSnrDb(site: AcousticSite, leaks: readonly LeakSource[], sampleCount = site.hardware.sampleRateHz): number | null {
  if (leaks.length === 0) return null;
  const grid = binGrid(site.hardware.sampleRateHz, sampleCount);
  const ctx = frameContext(site, grid, QUIET_NIGHT_MS, QUIET_NIGHT, 0);
  const sources = frameSources(site, ctx, leaks, false);
  return frameLabels(site.hardware, grid, mix(site.hardware, grid, sources.noise, true), sources.tones, true).snrDb;
}
