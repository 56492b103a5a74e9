/**
 * `npm run survey -w detect -- [--hours 24] [--top 30] [--material pvc] [--json] [--model FILE]`
 *
 * Ranks the fleet's sensors by their strongest K-of-N leak evidence over the
 * last --hours (survey/leak-survey.ts): the sensors a crew should listen at
 * next, beside the alerts. Reads the store the services use (SUIDO_STORE,
 * SUIDO_SQLITE_PATH, ... as README "Configuration") and the model the
 * detector runs (DETECT_MODEL_PATH, or --model): its K of N and its
 * thresholds, and only the scores that model gave; beside each sensor the
 * state of its leak alert not yet resolved, if any. Prints a table, or one
 * JSON object per sensor with --json; progress on stderr.
 */
import { parseArgs } from 'node:util';
import { ConfigError, EnvReader, openStore, readStoreConfig } from '@suido/ingest';
import { DEFAULT_MODEL_PATH } from '../model/default-model.ts';
import { LeakModel } from '../model/leak-model.ts';
import { registeredSensors } from '../registry/registered-sensors.ts';
import { rankSurvey } from '../survey/leak-survey.ts';

// npm runs a workspace's script in its folder; the store's paths (./data) and --model are where it was typed, as for the services.
if (process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);

const HOUR_MS = 3_600_000;
const MAX_WINDOWS = 100_000;

const fail = (message: string): never => {
  process.stderr.write(`survey: ${message}\n`);
  process.exit(2);
};

let values;
try {
  ({ values } = parseArgs({
    options: {
      hours: { type: 'string', default: '24' },
      top: { type: 'string', default: '30' },
      material: { type: 'string' },
      json: { type: 'boolean', default: false },
      model: { type: 'string' },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
const hours = Number(values!.hours);
if (!(hours > 0 && hours <= 24 * 31)) fail(`--hours must be a number above 0 and at most ${24 * 31}, got '${values!.hours}'`);
const top = Number(values!.top);
if (!(Number.isInteger(top) && top >= 1)) fail(`--top must be a whole number >= 1, got '${values!.top}'`);

const env = new EnvReader(process.env);
let storeConfig;
try {
  storeConfig = readStoreConfig(env);
  env.finish();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
const model = await LeakModel.load(values!.model ?? process.env.DETECT_MODEL_PATH ?? DEFAULT_MODEL_PATH);
const { persistence, thresholds, version } = model.info;
await model.close();
if (!persistence) fail(`model ${version} does not say its K of N`);

const store = openStore({ store: storeConfig! });
try {
  const sensors = (await registeredSensors(store)).filter((d) => values!.material === undefined || d.pipeMaterial === values!.material);
  const toMs = Date.now();
  const fromMs = toMs - hours * HOUR_MS;
  const scores = new Map<string, number[]>();
  for (const [i, s] of sensors.entries()) {
    const got = await store.scoresInRange(s.id, fromMs, toMs, MAX_WINDOWS);
    // Oldest first (the store's order), and only this model's: a new model scores the same windows again beside the old.
    scores.set(s.id, got.filter((x) => x.modelVersion === version).map((x) => x.score));
    if ((i + 1) % 200 === 0) process.stderr.write(`survey: ${i + 1}/${sensors.length} sensors read\n`);
  }
  const ranked = rankSurvey(
    sensors.map((d) => ({ id: d.id, material: d.pipeMaterial, site: d.site })),
    (id) => scores.get(id) ?? [],
    persistence!,
    thresholds,
  ).slice(0, top);
  // Whether a crew already has the sensor: the state of its leak alert not yet resolved.
  const rows = await Promise.all(ranked.map(async (r) => ({ ...r, leakAlert: (await store.openAlertFor(r.sensorId, 'leak'))?.state ?? null })));
  if (values!.json) {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
  } else {
    process.stdout.write(`model ${version}, ${persistence!.k} of ${persistence!.n} windows; ${sensors.length} sensors, the last ${hours} h; margin in log-odds over the sensor's threshold (>= 0: the rule fires)\n`);
    process.stdout.write(`${'sensor'.padEnd(14)}${'material'.padEnd(17)}${'site'.padEnd(19)}${'windows'.padStart(8)}${'evidence'.padStart(10)}${'threshold'.padStart(11)}${'margin'.padStart(8)}  ${'rank in material'.padEnd(18)}leak alert\n`);
    for (const r of rows) {
      const num = (x: number | null, digits: number) => (x === null ? '-' : x.toFixed(digits));
      process.stdout.write(
        `${r.sensorId.padEnd(14)}${(r.material ?? '-').padEnd(17)}${(r.site ?? '-').padEnd(19)}${String(r.windows).padStart(8)}${num(r.evidence, 3).padStart(10)}${r.threshold.toFixed(3).padStart(11)}${num(r.margin, 2).padStart(8)}  ${(r.materialRank === null ? '-' : `${r.materialRank} of ${r.materialSensors}`).padEnd(18)}${r.leakAlert ?? '-'}\n`,
      );
    }
  }
} finally {
  await store.close();
}
