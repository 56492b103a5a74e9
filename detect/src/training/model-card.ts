import {
  BAND_COUNT,
  BAND_FEATURE_COUNT,
  BAND_HIGH_HZ,
  BAND_LOW_HZ,
  FEATURE_COUNT,
  FEATURE_GROUPS,
  FRAME_SAMPLES,
  HOP_SAMPLES,
  LOW_BIN_COUNT,
  LOW_FEATURE_COUNT,
  LOW_FEATURE_GROUPS,
  LOW_FIRST_BIN,
  LOW_FRAME_SAMPLES,
  LOW_FRAMES_PER_WINDOW,
  LOW_HOP_SAMPLES,
  MODEL_SAMPLE_RATE_HZ,
} from '../model/feature-spec.ts';
import { INFRASOUND_CUTOFF_HZ } from '../audio/high-pass.ts';
import { MAX_LINE_HZ } from '../audio/mains-lines.ts';
import { groupThresholds, type Thresholds } from '../model/operating-point.ts';
import { CALIBRATED_MATERIALS, type NightReport, type Persistence, type WindowReport } from './evaluation.ts';
import { CONTEXT_FEATURE_COUNT, CONTEXT_GROUPS, CONTEXT_MEDIAN_RANK, CONTEXT_P20_RANK, CONTEXT_ROWS, CONTEXT_SETTLED_MS, CONTEXT_SPACING_MS, CONTEXT_WINDOWS } from '../model/sensor-context.ts';
import { DEFAULT_COLOURING } from './device-colouring.ts';
import type { FamilyProbe } from './family-probe.ts';
import type { FitOptions } from './fit.ts';
import { judgesFirstNights, type LevelVerdict } from '../model/level-history.ts';
import type { ClipReport } from './clip-scores.ts';
import type { RecordingStageReport } from './second-stage.ts';
import type { DatasetConditions } from './recipe.ts';

/** One data set of one condition, scored (train.ts --conditions-test). */
export interface ConditionsReport extends ClipReport {
  readonly dir: string;
  readonly seed: number;
  /** What the data set held fixed (its manifest's `conditions`; empty: the population's mix). */
  readonly conditions: DatasetConditions;
  readonly frameSeconds: number;
}

export interface ModelCardInput {
  readonly version: string;
  readonly generatedAt: string;
  readonly command: string;
  /** The command(s) that trained the heads, when this card's command reused them (train.ts --reuse-model; several when heads trained apart were merged). */
  readonly reusedFrom?: readonly string[] | undefined;
  readonly datasetDir: string;
  readonly manifest: Record<string, unknown>;
  /** Extra datasets (other seeds: other simulated sensors), every split of each added to training only. */
  readonly moreData: readonly { dir: string; manifest: Record<string, unknown> }[];
  /** Extra datasets whose every split was added to validation only (--extra-val). */
  readonly moreValidation: readonly { dir: string; manifest: Record<string, unknown> }[];
  /** The K of N rules tried on validation, each with its threshold and validation figures. */
  readonly operatingPoints: readonly { persistence: Persistence; thresholds: Thresholds; recall: number; falsePer100: number; auc: number }[];
  /** Validation no-leak nights the chosen thresholds were chosen on: 'default' and each separate site. */
  readonly chosenOn: Readonly<Record<string, number>>;
  readonly splitCounts: Record<string, { frames: number; windows: number; sensors: number; skipped: Record<string, number> }>;
  readonly fit: Omit<FitOptions, 'onEpoch'>;
  /** Share of training windows passed through a random device response (device-colouring.ts). */
  readonly colourShare: number;
  /** Share of training windows (sensors, for a context model) with mains hum added (mains-hum.ts). */
  readonly humShare: number;
  /** Set where leaks under this in-band SNR (dB) were left out of training (label-margin.ts). */
  readonly trainMinSnrDb?: number | undefined;
  /** The front end's mains-line share (audio/mains-lines.ts); 0: high-pass only. Absent in cards before the option. */
  readonly mainsLineShare?: number | undefined;
  /** Set where the heads were trained with another share than the model is served with. */
  readonly trainedMainsLineShare?: number | undefined;
  /** A context model (model/sensor-context.ts): the training stride. */
  readonly context?: { readonly stride: number } | undefined;
  readonly familyProbe?: FamilyProbe | undefined;
  /** Per head. */
  readonly epochsRun: readonly number[];
  readonly layers: readonly { inputs: number; units: number }[];
  /** The default threshold and the sites' and materials' own. */
  readonly thresholds: Thresholds;
  readonly persistence: Persistence;
  readonly maxFalsePer100: number;
  readonly parityMaxAbsDiff: number;
  readonly test: { readonly window: WindowReport; readonly night: NightReport };
  readonly val: { readonly night: NightReport };
  readonly baseline: { readonly alpha: number; readonly thresholdDb: number; readonly test: NightReport; readonly val: NightReport };
  /**
   * The test split of a data set of hand-held recordings (train.ts
   * --recordings-test): one contiguous clip per sensor, each window scored
   * with the clip's earlier windows (spaced, joinsContext), as score-wav scores a recording;
   * judged at the recording threshold chosen on the data set's other splits
   * (`chosenOn` no-leak recordings), and at the loggers' thresholds beside it.
   */
  readonly recordings?:
    | {
        readonly dir: string;
        readonly frameSeconds: number;
        readonly threshold: number;
        readonly chosenOn: number;
        readonly window: WindowReport;
        readonly night: NightReport;
        readonly atLoggerThresholds: NightReport;
      }
    | undefined;
  /** train.ts --recording-stage: the second stage that judges a recording as a whole, its fit and its test. */
  readonly recordingStage?: RecordingStageReport | undefined;
  /** The same stage fitted never told the material (`recording_stage_untold`): score-wav's told --site without --material. */
  readonly recordingStageUntold?: RecordingStageReport | undefined;
  /**
   * Data sets of one condition each (train.ts --conditions-test; the
   * dataset command's --material, --environment, --sensor-type,
   * --sample-rate, --leak-distance), every split, clips no step used,
   * scored through the written model as score-wav scores them: how the
   * model fares where a field trial would put it.
   */
  readonly conditions?: readonly ConditionsReport[] | undefined;
  /**
   * The test split made again with leaks that begin inside the recorded
   * nights (train.ts --onset-test): the same test sensors, at the operating
   * point; `onset` and `fromFirstNight` each judge one kind of leak against
   * every no-leak night (evaluation.ts withLeaksOf).
   */
  readonly onset?:
    | {
        readonly dir: string;
        readonly leakOnsetShare: number;
        /** 'test': --data's remake, its test split; 'all': a seed no step used, every split. */
        readonly splits: 'test' | 'all';
        readonly sensors: number;
        readonly night: NightReport;
        readonly onset: NightReport;
        readonly fromFirstNight: NightReport;
        /**
         * train.ts --level-history: the night verdict with level history
         * (model/level-history.ts), fitted on `dirs`, against the K-of-N rule
         * on the same nights (each scored so that 0.5 alerts: level-verdict.ts judgedNights).
         */
        readonly levelHistory?:
          | {
              readonly dirs: readonly string[];
              readonly verdict: LevelVerdict;
              readonly fittedOn: { readonly leakNights: number; readonly noLeakNights: number };
              readonly nightsWithHistory: number;
              readonly rule: VerdictComparison;
              readonly verdictResult: VerdictComparison;
              /** The test split's nights (leaks there from the first night), by the rule and as the detector judges them with this verdict. */
              readonly testSplit?: { readonly rule: NightReport; readonly verdict: NightReport } | undefined;
              /**
               * Where the verdict has a confirmed threshold: the same verdict
               * judging every night alone (its own threshold chosen at the
               * budget without confirmation), and the fitting nights' figures both ways.
               */
              readonly confirmation?:
                | {
                    /** The model carries the confirmed verdict (train.ts --confirm-nights); else the one judging each night alone. */
                    readonly adopted: boolean;
                    readonly threshold: number;
                    readonly confirmedThreshold: number;
                    readonly aloneThreshold: number;
                    readonly aloneResult: VerdictComparison;
                    readonly confirmedResult: VerdictComparison;
                    readonly fitting: { readonly alone: { readonly recall: number; readonly falsePer100: number }; readonly confirmed: { readonly recall: number; readonly falsePer100: number } };
                  }
                | undefined;
            }
          | undefined;
      }
    | undefined;
  readonly targets: { readonly auc: number; readonly recall: number; readonly falsePer100: number };
}

