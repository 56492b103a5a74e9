/**
 * Pair-nights judged per second by the pair correlator: a night of twelve
 * 1 s frames at 8 kHz from two sensors 180 m apart on iron, correlated
 * together (judgePairRecordings), against what a fleet of 1,000 pairs needs
 * when each of its nights is judged again as each of its 12 frames arrives
 * (the worst case: every frame in a pass of its own); and the correlator
 * itself over SQLite (frames read back, judged, decisions committed), one
 * pass per slot for every pair — a look at each pair's night, judged once
 * it holds MIN_NIGHT_SECONDS in step — against the same looks without the
 * store, measured in the same run.
 *
 *   npm run bench -w detect       (BENCH_PAIRS, BENCH_RUNS to change)
 */
import { SqliteStore, type DeviceRegistration, type FrameToStore } from '@suido/ingest';
import { median, printReport } from '@suido/infra/bench';
import { pino } from 'pino';
import { MIN_NIGHT_SECONDS, PairCorrelator } from '../src/pairs/pair-correlator.ts';
import { NOMINAL_WAVE_SPEED_MS, judgePairRecordings } from '../src/pairs/pair-verdict.ts';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 40);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const FLEET_PAIRS = 1000;
const FRAMES_PER_NIGHT = 12;
const LISTENING_S = 2 * 3600;
const FS = 8000;
const SPACING_M = 180;
const NIGHT0 = Date.parse('2026-11-21T02:00:00+09:00');

let seed = 1;
const r = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5;
const pcm = () => Int16Array.from({ length: FS }, () => Math.round(r() * 4000));

/** Pair p's night: its two sensors' frames, every 10 minutes from 02:00. */
function night(p: number): FrameToStore[] {
  const out: FrameToStore[] = [];
  for (let i = 0; i < FRAMES_PER_NIGHT; i++) {
    for (const side of ['a', 'b']) out.push({ sensorId: `S-${p}${side}`, startMs: NIGHT0 + i * 600_000, sampleRateHz: FS, gainDb: 0, samples: pcm(), summary: { rmsDbfs: -30, clippedRatio: 0 } });
  }
  return out;
}

const geometry = { spacingM: SPACING_M, material: 'ductile_iron', waveSpeedMs: NOMINAL_WAVE_SPEED_MS.ductile_iron } as const;
const recordings = Array.from({ length: FRAMES_PER_NIGHT }, () => ({ a: Float32Array.from(pcm(), (v) => v / 32768), b: Float32Array.from(pcm(), (v) => v / 32768) }));

/** Judgements a second of a whole night (12 frame pairs), the verdict alone. */
function judgeAlone(): number {
  const n = 20;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) judgePairRecordings(recordings, FS, geometry);
  return n / ((performance.now() - t0) / 1000);
}

/**
 * Looks a second at the nights the correlator looks at pass by pass (1, 2,
 * … 12 frame pairs), the verdict alone: as the correlator, it judges a night
 * only once it holds MIN_NIGHT_SECONDS in step.
 */
function judgeGrowingAlone(): number {
  const t0 = performance.now();
  for (let k = 1; k <= FRAMES_PER_NIGHT; k++) if (k >= MIN_NIGHT_SECONDS) judgePairRecordings(recordings.slice(0, k), FS, geometry);
  return FRAMES_PER_NIGHT / ((performance.now() - t0) / 1000);
}

/** Judgements a second by the correlator over SQLite: every pair's night judged again after each slot, 12 passes. */
async function judgeThroughStore(): Promise<{ rate: number; judged: number }> {
  const store = new SqliteStore({ path: ':memory:' });
  const registry: DeviceRegistration[] = [];
  for (let p = 0; p < PAIRS; p++) {
    for (const [side, chainageM] of [['a', 0], ['b', SPACING_M]] as const) registry.push({ id: `S-${p}${side}`, kind: 'sensor', district: 'Naka', pipeId: `P-${p}`, pipeMaterial: 'ductile_iron', chainageM });
  }
  await store.upsertDevices(registry);
  const nights = Array.from({ length: PAIRS }, (_, p) => night(p));
  // One slot of every pair a pass: each pass judges every pair's night with all its frames so far.
  const correlator = new PairCorrelator({ store, log: pino({ level: 'silent' }), batchSize: 2 * PAIRS });
  let judged = 0;
  let seconds = 0;
  for (let slot = 0; slot < FRAMES_PER_NIGHT; slot++) {
    await store.commit({ receivedAtMs: Date.now(), reads: [], frames: nights.flatMap((frames) => frames.slice(2 * slot, 2 * slot + 2)), statuses: [], deadLetters: [] });
    const t0 = performance.now();
    const pass = await correlator.runOnce();
    seconds += (performance.now() - t0) / 1000;
    judged += pass.nights;
  }
  await store.close();
  return { rate: judged / seconds, judged };
}

const alone: number[] = [];
const growing: number[] = [];
const throughStore: number[] = [];
let judgedPerRun = 0;
for (let run = 0; run < RUNS; run++) {
  alone.push(judgeAlone());
  growing.push(judgeGrowingAlone());
  const s = await judgeThroughStore();
  throughStore.push(s.rate);
  judgedPerRun = s.judged;
}
const fleetNeed = (FLEET_PAIRS * FRAMES_PER_NIGHT) / LISTENING_S;

printReport({
  bench: 'pair-correlator',
  title: 'Pair correlator: pair-nights judged per second',
  params: { runs: RUNS, pairs: PAIRS, framesPerNight: FRAMES_PER_NIGHT, sampleRateHz: FS, spacingM: SPACING_M, fleetPairs: FLEET_PAIRS },
  figures: [
    {
      name: `a night of ${FRAMES_PER_NIGHT} frame pairs judged (judgePairRecordings)`,
      value: median(alone),
      unit: 'pair-nights/s',
      baseline: { name: `fleet of ${FLEET_PAIRS} pairs, each night judged again at each frame`, value: fleetNeed },
    },
    {
      name: 'the correlator over SQLite (read back, judge, commit), a look at each slot',
      value: median(throughStore),
      unit: 'pair-nights/s',
      baseline: { name: 'the same looks, the verdict alone', value: median(growing) },
    },
  ],
  notes: [
    `the fleet's need: ${FLEET_PAIRS} pairs × ${FRAMES_PER_NIGHT} judgements a night over the ${LISTENING_S / 3600} listening hours = ${fleetNeed.toFixed(2)} pair-nights/s (nights of ${FRAMES_PER_NIGHT} frames: the conservative case)`,
    `through the store: ${judgedPerRun} looks a run (${PAIRS} pairs × ${FRAMES_PER_NIGHT} passes), each night judged on the frames stored so far once they hold ${MIN_NIGHT_SECONDS} s in step (slots ${MIN_NIGHT_SECONDS} to ${FRAMES_PER_NIGHT})`,
  ],
});
