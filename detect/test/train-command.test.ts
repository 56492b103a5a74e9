import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeWav } from '../src/audio/wav.ts';
import { LeakModel } from '../src/model/leak-model.ts';
import { VERDICT_INPUTS_EVERY_NIGHT } from '../src/model/level-history.ts';
import { runTsx } from './run-tsx.ts';

/**
 * The training command end to end, in small: the dataset command makes the
 * four kinds of data set the shipped model's run takes (main, hand-held
 * recordings, onsets for the test and for the verdict), then `train.ts`
 * trains a one-head context model on them and writes the ONNX file, its
 * card and metrics. The figures of so small a run mean nothing; what is
 * checked is that every option reaches the file and the card, and that a
 * held-out set a step saw is refused before any training.
 */
const DETECT = fileURLToPath(new URL('..', import.meta.url));
const TRAIN = join(DETECT, 'src/training/train.ts');
const DATASET = fileURLToPath(new URL('../../simulators/src/dataset/dataset-cli.ts', import.meta.url));
const ROBUSTNESS = join(DETECT, 'src/training/robustness.ts');
const SECOND_STAGE = join(DETECT, 'src/training/second-stage-probe.ts');
const SCORE_WAV = join(DETECT, 'src/cli/score-wav.ts');

const tsx = (file: string, args: string[], timeoutMs: number) => runTsx(file, args, { cwd: DETECT, timeoutMs });

