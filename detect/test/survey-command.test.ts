import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore, type LeakScore } from '@suido/ingest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_PATH } from '../src/model/default-model.ts';
import { LeakModel } from '../src/model/leak-model.ts';
import { runTsx } from './run-tsx.ts';

/**
 * `npm run survey -w detect` on a real SQLite store the way the services
 * leave it: sensors in the registry, scores of the shipped model (and of an
 * older one, which the survey must not read) over the last hours.
 */
const SURVEY = fileURLToPath(new URL('../src/cli/survey.ts', import.meta.url));
const MINUTE = 60_000;

describe('npm run survey (survey.ts)', () => {
  let dir: string;
  let version: string;
  let k: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-survey-'));
    const model = await LeakModel.load(DEFAULT_MODEL_PATH);
    version = model.info.version;
    k = model.info.persistence!.k;
    await model.close();
    const store = new SqliteStore({ path: join(dir, 'suido.db') });
    try {
      await store.upsertDevices([
        { id: 'S-DI-LOUD', kind: 'sensor', pipeMaterial: 'ductile_iron', site: 'quiet_residential' },
        { id: 'S-DI-QUIET', kind: 'sensor', pipeMaterial: 'ductile_iron', site: 'arterial_road' },
        { id: 'S-PVC-HIGH', kind: 'sensor', pipeMaterial: 'pvc', site: 'quiet_residential' },
        { id: 'S-PVC-LOW', kind: 'sensor', pipeMaterial: 'pvc', site: 'quiet_residential' },
        { id: 'S-SILENT', kind: 'sensor', pipeMaterial: 'pvc', site: null },
        { id: 'M-1', kind: 'meter' },
      ]);
      const now = Date.now();
      const night = (sensorId: string, level: (i: number) => number, modelVersion = version): LeakScore[] =>
        Array.from({ length: 12 }, (_, i) => ({ sensorId, windowStartMs: now - 3 * 3_600_000 + i * 10 * MINUTE, windowEndMs: now - 3 * 3_600_000 + i * 10 * MINUTE + 1000, score: level(i), modelVersion }));
      await store.appendScores([
        ...night('S-DI-LOUD', () => 0.97),
        ...night('S-DI-QUIET', (i) => 0.05 + 0.01 * i),
        ...night('S-PVC-HIGH', () => 0.6),
        // An older model thought S-PVC-LOW leaked; the model the detector runs does not.
        ...night('S-PVC-LOW', () => 0.99, 'old-model'),
        ...night('S-PVC-LOW', () => 0.1),
      ]);
      // The detector has raised S-DI-LOUD already.
      await store.commitAlertChanges({ actor: 'detector', changes: [{ op: 'raise', kind: 'leak', sourceKind: 'sensor', sourceId: 'S-DI-LOUD', atMs: now - 3_600_000, score: 0.97 }], states: [] });
    } finally {
      await store.close();
    }
  }, 60_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const survey = (args: string[]) => runTsx(SURVEY, args, { env: { ...process.env, SUIDO_SQLITE_PATH: join(dir, 'suido.db') }, timeoutMs: 60_000 });

  it("ranks every sensor by its strongest K-of-N evidence over its threshold, and places it among its material's sensors", async () => {
    const out = await survey(['--json', '--hours', '24']);
    expect(out.code, out.stderr).toBe(0);
    const rows = out.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows.map((r) => r.sensorId)).toEqual(['S-DI-LOUD', 'S-PVC-HIGH', 'S-PVC-LOW', 'S-DI-QUIET', 'S-SILENT']);
    const [loud, pvcHigh, pvcLow, quiet, silent] = rows;
    expect(loud).toMatchObject({ material: 'ductile_iron', windows: 12, evidence: 0.97, materialRank: 1, materialSensors: 2, leakAlert: 'open' });
    expect(rows.filter((r) => r.leakAlert !== null).map((r) => r.sensorId)).toEqual(['S-DI-LOUD']);
    expect(loud.margin).toBeGreaterThan(0);
    // The K-th highest of the best N in a row: 0.05 + 0.01 * (12 - K) for a rising night.
    expect(quiet.evidence).toBeCloseTo(0.05 + 0.01 * (12 - k), 6);
    expect(quiet).toMatchObject({ materialRank: 2, materialSensors: 2 });
    expect(pvcHigh).toMatchObject({ evidence: 0.6, materialRank: 1, materialSensors: 2 });
    // Only the running model's scores count.
    expect(pvcLow).toMatchObject({ windows: 12, evidence: 0.1, materialRank: 2 });
    expect(silent).toMatchObject({ windows: 0, evidence: null, margin: null, materialRank: null });
  });

  it('keeps to a material and a top count, prints a table, and refuses a bad option with a reason', async () => {
    const pvc = await survey(['--material', 'pvc', '--top', '1']);
    expect(pvc.code, pvc.stderr).toBe(0);
    expect(pvc.stdout).toContain(`model ${version}`);
    expect(pvc.stdout).toMatch(/S-PVC-HIGH\s+pvc\s+quiet_residential\s+12\s+0\.600\s+\S+\s+\S+\s+1 of 2\s+-\n/);
    expect(pvc.stdout).not.toContain('S-DI-LOUD');
    expect(pvc.stdout).not.toContain('S-PVC-LOW');
    const bad = await survey(['--hours', 'yesterday']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--hours must be a number');
  });
});
