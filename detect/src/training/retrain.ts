/**
 * `npm run train -w detect -- --version V [--jobs N] [--out model] [--work ../data] [--recipe NAME|FILE] [--mains-lines S]`
 * `npm run dataset -w detect` (--datasets-only): the data sets alone.
 *
 * The shipped model from nothing, on every core: the recipe's data sets
 * (recipe.ts; those already there with the same seed and options are kept),
 * then the feature cache filled by N processes at once (train.ts
 * --features-only), then the heads, N at a time (train.ts --first-head),
 * then one run that merges them, chooses the operating point and writes the
 * model, its card and metrics into --out (train.ts --reuse-model). Run one
 * after the other in one process the same work takes hours longer; each
 * step is a process of its own, its output in WORK/logs/ (and each running
 * step's latest progress line printed every minute). A head whose
 * directory holds a model trained by the same command is kept, so a run
 * stopped midway goes on where it stopped.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { datasetArgs, heldOutArgs, manifestMatches, recipeDatasets, recordingsArgs, RECIPES, trainDataArgs, type DatasetRecipe, type Recipe } from './recipe.ts';

const DETECT = fileURLToPath(new URL('../..', import.meta.url));
const TRAIN = fileURLToPath(new URL('./train.ts', import.meta.url));
const DATASET = fileURLToPath(new URL('../../../simulators/src/dataset/dataset-cli.ts', import.meta.url));

const { values } = parseArgs({
  options: {
    version: { type: 'string' },
    jobs: { type: 'string', default: String(availableParallelism()) },
    out: { type: 'string', default: 'model' },
    work: { type: 'string', default: '../data' },
    recipe: { type: 'string' },
    'mains-lines': { type: 'string' },
    'datasets-only': { type: 'boolean', default: false },
  },
});
const fail = (message: string): never => {
  process.stderr.write(`retrain: ${message}\n`);
  process.exit(2);
};
if (!values.version && !values['datasets-only']) fail('give --version V: the model this makes is another one');
const jobs = Number(values.jobs);
if (!(Number.isInteger(jobs) && jobs >= 1)) fail(`--jobs must be a whole number >= 1, got '${values.jobs}'`);
// A recipe by name (recipe.ts RECIPES), or a JSON file of a Recipe's shape (a test's small one).
const recipeName = values.recipe ?? 'shipped';
const recipe: Recipe = Object.hasOwn(RECIPES, recipeName)
  ? RECIPES[recipeName]!
  : (JSON.parse(await readFile(values.recipe!, 'utf8').catch(() => fail(`--recipe: '${values.recipe}' is neither a recipe (${Object.keys(RECIPES).join(', ')}) nor a readable file`))) as Recipe);
const work = values.work!;
const cache = join(work, 'feature-cache');
const logs = resolve(DETECT, work, 'logs');
const frontEnd = values['mains-lines'] === undefined ? [] : ['--mains-lines', values['mains-lines']];
const started = Date.now();
const say = (msg: string) => process.stderr.write(`[retrain ${((Date.now() - started) / 60_000).toFixed(1)} min] ${msg}\n`);

/** Each running step's last line of output, for the progress printed every PROGRESS_MS. */
const running = new Map<string, string>();
const PROGRESS_MS = 60_000;
const progress = setInterval(() => {
  for (const [name, last] of running) say(`${name}: ${last || 'running'}`);
}, PROGRESS_MS);
progress.unref();

/** Runs one step (a TypeScript command, from detect/) with its output in logs/NAME.log; rejects when it fails. */
async function step(name: string, file: string, args: readonly string[]): Promise<void> {
  const logFile = join(logs, `${name}.log`);
  const out = createWriteStream(logFile);
  say(`${name}: started (log: ${logFile})`);
  const t = Date.now();
  running.set(name, '');
  const code = await new Promise<number>((done, broke) => {
    // Every path of a recipe is relative to detect/; the dataset command resolves --out against npm's INIT_CWD (where
    // `npm run` was typed), which for `npm run train -w detect` at the root is the root: each step gets detect/ as both.
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: DETECT, env: { ...process.env, INIT_CWD: DETECT }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => {
        out.write(chunk);
        const lines = chunk.toString('utf8').trim().split('\n');
        running.set(name, lines.at(-1)!.replace(/^\[train\]\s*/, '').slice(0, 160));
      });
    }
    child.on('error', broke);
    child.on('close', (c) => done(c ?? 1));
  });
  running.delete(name);
  out.end();
  if (code !== 0) throw new Error(`${name} failed (exit ${code}); see ${logFile}`);
  say(`${name}: done in ${((Date.now() - t) / 60_000).toFixed(1)} min`);
}