const thresholdsText = (t: Thresholds) => [f3(t.default), ...groupThresholds(t).map(([name, v]) => `${name} ${f3(v)}`)].join(', ');

/** The per-site and per-material thresholds in words, and how many validation nights each rests on. */
function groupText(c: ModelCardInput): string {
  const sites = Object.entries(c.thresholds.bySite) as [string, number][];
  const materials = Object.entries(c.thresholds.byMaterial) as [string, number][];
  if (sites.length + materials.length === 0) return '';
  // --calibrate-materials: one threshold on a calibrated probability, not one budget per material.
  const calibrated = c.chosenOn[CALIBRATED_MATERIALS];
  const own = [
    ...sites.map(([site, v]) => `**${f3(v)}** at sensors the registry places \`${site}\` (chosen on that site's ${c.chosenOn[site]} validation no-leak nights; never below the default)`),
    ...materials.map(([m, v]) =>
      calibrated === undefined
        ? `**${f3(v)}** on \`${m}\` mains at any other site (chosen on their ${c.chosenOn[m]} validation no-leak nights)`
        : `**${f3(v)}** on \`${m}\` mains at any other site`,
    ),
  ];
  const how =
    calibrated === undefined
      ? ''
      : ` The material thresholds are one threshold on the probability of a leak
given the night's score and the main's material (a logistic regression,
training/material-calibration.ts), chosen within the budget on the
${calibrated} validation no-leak nights at sites without a threshold of their own:
the same evidence of a leak on every main, where one budget per material
would spend it evenly whether or not a material's leaks can use it.`;
  return `

Thresholds of their own: ${own.join('; ')}. The default holds at every
other sensor and where the registry records neither (chosen on their
${c.chosenOn.default} validation no-leak nights). Each group's own threshold
keeps its false alerts within the same budget without moving every other
sensor's; the fewer nights it was chosen on, the less its test figure below
can be trusted.${how}`;
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
const table = (rows: Record<string, number>, header: [string, string], fmt = f3) =>
  [`| ${header[0]} | ${header[1]} |`, '|---|---|', ...Object.entries(rows).map(([k, v]) => `| ${k} | ${fmt(v)} |`)].join('\n');

function verdict(ok: boolean): string {
  return ok ? 'met' : '**not met**';
}

function contextText(stride: number): string {
  return `## Context: a window with its sensor's previous windows
The graph takes a second input, \`context\`: the features above of the
sensor's previous ${CONTEXT_ROWS} windows (float32 [batch, ${CONTEXT_ROWS}, ${FEATURE_COUNT}]), and gives
the window's own features back as a second output, \`features\`, for the
caller to keep. The heads see, per feature over the ${CONTEXT_WINDOWS} windows:
${CONTEXT_GROUPS.join(', ')} (ranks ${CONTEXT_MEDIAN_RANK} and ${CONTEXT_P20_RANK} of ${CONTEXT_WINDOWS}, ascending) — ${CONTEXT_FEATURE_COUNT} inputs.
A sensor with a shorter history repeats what it has; with none, the
window's own features fill the context. A window joins the history only if it
starts ${CONTEXT_SPACING_MS / 1000} s or more after the last one that joined: a logger's frames
(minutes apart) all join; a contiguous recording's context spans its last
half minute instead of its last ${CONTEXT_ROWS} s. A leak is steady for days and a
truck, a tram or a spell of water use lifts a few windows, so the median of
a feature over a night's frames is a noise logger's minimum night noise done
per feature, with twelve times the frames for the 20–60 Hz band of a
plastic main. Labels are the sensor's (a leak it hears on a quiet night is 1
in every window); training takes ${stride === 1 ? 'every window' : `one window in ${stride}`} of each sensor in context,
evaluation every window.`;
}

function humText(share: number, perSensor: boolean): string {
  return `Mains hum: ${perSensor ? `the training windows of ${Math.round(share * 100)} % of the training sensors, each sensor with a hum of its own,` : `${Math.round(share * 100)} % of the training windows`}
(drawn apart from the colouring) had mains hum added before their features were computed (\`training/mains-hum.ts\`):
50 or 60 Hz, a transformer's series (twice the grid frequency strongest) or pickup's (odd harmonics), at −20 to
+15 dB of the window's RMS, without regard to the label.`;
}

function colouringText(share: number, perSensor: boolean): string {
  const r = DEFAULT_COLOURING;
  return `Device colouring: ${perSensor ? `the training windows of ${Math.round(share * 100)} % of the training sensors,
each sensor with its own response,` : `${Math.round(share * 100)} % of the training windows`}
(drawn with the seed) were passed through a random device response before
their features were computed: 0–${r.maxPeaks} resonances or notches at ${r.peakHz[0]}–${r.peakHz[1]} Hz
(${r.peakGainDb[0]} to +${r.peakGainDb[1]} dB, Q ${r.peakQ[0]}–${r.peakQ[1]}), a high shelf at ${r.shelfHz[0]}–${r.shelfHz[1]} Hz
(${r.shelfGainDb[0]} to +${r.shelfGainDb[1]} dB) and, for ${Math.round(r.highPassShare * 100)} % of them, a 2nd-order high-pass at
${r.highPassHz[0]}–${r.highPassHz[1]} Hz — wider than both simulated sensor families, and drawn
without regard to the label, so the model cannot take one family's response
for a sign of a leak. Validation and test windows are scored as recorded.`;
}

function firstAlertText(n: NightReport): string {
  if (n.alertedByNight === undefined || n.leakSensors === 0) return '';
  const by = n.alertedByNight;
  return `How soon a leak is found, of the ${n.leakSensors} sensors with audible-leak nights
(nights in order; the last row is every such night there was):

| alerted by its … leak night | share of leak sensors |
|---|---|
${by.map((share, i) => `| ${ORDINALS[i] ?? `${i + 1}th`} | ${f3(share)} |`).join('\n')}
| never | ${f3(1 - (by[by.length - 1] ?? 0))} |`;
}

const ORDINALS = ['first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth'];

function probeText(p: FamilyProbe): string {
  const types = Object.keys(p.auc);
  return `### Carrying over to a sensor type it was not trained on
One head of the same recipe trained on one sensor type's training windows
alone, scored on each type's test windows (window ROC-AUC, audible leak vs
no leak). The diagonal is the familiar case; off the diagonal is a device
unlike any in training, as a new sensor model in the field would be.

| trained on ↓ / tested on → | ${types.map((t) => `${t} (n=${p.testWindows[t]})`).join(' | ')} |
|---|${types.map(() => '---').join('|')}|
${types.map((a) => `| ${a} (${p.trainWindows[a]} windows) | ${types.map((b) => f3(p.auc[a]![b]!)).join(' | ')} |`).join('\n')}
`;
}

/** The seed of a run's first head (fit.ts: head h has seed + h). */
const firstSeed = (fit: ModelCardInput['fit']) => fit.seed + (fit.firstHead ?? 0);

/** MODEL_CARD.md, regenerated by `npm run train -w detect`; never edited by hand. */
export function renderModelCard(c: ModelCardInput): string {
  const t = c.test;
  const b = c.baseline;
  const aucOk = t.window.auc >= c.targets.auc;
  const recallOk = t.night.recall >= c.targets.recall && t.night.falseAlertsPer100Nights <= c.targets.falsePer100;
  // Compared on each measure, so a mixed result reads as mixed, not as a win.
  const measures = [
    { name: 'ROC-AUC', model: t.night.auc, baseline: b.test.auc, higherIsBetter: true },
    { name: 'recall', model: t.night.recall, baseline: b.test.recall, higherIsBetter: true },
    { name: 'false alerts', model: t.night.falseAlertsPer100Nights, baseline: b.test.falseAlertsPer100Nights, higherIsBetter: false },
  ];
  const better = measures.filter((m) => (m.higherIsBetter ? m.model > m.baseline : m.model < m.baseline)).map((m) => m.name);
  const worse = measures.filter((m) => (m.higherIsBetter ? m.model < m.baseline : m.model > m.baseline)).map((m) => m.name);
  const comparison =
    worse.length === 0 && better.length > 0
      ? `beats the baseline on this split (better ${better.join(', ')})`
      : better.length === 0
        ? '**does not beat the baseline on this split**'
        : `is **ahead of the baseline on ${better.join(', ')} and behind on ${worse.join(', ')}** on this split: not a clear win`;
  return `# Model card: Suido acoustic leak detector ${c.version}

*Generated by \`${c.command}\` on ${c.generatedAt}. Do not edit; retrain instead.*
${c.reusedFrom ? `\n*Its heads were trained by ${c.reusedFrom.map((cmd) => `\`${cmd}\``).join(' and ')} and reused as they are; this command chose the operating point again and measured everything below again.*\n` : ''}
## What it does
Takes one second of sound from an acoustic sensor on a water main (mono PCM
resampled to ${MODEL_SAMPLE_RATE_HZ} Hz, full scale ±1) and returns the
probability that a leak on that pipe is audible in it. A window scores as a
leak at **${f3(c.thresholds.default)}** or above${groupThresholds(c.thresholds).length > 0 ? ' (the default threshold)' : ''}; the alert engine raises a leak alert
when **${c.persistence.k} of the last ${c.persistence.n}** windows of a sensor
score as leaks.${groupText(c)}

File: \`detect/model/leak-detector.onnx\` (ONNX opset 17): input \`pcm\`
float32 [batch, 4000], output \`score\` float32 [batch, 1]; its metadata holds
the version, threshold${groupThresholds(c.thresholds).length > 0 ? ', the thresholds of sensor groups (`site_thresholds`, `material_thresholds`)' : ''}${c.recordings ? ', the threshold for hand-held recordings (`recording_threshold`)' : ''} and sample rate.

## Data
Synthetic, from the simulator's acoustic physics (\`simulators/README.md\`):
dataset \`${c.datasetDir}\`, generator manifest:

\`\`\`json
${JSON.stringify(c.manifest, null, 2).slice(0, 4000)}
\`\`\`

${
  c.moreData.length === 0
    ? ''
    : `Training also takes every split (train, validation and test sensors alike) of ${c.moreData
        .map((e) => `\`${e.dir}\` (seed ${String(e.manifest.seed)}, options ${JSON.stringify(e.manifest.options)})`)
        .join('; ')}: other simulated sensors from the same generator, their ids prefixed (\`d2/S-0001\`) as every run numbers its sensors from S-0001.
The validation and test splits are those of \`${c.datasetDir}\`${c.moreValidation.length > 0 ? ' (validation with the datasets below)' : ' alone, unchanged'}; training refuses to run if a sensor id is in two splits.

`
}${
  c.moreValidation.length === 0
    ? ''
    : `Validation also takes every split of ${c.moreValidation
        .map((e) => `\`${e.dir}\` (seed ${String(e.manifest.seed)}, options ${JSON.stringify(e.manifest.options)})`)
        .join('; ')}, ids prefixed likewise: more nights to choose the operating point and the baseline's parameters on (a site with a threshold of its own has few), no sensor of training or test among them. Early stopping watches \`${c.datasetDir}\`'s validation sensors only.

`
}Split **by sensor** (no sensor in two splits):

| split | sensors | frames | windows | frames skipped |
|---|---|---|---|---|
${Object.entries(c.splitCounts)
  .map(([k, v]) => `| ${k} | ${v.sensors} | ${v.frames} | ${v.windows} | ${JSON.stringify(v.skipped)} |`)
  .join('\n')}

**Limits.** Every figure below is measured on simulated sound. The simulator
randomises what real devices vary (material, distance, leak size, sensor type,
gain, sample rate, confounders), but a model can still learn a quirk of the
simulator that real recordings lack. Treat these numbers as an upper bound
until the model is measured on field recordings.

## Features (inside the ONNX graph)
In front of the graph, as the live detector, \`score-wav\` and training all cut
windows (\`stream/windower.ts\`): each recording chunk resampled to ${MODEL_SAMPLE_RATE_HZ} Hz
and high-passed at ${INFRASOUND_CUTOFF_HZ} Hz (4th order; \`audio/high-pass.ts\`: infrasound that
real sensors record and the simulated data does not hold)${(c.mainsLineShare ?? 0) > 0 ? `; then in each 1 s window every mains line (a multiple of 50 or 60 Hz up to ${MAX_LINE_HZ} Hz, searched within the grid's wander) that carries ${Math.round(c.mainsLineShare! * 100)} % or more of the window's power is fitted and subtracted (\`audio/mains-lines.ts\`; \`mains_line_share\` in the model's metadata${c.trainedMainsLineShare === undefined ? '; training windows given hum or a device response lose theirs the same way after it' : ''})` : ''}${c.trainedMainsLineShare !== undefined ? ` (its heads were trained ${c.trainedMainsLineShare > 0 ? `with lines of ${Math.round(c.trainedMainsLineShare * 100)} % or more taken out` : 'on windows with every line left in'}; this front end was put in front of them when the operating point was chosen, and every figure below is measured through it)` : ''}. In the graph:
DC removed; ${FRAME_SAMPLES}-sample Hann frames, hop ${HOP_SAMPLES} (30 per
window); power spectrum by a DFT written as constant MatMuls; ${BAND_COUNT}
triangular bands on the ERB scale, ${BAND_LOW_HZ}–${BAND_HIGH_HZ} Hz; natural
log (power floored at −60 dB under the window's mean, so the floor scales
with the recording too); the window's mean log level subtracted (so gain,
sensitivity and an uncalibrated recorder do not matter); then per band, over
the frames: ${FEATURE_GROUPS.join(', ')} — ${BAND_FEATURE_COUNT} features. Leak hiss
is steady and broadband, so it lifts a band's low percentile and median
(robust to one transient, unlike the minimum) with a small deviation and a
temporal flatness (tflat: log of mean power minus mean log power) near that of
steady noise; traffic raises the mean, the deviation and tflat; a tone (mains
hum, pump lines, squeal) raises the band's spectral flatness measure (sflat:
log of arithmetic over geometric mean of its bins' power), which hiss does
not.

A low-frequency block beside the bands, for plastic mains, whose leak noise
lies below ~300 Hz where the bands are only 2–4 bins wide: ${LOW_FRAME_SAMPLES}-sample
Hann frames, hop ${LOW_HOP_SAMPLES} (${LOW_FRAMES_PER_WINDOW} per window), each ${(MODEL_SAMPLE_RATE_HZ / LOW_FRAME_SAMPLES).toFixed(1)} Hz bin from
${((LOW_FIRST_BIN * MODEL_SAMPLE_RATE_HZ) / LOW_FRAME_SAMPLES).toFixed(1)} to ${(((LOW_FIRST_BIN + LOW_BIN_COUNT - 1) * MODEL_SAMPLE_RATE_HZ) / LOW_FRAME_SAMPLES).toFixed(1)} Hz on its own (${LOW_BIN_COUNT} bins), its log power minus the log of the
window's mean bin power; per bin over the frames: ${LOW_FEATURE_GROUPS.join(', ')} —
${LOW_FEATURE_COUNT} features, ${FEATURE_COUNT} in all. It separates a plastic pipe's leak from the
hydrophone's water-column resonances, 60 Hz hum and a pump's lines that share
an ERB band with it. Every feature is a difference of log powers: level
cancels.

Why in the graph: the model file alone defines the detector; the streaming
detector, the WAV scoring CLI and any other runtime feed it PCM and cannot
drift from the features it was trained on. Training computes the same
features with a TypeScript reference (FFT) and a test holds the two together.

${c.context ? contextText(c.context.stride) + '\n\n' : ''}## Architecture and training
Standardised ${c.context ? 'context ' : ''}features → ${c.layers.map((l) => `dense ${l.units}`).join(' → ')}
(ReLU, sigmoid out), L2 ${c.fit.l2}, dropout ${c.fit.dropout}; Adam
${c.fit.learningRate}, batch ${c.fit.batchSize}, early stopping on validation
loss (patience ${c.fit.patience}; ${c.epochsRun.join(', ')} epochs run), ${
  c.fit.heads > 1
    ? `an ensemble of ${c.fit.heads} such heads on the same features, seeds
${firstSeed(c.fit)}–${firstSeed(c.fit) + c.fit.heads - 1}, whose probabilities the graph averages (one head
overfits the training sensors within a few epochs, so where early stopping
lands varies with the seed; the mean varies less)`
    : `seed ${firstSeed(c.fit)}`
}; leak windows weighted by the class ratio. Inaudible leaks are
left out of training (they are background physically) and reported apart.${
  c.trainMinSnrDb !== undefined
    ? ` So are audible leaks under ${c.trainMinSnrDb} dB of in-band SNR (${c.context ? "the sensor's on a quiet night" : "the frame's"}): near the audibility line a leak is as much background as leak (label-margin.ts); every test keeps them.`
    : ''
}
${c.colourShare > 0 ? colouringText(c.colourShare, c.context !== undefined) : 'Training windows are used as recorded (no device colouring).'}
${c.humShare > 0 ? `${humText(c.humShare, c.context !== undefined)}
` : ''}TensorFlow.js (${(c.fit.backend ?? 'cpu') === 'cpu' ? 'CPU' : c.fit.backend} backend) trains; ONNX Runtime serves. Largest difference
between ${c.reusedFrom ? "the reused heads' TypeScript forward pass" : 'TensorFlow.js'} and ONNX Runtime on the validation windows:
**${c.parityMaxAbsDiff.toExponential(2)}**.

${
  c.operatingPoints.length <= 1
    ? `The threshold and the baseline's parameters were chosen on the validation
split (highest recall at ≤ ${c.maxFalsePer100} false alerts per 100 no-leak
sensor-nights); the test split was used once, for the figures below.`
    : `The operating point (the K of N rule and the threshold) and the baseline's
parameters were chosen on the validation split (highest recall at
≤ ${c.maxFalsePer100} false alerts per 100 no-leak sensor-nights); the test
split was used once, for the figures below.

| K of N (validation) | threshold | recall | false / 100 nights | night ROC-AUC |
|---|---|---|---|---|
${c.operatingPoints
  .map((o) => `| ${o.persistence.k} of ${o.persistence.n}${o.persistence.k === c.persistence.k && o.persistence.n === c.persistence.n ? ' (chosen)' : ''} | ${thresholdsText(o.thresholds)} | ${f3(o.recall)} | ${f2(o.falsePer100)} | ${f3(o.auc)} |`)
  .join('\n')}`
}

## Results on the test split

### Against the targets
| target | value | |
|---|---|---|
| ROC-AUC per window ≥ ${c.targets.auc} | ${f3(t.window.auc)} | ${verdict(aucOk)} |
| recall per leak night ≥ ${c.targets.recall} at ≤ ${c.targets.falsePer100} false alerts / 100 sensor-nights (after persistence) | recall ${f3(t.night.recall)}, ${f2(t.night.falseAlertsPer100Nights)} false / 100 | ${verdict(recallOk)} |

### Model beside the noise-logger baseline (per sensor-night)
| | model (${c.persistence.k} of ${c.persistence.n} windows) | baseline (min night level, spread) |
|---|---|---|
| ROC-AUC | ${f3(t.night.auc)} | ${f3(b.test.auc)} |
| recall (audible leak nights) | ${f3(t.night.recall)} | ${f3(b.test.recall)} |
| precision | ${f3(t.night.precision)} | ${f3(b.test.precision)} |
| false alerts per 100 no-leak nights | ${f2(t.night.falseAlertsPer100Nights)} | ${f2(b.test.falseAlertsPer100Nights)} |
| alerts on inaudible-leak nights | ${f3(t.night.inaudibleAlertRate)} | ${f3(b.test.inaudibleAlertRate)} |

Baseline: score = L_min − ${b.alpha} × (L_p90 − L_min), alarm at ≥ ${f2(b.thresholdDb)} dB.
The model ${comparison}.
Nights: ${t.night.leakNights} audible-leak, ${t.night.noLeakNights} no-leak, ${t.night.inaudibleNights} inaudible-leak.

### Per window (threshold ${thresholdsText(c.thresholds)})
| | value |
|---|---|
| windows | ${t.window.windows} |
| ROC-AUC (audible leak vs no leak) | ${f3(t.window.auc)} |
| precision | ${f3(t.window.atThreshold.precision)} |
| recall | ${f3(t.window.atThreshold.recall)} |
| F1 | ${f3(t.window.atThreshold.f1)} |
| inaudible-leak windows scored as leak | ${f3(t.window.inaudibleAboveThreshold)} |
| daytime no-leak windows scored as leak | ${f3(t.window.daytimeFalsePositiveRate)} |

${table(t.window.aucByMaterial, ['pipe material', 'ROC-AUC per window'])}

${table(t.window.aucBySensorType, ['sensor type', 'ROC-AUC per window'])}

${table(t.window.aucBySampleRate, ['sample rate', 'ROC-AUC per window'])}

${table(t.window.aucByMaterialAndType, ['pipe material, sensor type', 'ROC-AUC per window'])}

${table(t.window.aucBySnr, ["leak's in-band SNR", 'ROC-AUC per window, against every no-leak window'])}

${table(t.window.aucByNoLeakEnvironment, ['no-leak windows from', 'ROC-AUC per window, against every audible-leak window'])}

${table(t.window.recallBySize, ['leak size', 'recall per window'])}

${table(t.window.recallBySampleRate, ['sample rate', 'recall per window'])}

${c.familyProbe ? probeText(c.familyProbe) : ''}
### Per sensor-night, after persistence
${firstAlertText(t.night)}

${table(t.night.recallByMaterial, ['pipe material', 'recall'])}

${table(t.night.recallBySize, ['leak size', 'recall'])}

${table(t.night.recallBySensorSnr, ["leak's in-band SNR at the sensor on a quiet night", 'recall'])}

${table(t.night.recallByEnvironment, ['environment (leak)', 'recall'])}

${table(t.night.falseAlertsPer100ByEnvironment, ['environment (no leak)', 'false alerts / 100 nights'], f2)}

### Validation split (where the threshold was chosen)
Model: recall ${f3(c.val.night.recall)}, ${f2(c.val.night.falseAlertsPer100Nights)} false / 100 nights, AUC ${f3(c.val.night.auc)}.
Baseline: recall ${f3(b.val.recall)}, ${f2(b.val.falseAlertsPer100Nights)} false / 100 nights, AUC ${f3(b.val.auc)}.
${c.onset ? onsetText(c.onset) : ''}${c.recordings ? recordingsText(c.recordings) : ''}${c.recordingStage ? recordingStageText(c.recordingStage, c.recordingStageUntold) : ''}${c.conditions && c.conditions.length > 0 ? conditionsText(c.conditions) : ''}`;
}

/** A data set's condition in words: what it held fixed. */
function conditionText(c: DatasetConditions): string {
  const d = c.leakDistanceM;
  const parts = [
    c.sensorType && `${c.sensorType}s`,
    c.material && `on ${c.material}`,
    c.environment && `at ${c.environment}`,
    c.sampleRateHz && `${c.sampleRateHz} Hz`,
    d && `leaks ${d[0] === d[1] ? d[0] : d.join('–')} m away`,
  ].filter((x): x is string => typeof x === 'string');
  return parts.length > 0 ? parts.join(', ') : 'the population\'s mix';
}

function conditionsText(list: readonly ConditionsReport[]): string {
  const rows = list.map(
    (r) =>
      `| ${conditionText(r.conditions)} (\`${r.dir}\`, seed ${r.seed}) | ${f3(r.clipAuc)} | ${f3(r.windowAuc)} | ${r.leakClipsCalled} of ${r.leakClips} | ${r.noLeakClipsCalled} of ${r.noLeakClips} |`,
  );
  return `
## Field-trial conditions (a fourth test)
Data sets of one condition each, as a field trial or a test rig holds one (the dataset
command's \`--material\`, \`--environment\`, \`--sensor-type\`, \`--sample-rate\`,
\`--leak-distance\`): every split, recordings of ${list.map((r) => r.frameSeconds).filter((x, i, a) => a.indexOf(x) === i).join(' or ')} s of sensors no step of this
model used, scored as \`score-wav\` scores them; a clip's score is the K-th highest of the
windows its verdict counts, and "called a leak" is \`score-wav --site S --material M\`'s
verdict (the recording threshold, a site's own where higher). Inaudible-leak clips are
left out.

| condition | clip ROC-AUC | window ROC-AUC | leak clips called a leak | no-leak clips called a leak |
|---|---|---|---|---|
${rows.join('\n')}
`;
}

