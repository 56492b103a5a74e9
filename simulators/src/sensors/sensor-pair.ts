import { createRng, type Rng } from '../random/prng.ts';
import { drawAcousticSite, type AcousticSite, type SiteOptions } from './acoustic-site.ts';
import type { LeakSource } from './leak/leak-noise.ts';
import type { NightConditions } from './night-conditions.ts';
import { renderSensorFrame, type SensorFrame } from './sensor-frame.ts';

/**
 * Two sensors on one main, `spacingM` apart along it: a leak noise
 * correlator's pair (DOMAIN.md, "Localisation"). They listen to the same
 * pipe (material and segment), record at one rate, and each keeps its own
 * device, surroundings and local noise. A leak between or beside them is one
 * source heard twice: the same sound, along the pipe to each, arriving at
 * each after its own distance over the pipe's wave speed. So the pair's
 * recordings are coherent in the leak's band, where a sensor's own
 * background is not — what tells a leak from a louder night at one sensor
 * (detect/README.md, "S-0003"). A PRV or pump beside either sensor is on
 * the main too, so both hear it, each at its distance and delay, as they
 * hear a leak (the hiss is shared; a whistle's or a pump line's phase is
 * each sensor's own). Everything else — background, traffic, trams, hum,
 * water use, rain strikes, the devices' noise — is each sensor's own.
 */
export interface SensorPair {
  readonly a: AcousticSite;
  readonly b: AcousticSite;
  /** Along the main from a to b, m. */
  readonly spacingM: number;
  /** Draws which side of its sensor a PRV or pump on the main stands. */
  readonly sideSeed: number;
}

/** Correlating loggers are spaced along a main 100–300 m apart on metal, closer on plastic, where leak noise fades fast. */
export const PAIR_SPACING_M = { metal: [100, 300], plastic: [40, 120] } as const;

export function drawSensorPair(rng: Rng, opts: SiteOptions & { readonly spacingM?: number } = {}): SensorPair {
  const seed = rng.uint32();
  const a = drawAcousticSite(createRng(seed, 'a'), opts);
  // The second sensor: on the same main, recording at the first one's rate.
  const drawnB = drawAcousticSite(createRng(seed, 'b'), { ...opts, material: a.material, sampleRateHz: a.hardware.sampleRateHz });
  const b: AcousticSite = { ...drawnB, pipe: a.pipe };
  const [lo, hi] = a.material === 'pvc' || a.material === 'pe' ? PAIR_SPACING_M.plastic : PAIR_SPACING_M.metal;
  const spacingM = opts.spacingM ?? lo + (hi - lo) * createRng(seed, 'spacing').next();
  return { a, b, spacingM, sideSeed: createRng(seed, 'sides').uint32() };
}

/** A leak on the pair's main, `positionM` along it from sensor a (between the two when 0 ≤ position ≤ spacing). */
export interface PairLeak {
  readonly leak: LeakSource;
  readonly positionM: number;
}

export interface PairFrameRequest {
  readonly startMs: number;
  readonly sampleCount: number;
  /** Each sensor's night; the leak's night-to-night pressure shift (leakDb) and the rain are a's for both. */
  readonly nights: { readonly a: NightConditions; readonly b: NightConditions };
  readonly leaks: readonly PairLeak[];
}

export interface PairFrame {
  readonly a: SensorFrame;
  readonly b: SensorFrame;
  /**
   * How much later the leak's sound reaches b than a, s (negative: b hears
   * it first): (distance to b − distance to a) / wave speed, what a
   * correlator's cross-correlation peak measures. Null without a leak.
   */
  readonly leakLagS: number | null;
}

/**
 * Renders one frame at both sensors, recorded at the same instant (correlating loggers record in step).
 * The pair's leaks are drawn from one stream (`rng`'s first draw): rendered alone, each sensor's frame is as
 * renderSensorFrame would give it with that leak at its distance, but the two share the leak's sound.
 */