/** Runs the tasks, at most `jobs` at a time, in the order given; the first failure fails the lot (the others finish first). */
async function pool(tasks: readonly (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < tasks.length && errors.length === 0) {
      const task = tasks[next++]!;
      await task().catch((err: unknown) => errors.push(err));
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

const isWhole = async (d: DatasetRecipe) => {
  const text = await readFile(join(resolve(DETECT, d.dir), 'manifest.json'), 'utf8').catch(() => undefined);
  return text !== undefined && manifestMatches(d, JSON.parse(text) as Parameters<typeof manifestMatches>[1]);
};
const headDir = (h: number) => join(work, `heads-${values.version}-h${h}`);
const headArgs = (h: number) => [
  ...trainDataArgs(recipe, { extraVal: false }), ...recipe.headOptions, ...frontEnd, ...(h === recipe.heads - 1 ? recipe.lastHeadOptions : []),
  '--heads', '1', '--first-head', String(h), '--feature-cache', cache, '--out', headDir(h),
];
/** The command train.ts writes into its metrics.json: a head made by the same one is kept. */
const trainedBy = async (h: number) => {
  const text = await readFile(join(resolve(DETECT, headDir(h)), 'metrics.json'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as { command?: string }).command;
};

try {
  await mkdir(logs, { recursive: true });
  if (!values['datasets-only']) say(`${recipe.heads} heads of version ${values.version}, ${jobs} at a time; data sets, features and heads under ${work}`);

  const datasets = recipeDatasets(recipe);
  const missing: DatasetRecipe[] = [];
  for (const d of datasets) if (!(await isWhole(d))) missing.push(d);
  say(`data sets: ${datasets.length - missing.length} of ${datasets.length} there; making ${missing.map((d) => d.dir).join(', ') || 'none'}`);
  // Largest first, so that the last to finish is a small one.
  const size = (d: DatasetRecipe) => d.sensors * d.nights * d.framesPerNight * d.frameSeconds;
  await pool(
    [...missing].sort((a, b) => size(b) - size(a)).map((d) => async () => {
      // A set cut short would leave its old manifest beside new frames: start from an empty directory.
      await rm(resolve(DETECT, d.dir), { recursive: true, force: true });
      // Named by the whole path: ../data/onset/acoustic-dataset-seed5-2000 is not ../data/acoustic-dataset-seed5-2000.
      await step(`dataset-${d.dir.split('/').filter((p) => p !== '' && p !== '..' && p !== '.').join('-')}`, DATASET, datasetArgs(d));
    }),
  );

  if (values['datasets-only']) {
    say('data sets made');
    process.exit(0);
  }

  await pool(Array.from({ length: jobs }, (_, i) => () => step(`features-${i + 1}-of-${jobs}`, TRAIN, [...trainDataArgs(recipe), ...recipe.headOptions, ...frontEnd, ...recordingsArgs(recipe), '--feature-cache', cache, '--features-only', `${i + 1}/${jobs}`])));

  await pool(
    Array.from({ length: recipe.heads }, (_, h) => async () => {
      const command = `npx tsx src/training/train.ts ${headArgs(h).join(' ')}`;
      if ((await trainedBy(h)) === command) say(`head ${h}: kept (${headDir(h)} was trained by the same command)`);
      else await step(`head-${h}`, TRAIN, headArgs(h));
    }),
  );

  const heads = Array.from({ length: recipe.heads }, (_, h) => headDir(h)).join(',');
  // Served as the heads were trained, unless the recipe serves plain heads behind the line front end (servedMainsLineShare).
  const served = frontEnd.length === 0 && recipe.servedMainsLineShare !== undefined ? ['--mains-lines', String(recipe.servedMainsLineShare)] : [];
  await step('merge', TRAIN, [...trainDataArgs(recipe), ...recipe.mergeOptions, ...served, ...heldOutArgs(recipe), '--feature-cache', cache, '--reuse-model', heads, '--version', values.version!, '--out', values.out!]);
  say(`model ${values.version} written to ${values.out} (leak-detector.onnx, MODEL_CARD.md, metrics.json)`);
} catch (err) {
  fail((err as Error).message);
}