interface VerdictComparison {
  readonly onset: NightReport;
  readonly fromFirstNight: NightReport;
  readonly night: NightReport;
  /** The nights with an earlier night only, where the verdict judges. */
  readonly withHistory: NightReport;
}

function levelHistoryText(l: NonNullable<NonNullable<ModelCardInput['onset']>['levelHistory']>): string {
  const c = l.confirmation;
  const columns: [string, VerdictComparison][] = c
    ? [
        ['K-of-N rule', l.rule],
        [`with level history, each night alone${c.adopted ? '' : ' (this model)'}`, c.aloneResult],
        [`with level history, confirmed by the night before${c.adopted ? ' (this model)' : ''}`, c.confirmedResult],
      ]
    : [['K-of-N rule', l.rule], ['with level history', l.verdictResult]];
  const row = (name: string, f: (r: VerdictComparison) => string) => `| ${name} | ${columns.map(([, r]) => f(r)).join(' | ')} |`;
  const every = judgesFirstNights(l.verdict);
  const t = l.testSplit;
  return `
### With the sensor's level history (\`level_verdict\`)
${every ? 'Every night, a sensor\'s first too (told it has no earlier night: its rise 0),' : 'A night after a sensor\'s first'} is judged by a logistic regression on its K-of-N night
score, its site and how far each band's level rose over the sensor's earlier nights
(\`detect/src/model/level-history.ts\`), fitted on the nights of ${l.dirs.map((d) => `\`${d}\``).join(', ')}
(${l.fittedOn.leakNights} audible-leak and ${l.fittedOn.noLeakNights} no-leak nights${every ? '' : ' with an earlier night'};
no head was trained on their sensors), its threshold **${f3(l.verdict.threshold)}** chosen there at the same
budget${every ? '' : "; a sensor's first night by the K-of-N rule"}. Here ${l.nightsWithHistory} of the nights have an earlier night.
${
    t
      ? `On the test split above (leaks there from the first night), as the detector judges its nights: by the
K-of-N rule recall ${f3(t.rule.recall)} at ${f2(t.rule.falseAlertsPer100Nights)} false alerts per 100 no-leak nights; with this verdict
**${f3(t.verdict.recall)} at ${f2(t.verdict.falseAlertsPer100Nights)}** (night ROC-AUC ${f3(t.rule.auc)} and ${f3(t.verdict.auc)}).
`
      : ''
  }
