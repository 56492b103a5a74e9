import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeakModel } from '../src/model/leak-model.ts';
import type { Recipe } from '../src/training/recipe.ts';
import { runTsx } from './run-tsx.ts';

/**
 * `npm run train -w detect` (retrain.ts), in small: a recipe of two tiny
 * data sets and two heads, two jobs at a time. What is checked is the
 * orchestration — data sets made once, the feature cache filled by the
 * shards so that no head computes a feature, the heads merged into one
 * model whose card names the commands that trained them — not the figures.
 */
const DETECT = fileURLToPath(new URL('..', import.meta.url));
const RETRAIN = join(DETECT, 'src/training/retrain.ts');

describe('npm run train (retrain.ts), in small', () => {
  let dir: string;
  const at = (name: string) => join(dir, name);
  // `npm run train -w detect` typed at the repository's root sets npm's INIT_CWD to the root, not detect/. Here it is a
  // folder deeper than any checkout's detect/, so that a path resolved against it instead lands somewhere else.
  const npmTypedIn = () => at('npm-typed-here/a/b/c/d/e/f/g/h/i/j');
  const retrain = (args: string[]) =>
    runTsx(RETRAIN, ['--recipe', at('recipe.json'), '--work', at('work'), '--jobs', '2', ...args], { cwd: DETECT, env: { ...process.env, INIT_CWD: npmTypedIn() }, timeoutMs: 300_000 });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-retrain-'));
    const recipe: Recipe = {
      data: { dir: at('work/main'), seed: 41, sensors: 30, nights: 2, framesPerNight: 6, frameSeconds: 1, dayShare: 0.15 },
      extraTrain: [],
      extraVal: [{ dir: at('work/more-val'), seed: 42, sensors: 20, nights: 2, framesPerNight: 6, frameSeconds: 1, dayShare: 0.15 }],
      // A recipe's paths are relative to detect/ (the shipped one's are): made and read there wherever npm was run from.
      recordingsTest: { dir: relative(DETECT, at('work/hand-held')), seed: 44, sensors: 30, nights: 1, framesPerNight: 1, frameSeconds: 10, dayShare: 0 },
      heads: 2,
      headOptions: ['--hidden', '8', '--epochs', '3', '--k', '2', '--n', '3', '--context', '--colour-share', '0.5'],
      lastHeadOptions: [],
      mergeOptions: ['--k', '2', '--n', '3'],
      // Plain heads served behind the line front end, as 2.4.4's are.
      servedMainsLineShare: 0.3,
    };
    await writeFile(at('recipe.json'), JSON.stringify(recipe));
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('makes the data sets, fills the feature cache in shards, trains the heads two at a time and merges them into one model', async () => {
    const run = await retrain(['--version', '9.9.9', '--out', at('model')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('data sets: 0 of 3 there');
    expect(run.stderr).toMatch(/features-2-of-2: done in/);
    expect(run.stderr).toMatch(/head-1: done in/);
    expect(run.stderr).toContain(`model 9.9.9 written to ${at('model')}`);

    // The shards did the features: each head found every split's in the cache.
    for (const h of [0, 1]) {
      const log = await readFile(at(`work/logs/head-${h}.log`), 'utf8');
      expect(log).toContain('features from the cache');
      expect(log).not.toMatch(/\d+\/\d+ frames/);
      // The extra validation is the merge's (the operating point), not the heads'.
      expect(log).not.toContain('more-val');
    }
    expect(await readFile(at('work/logs/merge.log'), 'utf8')).toContain('more-val');
    // Main's three splits, the extra validation set's three, the recordings' three, as the heads were trained (plain);
    // and those the merge scores, again behind the front end it serves (servedMainsLineShare).
    expect((await readdir(at('work/feature-cache'))).filter((f) => f.endsWith('.f32')).length).toBeGreaterThan(9);

    const model = await LeakModel.load(at('model/leak-detector.onnx'));
    try {
      expect(model.info.version).toBe('9.9.9');
      expect(model.info.raw.heads).toBe('2');
      expect(model.info.recordingThreshold).toBeGreaterThan(0);
      expect(model.info.frontEnd).toEqual({ minLineShare: 0.3 });
    } finally {
      await model.close();
    }
    const card = await readFile(at('model/MODEL_CARD.md'), 'utf8');
    expect(card).toContain('--first-head 0');
    expect(card).toContain('--first-head 1');
    expect(card).toContain(`--reuse-model ${at('work')}/heads-9.9.9-h0,${at('work')}/heads-9.9.9-h1`);
    expect(card).toContain('--mains-lines 0.3');
    expect(JSON.parse(await readFile(at('model/metrics.json'), 'utf8'))).toMatchObject({ mainsLineShare: 0.3, trainedMainsLineShare: 0 });

    // The same heads served with a front end they were not trained with: the card says so, the file serves it.
    const served = await runTsx(
      join(DETECT, 'src/training/train.ts'),
      ['--data', at('work/main'), '--k', '2', '--n', '3', '--feature-cache', at('work/feature-cache'), '--reuse-model', at('work/heads-9.9.9-h0') + ',' + at('work/heads-9.9.9-h1'), '--mains-lines', '0.5', '--version', '9.9.10', '--out', at('served')],
      { cwd: DETECT, timeoutMs: 120_000 },
    );
    expect(served.code, served.stderr).toBe(0);
    const withLines = await LeakModel.load(at('served/leak-detector.onnx'));
    expect(withLines.info.frontEnd).toEqual({ minLineShare: 0.5 });
    await withLines.close();
    expect(JSON.parse(await readFile(at('served/metrics.json'), 'utf8'))).toMatchObject({ mainsLineShare: 0.5, trainedMainsLineShare: 0 });
    expect(await readFile(at('served/MODEL_CARD.md'), 'utf8')).toContain('its heads were trained on windows with every line left in');

    // The data sets are kept when asked again.
    const again = await retrain(['--datasets-only']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('data sets: 3 of 3 there; making none');
  }, 300_000);

  it('refuses to run without a version, or with a number of jobs that is not one', async () => {
    expect(await retrain([])).toMatchObject({ code: 2, stderr: expect.stringContaining('give --version V') });
    expect(await retrain(['--version', '1', '--jobs', '0'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--jobs must be a whole number >= 1') });
    const unknown = await runTsx(RETRAIN, ['--recipe', at('no-such-recipe.json'), '--version', '1'], { cwd: DETECT, timeoutMs: 60_000 });
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining(`--recipe: '${at('no-such-recipe.json')}' is neither a recipe (shipped, plastic-mains, plastic-clips) nor a readable file`) });
  }, 60_000);
});