describe('npm run train (train.ts), in small', () => {
  let dir: string;
  const at = (name: string) => join(dir, name);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-train-'));
    const sets: [string, string[]][] = [
      ['main', ['--seed', '31', '--sensors', '30', '--nights', '2', '--frames-per-night', '6']],
      ['hand-held', ['--seed', '34', '--sensors', '30', '--nights', '1', '--frames-per-night', '1', '--frame-seconds', '10', '--day-share', '0']],
      ['onset', ['--seed', '32', '--sensors', '30', '--nights', '3', '--frames-per-night', '6', '--leak-onset-share', '0.5']],
      ['verdict', ['--seed', '33', '--sensors', '40', '--nights', '3', '--frames-per-night', '6', '--leak-onset-share', '0.5']],
      ['stage', ['--seed', '36', '--sensors', '20', '--nights', '1', '--frames-per-night', '1', '--frame-seconds', '10', '--day-share', '0']],
      ['pvc-pump', ['--seed', '35', '--sensors', '16', '--nights', '1', '--frames-per-night', '1', '--frame-seconds', '20', '--day-share', '0', '--leak-share', '0.5', '--material', 'pvc', '--environment', 'near_pump', '--sensor-type', 'hydrophone', '--leak-distance', '0-5']],
    ];
    for (const [name, args] of sets) {
      const made = await tsx(DATASET, [...args, '--out', at(name), '--quiet'], 60_000);
      expect(made, made.stderr).toMatchObject({ code: 0 });
    }
  }, 240_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('trains a context model (coloured, with hum) and writes its ONNX file with the operating point (material thresholds calibrated), recording threshold and night verdict, and a card with every test', async () => {
    const args = ['--data', at('main'), '--out', at('model'), '--heads', '1', '--hidden', '8', '--epochs', '3', '--k', '2', '--n', '3', '--context', '--colour-share', '0.5', '--hum-share', '0.3', '--mains-lines', '0.1', '--calibrate-materials', '--recording-stage', '--stage-thresholds', at('stage'), '--verdict-first-nights', '--train-min-snr', '3', '--untold-stage'];
    const held = ['--recordings-test', at('hand-held'), '--onset-test', at('onset'), '--level-history', at('verdict'), '--conditions-test', at('pvc-pump')];
    const trained = await tsx(TRAIN, [...args, ...held], 240_000);
    expect(trained.code, trained.stderr).toBe(0);
    expect(trained.stderr).toMatch(/ONNX Runtime vs TensorFlow\.js on \d+ validation windows/);

    const model = await LeakModel.load(at('model/leak-detector.onnx'));
    try {
      expect(model.info.persistence).toEqual({ k: 2, n: 3 });
      expect(model.info.contextWindows).toBeGreaterThan(1);
      expect(model.info.recordingThreshold).toBeGreaterThan(0);
      // --verdict-first-nights: the verdict judges a sensor's first night too.
      expect(model.info.levelVerdict?.inputs).toBe(VERDICT_INPUTS_EVERY_NIGHT);
      // Served with the front end it was trained with.
      expect(model.info.frontEnd).toEqual({ minLineShare: 0.1 });
      // --calibrate-materials: a threshold for each material of the validation nights, from one calibrated probability.
      expect(Object.keys(model.info.thresholds.byMaterial).length).toBeGreaterThan(1);
      // --recording-stage: the second stage, fitted on the hand-held set's train and val splits, with a threshold per site group.
      expect(model.info.recordingStage?.components.length).toBe(30);
      expect(Object.keys(model.info.recordingStage!.thresholds).sort()).toEqual(['default', 'near_prv', 'near_pump']);
      // ...and the same stage fitted never told the material, for recordings given without it.
      expect(model.info.recordingStageUntold?.components.length).toBe(30);
      expect(Object.keys(model.info.recordingStageUntold!.thresholds).sort()).toEqual(['default', 'near_prv', 'near_pump']);
      expect(model.info.recordingStageUntold!.weights).not.toEqual(model.info.recordingStage!.weights);
    } finally {
      await model.close();
    }
    const metrics = JSON.parse(await readFile(at('model/metrics.json'), 'utf8'));
    // --train-min-snr: leaks under 3 dB weigh 0 in training only, and the card says so.
    expect(trained.stderr).toMatch(/train: \d+ leak windows under 3 dB of SNR/);
    expect(metrics.trainMinSnrDb).toBe(3);
    expect(await readFile(at('model/MODEL_CARD.md'), 'utf8')).toContain('audible leaks under 3 dB of in-band SNR');
    // Seed 32 is no other set's: every split of it is the onset test.
    expect(metrics.onset).toMatchObject({ splits: 'all', sensors: 30, leakOnsetShare: 0.5, levelHistory: expect.any(Object) });
    // The test split's nights by the rule and as the detector judges them with the verdict.
    expect(metrics.onset.levelHistory.testSplit).toMatchObject({ rule: { nights: expect.any(Number) }, verdict: { nights: metrics.onset.levelHistory.testSplit.rule.nights } });
    expect(metrics.recordings).toMatchObject({ frameSeconds: 10 });
    expect(metrics).toMatchObject({ colourShare: 0.5, humShare: 0.3, mainsLineShare: 0.1 });
    // The stage's thresholds were chosen on the --stage-thresholds set's no-leak recordings too.
    expect(metrics.recordingStage.thresholdsChosenOn).toBeGreaterThan(metrics.recordingStage.fittedOn.noLeak);
    const card = await readFile(at('model/MODEL_CARD.md'), 'utf8');
    // The card names the command that made it, so that it can be run again.
    expect(card).toContain(`src/training/train.ts ${[...args, ...held].join(' ')}`);
    expect(card).toContain('Mains hum: the training windows of 30 % of the training sensors');
    expect(card).toContain('carries 10 % or more of the window\'s power is fitted and subtracted');
    expect(card).toMatch(/The material thresholds are one threshold on the probability of a leak\sgiven the night's score and the main's material/);
    expect(card).toContain('(those and the --stage-thresholds sets)');
    expect(card).toMatch(/\| the second stage never told the material \| [01]\.\d{3} \([+−]\d\.\d{3}, 95 % /);
    expect(metrics.recordingStageUntold.test.stageAuc).toBeGreaterThan(0);
    expect(card).toContain("Every night, a sensor's first too (told it has no earlier night: its rise 0)");
    expect(card).toMatch(/On the test split above \(leaks there from the first night\), as the detector judges its nights: by the\nK-of-N rule recall [01]\.\d{3}/);
    for (const heading of ['## Results on the test split', '## Leaks that begin while the sensor listens', "### With the sensor's level history", '## Hand-held recordings', '### Judged as a whole: the second stage', '## Field-trial conditions']) {
      expect(card).toContain(heading);
    }
    // The condition set, named by what it held fixed, scored as score-wav scores it.
    expect(card).toMatch(/\| hydrophones, on pvc, at near_pump, leaks 0–5 m away \(`.*pvc-pump`, seed 35\) \| [01]\.\d{3} \| [01]\.\d{3} \| \d+ of \d+ \| \d+ of \d+ \|/);
    expect(metrics.conditions).toEqual([
      expect.objectContaining({ seed: 35, conditions: { material: 'pvc', environment: 'near_pump', sensorType: 'hydrophone', leakDistanceM: [0, 5] }, frameSeconds: 20, leakClips: expect.any(Number), clipAuc: expect.any(Number) }),
    ]);
    expect(metrics.conditions[0].leakClips + metrics.conditions[0].noLeakClips).toBeGreaterThan(8);

    // score-wav gives the second stage's verdict on a recording beside the heads', told the main's material.
    const noise = Int16Array.from({ length: 20 * 8000 }, (_, i) => Math.round(2000 * Math.sin(i / 7) + ((i * 7919) % 400) - 200));
    await writeFile(at('rec.wav'), writeWav(noise, 8000));
    const told = await tsx(SCORE_WAV, [at('rec.wav'), '--model', at('model/leak-detector.onnx'), '--material', 'pvc'], 60_000);
    expect(told.code, told.stderr).toBe(0);
    expect(told.stderr).toMatch(/rec\.wav: (LEAK|no leak) by the second stage, judging the recording as a whole: probability [01]\.\d{3} against [01]\.\d{3} \(told it is a pvc main\)/);
    // Told the site alone, the stage fitted never told the material judges; told neither, no stage does.
    const untold = await tsx(SCORE_WAV, [at('rec.wav'), '--model', at('model/leak-detector.onnx'), '--site', 'near_pump'], 60_000);
    expect(untold.code, untold.stderr).toBe(0);
    expect(untold.stderr).toMatch(/rec\.wav: (LEAK|no leak) by the second stage, judging the recording as a whole: probability [01]\.\d{3} against [01]\.\d{3} \(told its site \(near_pump\), not the main's material \(--material\): the stage fitted without it\)/);
    const alone = await tsx(SCORE_WAV, [at('rec.wav'), '--model', at('model/leak-detector.onnx')], 60_000);
    expect(alone.code, alone.stderr).toBe(0);
    expect(alone.stderr).toContain("rec.wav: the second stage judges a recording told the main's material (--material) or its site (--site); without it the verdict above is the recording's");
    expect(alone.stderr).not.toContain('by the second stage');

    // The robustness command scores the hand-held clips with that model, as recorded and changed.
    const robust = await tsx(ROBUSTNESS, ['--data', at('hand-held'), '--model', at('model/leak-detector.onnx'), '--variants', 'as-recorded,hum-60'], 60_000);
    expect(robust.code, robust.stderr).toBe(0);
    const lines = robust.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/clips of .*hand-held \(test\); clip score: the 2-th highest/);
    expect(lines.slice(1).map((l) => /^(stage untold|stage alone|\S+)/.exec(l)![1])).toEqual(['as-recorded', 'hum-60', 'stage', 'stage untold', 'stage alone']);
    for (const line of lines.slice(1, 3)) {
      expect(line).toMatch(/window ROC-AUC [01]\.\d{3}  clip ROC-AUC [01]\.\d{3}  mean no-leak window score 0\.\d{3}  called a leak: leak clips \d+\/\d+ \([01]\.\d{3}\), no-leak clips \d+\/\d+ \([01]\.\d{3}\)/);
    }
    // The model's own second stage, on the clips as recorded.
    expect(lines[3]).toMatch(/^stage +clip ROC-AUC [01]\.\d{3}; against the heads' [01]\.\d{3}: [+−]\d\.\d{3}, 95 % interval [+−]\d\.\d{3} to [+−]\d\.\d{3}  called a leak: leak clips \d+\/\d+, no-leak clips \d+\/\d+  \(the model's second stage/);
    // ...told the site alone, by the stage never told the material, as score-wav --site judges; and told neither.
    expect(lines[4]).toMatch(/^stage untold clip ROC-AUC [01]\.\d{3}; against the heads' [01]\.\d{3}: .*\(the model's stage fitted never told the material, told each clip's site/);
    expect(lines[5]).toMatch(/^stage alone  clip ROC-AUC [01]\.\d{3}; against the heads' [01]\.\d{3}: .*\(the untold stage told neither \(score-wav gives no stage verdict so\)\)/);
    // Every split of a set that no model was trained on: more clips than its test split alone.
    const all = await tsx(ROBUSTNESS, ['--data', at('hand-held'), '--model', at('model/leak-detector.onnx'), '--variants', 'as-recorded', '--split', 'all'], 60_000);
    expect(all.code, all.stderr).toBe(0);
    const count = (out: string) => Number(/; (\d+) clips of/.exec(out)![1]);
    expect(count(all.stdout)).toBeGreaterThan(count(robust.stdout));
    expect(all.stdout).toContain('(all)');
    // Against a second model, the same clips scored by both: the model against itself differs by nothing, on every draw.
    const paired = await tsx(ROBUSTNESS, ['--data', at('hand-held'), '--model', at('model/leak-detector.onnx'), '--against', at('model/leak-detector.onnx'), '--variants', 'as-recorded', '--split', 'all'], 60_000);
    expect(paired.code, paired.stderr).toBe(0);
    const clipAuc = /clip ROC-AUC ([01]\.\d{3})/.exec(paired.stdout)![1];
    expect(paired.stdout).toContain(`against ${model.info.version}: clip ROC-AUC ${clipAuc}; difference +0.000, 95 % interval +0.000 to +0.000 (2000 draws of the ${count(all.stdout)} clips, the same for both): not told apart`);
    const refused = await tsx(ROBUSTNESS, ['--data', at('hand-held'), '--variants', 'fog'], 60_000);
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown variant fog; known: as-recorded, dc-offset') });
    const loggers = await tsx(ROBUSTNESS, ['--data', at('main'), '--model', at('model/leak-detector.onnx')], 60_000);
    expect(loggers).toMatchObject({ code: 2, stderr: expect.stringContaining('sensors with more than one frame') });
  }, 240_000);

  it('measures a second stage on recordings: fitted on one set, the heads and the stages on another, told and as a recording given alone', async () => {
    const probe = await tsx(SECOND_STAGE, ['--fit', at('hand-held'), '--test', at('pvc-pump'), '--components', '5'], 120_000);
    expect(probe.code, probe.stderr).toBe(0);
    const lines = probe.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^model \S+; fitted on \d+ recordings of .*hand-held \(\d+ with an audible leak\), 5 principal components; thresholds per site group at 0\.5 false per 100 fitting recordings$/);
    expect(lines[1]).toMatch(/pvc-pump: \d+ leak, \d+ no-leak recordings$/);
    expect(lines[2]).toMatch(/^  heads alone +clip ROC-AUC [01]\.\d{3} \(plastic mains [01]\.\d{3}\); called: \d+ of \d+ leak, \d+ of \d+ no-leak$/);
    for (const [i, name] of [[3, 'told the material'], [4, 'not told']] as const) {
      expect(lines[i]).toMatch(new RegExp(`^  second stage, ${name} +clip ROC-AUC [01]\\.\\d{3} \\(plastic mains [01]\\.\\d{3}\\); against the heads [+−]\\d\\.\\d{3} \\(95 % [+−]\\d\\.\\d{3} to [+−]\\d\\.\\d{3}\\); called: \\d+ of \\d+ leak, \\d+ of \\d+ no-leak$`));
    }
    // As a recording given alone is judged: the heads at one threshold (the same ranking: no difference), the untold stage told neither, and a stage fitted so.
    expect(lines[5]).toMatch(/^  heads alone, not told the site +clip ROC-AUC ([01]\.\d{3}) .*; against the heads \+0\.000 \(95 % \+0\.000 to \+0\.000\); called: /);
    expect(/clip ROC-AUC ([01]\.\d{3})/.exec(lines[5]!)![1]).toBe(/clip ROC-AUC ([01]\.\d{3})/.exec(lines[2]!)![1]);
    // ...and the told stage at thresholds per site group and main (plastic or metal).
    for (const [i, name] of [[6, 'not told, nor the site'], [7, 'fitted told neither'], [8, 'told, thresholds per main too']] as const) {
      expect(lines[i]).toMatch(new RegExp(`^  ${name} +clip ROC-AUC [01]\\.\\d{3} \\(plastic mains [01]\\.\\d{3}\\); against the heads [+−]\\d\\.\\d{3} \\(95 % [+−]\\d\\.\\d{3} to [+−]\\d\\.\\d{3}\\); called: \\d+ of \\d+ leak, \\d+ of \\d+ no-leak$`));
    }
    expect(lines).toHaveLength(9);
    const refused = await tsx(SECOND_STAGE, ['--test', at('pvc-pump')], 60_000);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('give --fit DIR[,DIR...] (data sets of hand-held recordings)');
  }, 240_000);

  it('refuses, before computing any feature, a verdict fitted on sensors that trained the heads and an onset test of validation data', async () => {
    const refused = await tsx(TRAIN, ['--data', at('main'), '--out', at('refused'), '--context', '--extra-val', at('onset'), '--onset-test', at('onset'), '--level-history', at('main'), '--conditions-test', at('main')], 60_000);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('invalid configuration');
    expect(refused.stderr).toContain(`--onset-test ${at('onset')} is also training or validation data`);
    expect(refused.stderr).toContain(`--level-history ${at('main')}: its leaks all begin before its first night`);
    expect(refused.stderr).toContain(`--level-history ${at('main')}: seed 31 made sensors the heads were trained on`);
    expect(refused.stderr).toContain(`--conditions-test ${at('main')}: seed 31 made sensors a step here learned from`);
    expect(refused.stderr).toContain(`--conditions-test ${at('main')}: not recordings`);
    expect(refused.stderr).not.toContain('computing features');
    const unconfirmed = await tsx(TRAIN, ['--data', at('main'), '--out', at('refused'), '--context', '--confirm-nights'], 60_000);
    expect(unconfirmed.code).not.toBe(0);
    expect(unconfirmed.stderr).toContain('--confirm-nights confirms the night verdict: it needs --level-history');
    expect(unconfirmed.stderr).not.toContain('computing features');
  }, 60_000);
});