${
    c
      ? `
Confirmed by the night before (${c.adopted ? '**this model carries it**' : 'measured, **not carried**: `train.ts --confirm-nights` would'}): a night whose
verdict reaches ${f3(c.confirmedThreshold)} alerts when its sensor's night before reached it too, and alone
at ${f3(c.threshold)} (a leak is heard night after night; a louder night of background flow seldom comes
twice). Both thresholds were chosen together on the fitting nights at the same budget, against
${f3(c.aloneThreshold)} for each night alone: there recall ${f3(c.fitting.alone.recall)} at ${f2(c.fitting.alone.falsePer100)} false alerts per 100
alone, ${f3(c.fitting.confirmed.recall)} at ${f2(c.fitting.confirmed.falsePer100)} confirmed.
`
      : ''
  }
| | ${columns.map(([name]) => name).join(' | ')} |
|---|${columns.map(() => '---|').join('')}
${row('recall, leaks that begin inside the nights', (r) => f3(r.onset.recall))}
${row('alerted on the night the leak begins', (r) => f3(r.onset.alertedByNight[0] ?? 0))}
${row('alerted by the night after', (r) => f3(r.onset.alertedByNight[1] ?? r.onset.alertedByNight[0] ?? 0))}
${row('recall, leaks there from the first night', (r) => f3(r.fromFirstNight.recall))}
${row('false alerts per 100 no-leak nights', (r) => f2(r.night.falseAlertsPer100Nights))}
${row('night ROC-AUC, nights with an earlier night', (r) => f3(r.withHistory.auc))}
`;
}

function onsetText(o: NonNullable<ModelCardInput['onset']>): string {
  const { onset: b, fromFirstNight: f } = o;
  return `