export function renderPairFrame(pair: SensorPair, request: PairFrameRequest, rng: Rng): PairFrame {
  const sharedSeed = rng.uint32();
  const rngA = createRng(sharedSeed, 'a');
  const rngB = createRng(sharedSeed, 'b');
  const c = pair.a.pipe.waveSpeedMs;
  const fs = pair.a.hardware.sampleRateHz;
  const distances = request.leaks.map((l) => ({ a: Math.abs(l.positionM), b: Math.abs(pair.spacingM - l.positionM) }));
  // One delay for the pair's leaks together: a pair hears one leak at a time in practice; with several, the first sets it.
  const lag = distances.length > 0 ? (distances[0]!.b - distances[0]!.a) / c : null;
  const at = (d: (x: { a: number; b: number }) => number): LeakSource[] => request.leaks.map((l, i) => ({ ...l.leak, distanceM: d(distances[i]!) }));
  const main = onTheMain(pair);
  const sites = main.sites;
  // This frame's leak joins the main's own sources.
  const delays = { a: { ...main.delays.a }, b: { ...main.delays.b } };
  if (lag !== null) {
    delays.a['leak-0'] = Math.max(0, -lag) * fs;
    delays.b['leak-0'] = Math.max(0, lag) * fs;
  }
  // The main's pressure (the leak's and the PRV's night shift), its pump's running, and the rain are the first sensor's for both.
  const nightA = request.nights.a;
  const nightB: NightConditions = { ...request.nights.b, leakDb: nightA.leakDb, prvDb: nightA.prvDb, pumpOnAtNight: nightA.pumpOnAtNight, pumpOnByDay: nightA.pumpOnByDay, rainIntensity: nightA.rainIntensity };
  const shared = (d: Record<string, number>) => (Object.keys(d).length > 0 ? { seed: sharedSeed, delaySamples: d } : undefined);
  const a = renderSensorFrame(sites.a, { startMs: request.startMs, sampleCount: request.sampleCount, night: nightA, leaks: at((d) => d.a), shared: shared(delays.a) }, rngA);
  const b = renderSensorFrame(sites.b, { startMs: request.startMs, sampleCount: request.sampleCount, night: nightB, leaks: at((d) => d.b), shared: shared(delays.b) }, rngB);
  return { a, b, leakLagS: lag };
}

/** A PRV or pump on the pair's main, where the registry would map it: along the main from sensor a, m (negative: beyond a). */
export interface MainSource {
  readonly kind: 'prv' | 'pump';
  readonly positionM: number;
  /** Its sensor, the one whose site it was drawn for. */
  readonly owner: 'a' | 'b';
  /** From its own sensor, m. */
  readonly distanceM: number;
}

/** The pair's main's PRV and pump (at most one each): beside a sensor, beyond it or towards the other, drawn once per pair. */
export function mainSources(pair: SensorPair): MainSource[] {
  const out: MainSource[] = [];
  const side = (label: string) => (createRng(pair.sideSeed, label).next() < 0.5 ? -1 : 1);
  for (const kind of ['prv', 'pump'] as const) {
    const owner = pair.a[kind] ? 'a' : pair.b[kind] ? 'b' : undefined;
    if (!owner) continue;
    const d = pair[owner][kind]!.distanceM;
    // Towards the other sensor is +; beyond its own, −; measured from a.
    const towards = side(kind);
    out.push({ kind, owner, distanceM: d, positionM: owner === 'a' ? towards * d : pair.spacingM - towards * d });
  }
  return out;
}

/**
 * The pair's sites as they hear the main's own sources: a PRV or a pump
 * beside one sensor (its site's) is on the main, so the other sensor hears
 * it too, further along — one source at both, each at its distance and
 * delay, as a leak is. Where both sites have one, the first sensor's is the
 * main's. Which side of its sensor it stands is drawn once per pair.
 */
interface OnTheMain {
  readonly sites: { readonly a: AcousticSite; readonly b: AcousticSite };
  readonly delays: { readonly a: Readonly<Record<string, number>>; readonly b: Readonly<Record<string, number>> };
}

/** Once per pair: the same site objects frame after frame keep the sources' cached powers (cachedPowers) warm. */
const onMains = new WeakMap<SensorPair, OnTheMain>();

function onTheMain(pair: SensorPair): OnTheMain {
  const known = onMains.get(pair);
  if (known) return known;
  const c = pair.a.pipe.waveSpeedMs;
  const fs = pair.a.hardware.sampleRateHz;
  const delays = { a: {} as Record<string, number>, b: {} as Record<string, number> };
  let { a, b } = pair;
  for (const source of mainSources(pair)) {
    const toA = Math.abs(source.positionM);
    const toB = Math.abs(pair.spacingM - source.positionM);
    // The sensor that did not draw it hears it at its own distance along the main.
    if (source.owner === 'a') b = { ...b, [source.kind]: { ...pair.a[source.kind]!, distanceM: toB } };
    else a = { ...a, [source.kind]: { ...pair.b[source.kind]!, distanceM: toA } };
    // Whichever is nearer hears it first.
    const lag = (toB - toA) / c;
    delays.a[source.kind] = Math.max(0, -lag) * fs;
    delays.b[source.kind] = Math.max(0, lag) * fs;
  }
  const result: OnTheMain = { sites: { a, b }, delays };
  onMains.set(pair, result);
  return result;
}