## Leaks that begin while the sensor listens (a third test)
${
    o.splits === 'test'
      ? `The test split of \`${o.dir}\`: the same ${o.sensors} test sensors as above (${o.night.nights} sensor-nights),
made again`
      : `Every split of \`${o.dir}\`: ${o.sensors} sensors (${o.night.nights} sensor-nights) of a seed no step
of this model used (not its heads, operating point, recording threshold or verdict), made`
  } with ${f3(o.leakOnsetShare)} of the leaks beginning inside the recorded nights, so a sensor
hears its pipe without the leak first. In service nearly every leak begins so, under a
sensor that has listened for months; in the test above every leak is there from the
sensor's first night, and a context model's window waits until its context holds the
leak. Judged at the operating point above; each column against every no-leak night.

| | leaks that begin inside the nights | leaks there from the first night |
|---|---|---|
| sensors with an audible leak | ${b.leakSensors} | ${f.leakSensors} |
| night ROC-AUC | ${f3(b.auc)} | ${f3(f.auc)} |
| recall (audible-leak nights) | ${f3(b.recall)} | ${f3(f.recall)} |
| alerted on the night the leak begins / its first night | ${f3(b.alertedByNight[0] ?? 0)} | ${f3(f.alertedByNight[0] ?? 0)} |
| alerted by the next night | ${f3(b.alertedByNight[1] ?? b.alertedByNight[0] ?? 0)} | ${f3(f.alertedByNight[1] ?? 0)} |
| alerted ever | ${f3(b.alertedByNight[b.alertedByNight.length - 1] ?? 0)} | ${f3(f.alertedByNight[f.alertedByNight.length - 1] ?? 0)} |

False alerts: ${f2(o.night.falseAlertsPer100Nights)} per 100 of its ${o.night.noLeakNights} no-leak nights (those before an onset among them).
${o.levelHistory ? levelHistoryText(o.levelHistory) : ''}`;
}

function recordingStageText(r: RecordingStageReport, untold?: RecordingStageReport): string {
  const t = r.test;
  const signed = (x: number) => `${x >= 0 ? '+' : '−'}${f3(Math.abs(x))}`;
  const groups = Object.entries(r.thresholds).map(([g, v]) => `${g} ${f3(v)}`).join(', ');
  return `

### Judged as a whole: the second stage
A logistic regression on the heads' clip score, the site, whether the main is
plastic, and the recording's median window features along ${r.components} principal
components (model/recording-stage.ts; \`recording_stage\` in the model's metadata),
fitted on the same data set's train and val splits (${r.fittedOn.leak} recordings with an
audible leak, ${r.fittedOn.noLeak} without), with thresholds on its probability per site
group at the same budget (${groups}), chosen on ${r.thresholdsChosenOn} no-leak recordings${r.thresholdsChosenOn > r.fittedOn.noLeak ? ' (those and the --stage-thresholds sets)' : ''}. \`score-wav --material\` prints its verdict beside the
heads'. ${
    untold
      ? `A second one, fitted the same way but never told the material (\`recording_stage_untold\`), judges a recording told its site (\`--site\`) but not \`--material\`.`
      : 'Without `--material` it does not judge: fitted told the material, it would judge a plastic main as a metal one.'
  }
On the test split (${t.leak} leak, ${t.noLeak} no-leak recordings):

| | clip ROC-AUC | leak recordings called | no-leak recordings called |
|---|---|---|---|
| the heads (recording threshold, K of N) | ${f3(t.headsAuc)} | ${t.heads.leakCalled} of ${t.leak} | ${t.heads.noLeakCalled} of ${t.noLeak} |
| the second stage | ${f3(t.stageAuc)} (${signed(t.difference.value)}, 95 % ${signed(t.difference.low)} to ${signed(t.difference.high)}) | ${t.stage.leakCalled} of ${t.leak} | ${t.stage.noLeakCalled} of ${t.noLeak} |
${
  untold
    ? `| the second stage never told the material | ${f3(untold.test.stageAuc)} (${signed(untold.test.difference.value)}, 95 % ${signed(untold.test.difference.low)} to ${signed(untold.test.difference.high)}) | ${untold.test.stage.leakCalled} of ${untold.test.leak} | ${untold.test.stage.noLeakCalled} of ${untold.test.noLeak} |
`
    : ''
}`;
}

function recordingsText(r: NonNullable<ModelCardInput['recordings']>): string {
  const n = r.night;
  return `
## Hand-held recordings (a second test)
The test split of \`${r.dir}\`: ${n.nights} recordings of ${r.frameSeconds} s, one a sensor, each one
contiguous clip as a field engineer records it and \`score-wav\` scores it (every window
with the clip's earlier windows, ${CONTEXT_SPACING_MS / 1000} s apart, as its context), not ${CONTEXT_WINDOWS} one-second frames
spread over a night. A traffic pass or a tram lasts seconds, so inside one clip it fills
several windows of a context at once. A recording counts as an alert where the same
K of N rule fires among its windows from ${CONTEXT_SETTLED_MS / 1000} s on (whose context has
settled), as \`score-wav\` judges a recording; the window ROC-AUC takes every window.

Recordings have a threshold of their own, **${f3(r.threshold)}** (\`recording_threshold\` in the
model's metadata; a site's own threshold still holds where higher), chosen as the
default threshold is, at the same false-alert budget, on the ${r.chosenOn} no-leak recordings of
the data set's training and validation splits (no head was trained on them; sensors
at sites with thresholds of their own left out): a clip's windows are scored with a
context of seconds, not a night's frames, and their scores spread otherwise.

| | recording threshold ${f3(r.threshold)} | loggers' thresholds |
|---|---|---|
| ROC-AUC per window | ${f3(r.window.auc)} | |
| ROC-AUC per recording (audible leak vs no leak) | ${f3(n.auc)} | |
| recall (audible-leak recordings) | ${f3(n.recall)} | ${f3(r.atLoggerThresholds.recall)} |
| false alerts per 100 no-leak recordings | ${f2(n.falseAlertsPer100Nights)} | ${f2(r.atLoggerThresholds.falseAlertsPer100Nights)} |
| alerts on inaudible-leak recordings | ${f3(n.inaudibleAlertRate)} | ${f3(r.atLoggerThresholds.inaudibleAlertRate)} |

Recordings: ${n.leakNights} audible-leak, ${n.noLeakNights} no-leak, ${n.inaudibleNights} inaudible-leak.

${table(n.recallByEnvironment, ['environment (leak)', 'recall'])}

${table(n.falseAlertsPer100ByEnvironment, ['environment (no leak)', 'false alerts / 100 recordings'], f2)}

${table(r.window.aucByNoLeakEnvironment, ['no-leak windows from', 'ROC-AUC per window, against every audible-leak window'])}
`;
}
