import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTsx } from './run-tsx.ts';

const DETECT = fileURLToPath(new URL('..', import.meta.url));
const DATASET = fileURLToPath(new URL('../../simulators/src/dataset/dataset-cli.ts', import.meta.url));
const PAIRS = join(DETECT, 'src/training/pair-probe.ts');

describe('npm run pairs: a correlator pair beside the model, on a data set of pairs', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-pairs-'));
    // 80 pairs on ductile iron in quiet streets, one 6 s frame each: where a pair's leak carries to both sensors.
    for (const [name, extra] of [['pairs', ['--pairs']], ['plain', []]] as const) {
      const made = await runTsx(
        DATASET,
        ['--seed', '4', '--sensors', '160', '--nights', '1', '--frames-per-night', '1', '--frame-seconds', '6', '--day-share', '0', '--leak-share', '0.5', '--material', 'ductile_iron', '--environment', 'quiet_residential', ...extra, '--out', join(dir, name), '--quiet'],
        { cwd: DETECT, timeoutMs: 120_000 },
      );
      expect(made.code, made.stderr).toBe(0);
    }
  }, 240_000);
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("ranks the pairs' audible leaks above the quiet pairs by their cross-correlation, and places the leaks it calls", async () => {
    const dump = join(dir, 'judged.jsonl');
    const out = await runTsx(PAIRS, ['--data', join(dir, 'pairs'), '--dump', dump], { cwd: DETECT, timeoutMs: 240_000 });
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^pairs: \d+ test pairs of .*pairs \(\d+ with a leak\); GCC-PHAT threshold \d+\.\d\d \(peak over mean\), chosen on \d+ validation pair-nights without a leak \(\d+ pairs\) at 1 false per 100; peaks within 10 m of a sensor or a mapped PRV or pump left out$/);
    expect(lines[1]).toMatch(/^  pairs without a leak called: model \d+, correlation \d+, either \d+ of \d+$/);
    const audible = /^  audible at one sensor or both +(\d+) leak pairs  ROC-AUC model ([01]\.\d{3}), correlation ([01]\.\d{3})  called: model (\d+), correlation (\d+), either (\d+)  placed within 10 m: (\d+) of the (\d+) it called$/m.exec(out.stdout);
    expect(audible, out.stdout).not.toBeNull();
    // On iron a leak between two sensors is one sound both hear: the pair ranks it above every quiet pair, nearly.
    expect(Number(audible![3])).toBeGreaterThan(0.9);
    expect(Number(audible![5])).toBeGreaterThan(0);
    // The leaks it calls, it places: most within 10 m of where they are.
    // Called by either finds at least what each finds alone.
    expect(Number(audible![6])).toBeGreaterThanOrEqual(Math.max(Number(audible![4]), Number(audible![5])));
    expect(Number(audible![7])).toBeGreaterThanOrEqual(Math.ceil(0.7 * Number(audible![8])));
    expect(out.stdout).toMatch(/^    ductile_iron, audible +\d+ leak pairs/m);

    // --dump: every pair of both splits judged, one line each, agreeing with the summary.
    const judged = (await readFile(dump, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    const test = judged.filter((p) => p.split === 'test');
    expect(test.length).toBe(Number(/^pairs: (\d+) test pairs/.exec(lines[0]!)![1]));
    expect(judged.some((p) => p.split === 'val')).toBe(true);
    const [, quietModel, , , quietAll] = /model (\d+), correlation (\d+), either (\d+) of (\d+)/.exec(lines[1]!)!.map(Number);
    const quiet = test.filter((p) => !p.leak);
    expect(quiet.length).toBe(quietAll);
    expect(quiet.filter((p) => p.sensors.some((s: { called: boolean }) => s.called)).length).toBe(quietModel);
    for (const p of test) expect(p.modelScore).toBe(Math.max(...p.sensors.map((s: { score: number }) => s.score)));
    // One night a pair: its pair-nights are its pairs.
    expect(out.stdout).toMatch(new RegExp(`^  pair-nights by the correlation: without a leak ${quiet.filter((p) => p.ratio > Number(/threshold (\d+\.\d+)/.exec(lines[0]!)![1])).length} of ${quiet.length} called \\(\\d+\\.\\d\\d per 100\\), with an audible leak \\d+ of \\d+$`, 'm'));
  }, 300_000);

  it('judges each night of a pair as the live correlator does: its frames together, each night its own call', async () => {
    const set = join(dir, 'nights');
    const made = await runTsx(
      DATASET,
      ['--seed', '6', '--sensors', '40', '--nights', '2', '--frames-per-night', '3', '--frame-seconds', '2', '--day-share', '0', '--leak-share', '0.5', '--material', 'steel', '--pairs', '--out', set, '--quiet'],
      { cwd: DETECT, timeoutMs: 120_000 },
    );
    expect(made.code, made.stderr).toBe(0);
    const dump = join(dir, 'nights.jsonl');
    const out = await runTsx(PAIRS, ['--data', set, '--dump', dump], { cwd: DETECT, timeoutMs: 240_000 });
    expect(out.code, out.stderr).toBe(0);
    const judged = (await readFile(dump, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    for (const p of judged) {
      expect(p.nightRatios).toHaveLength(2);
      expect(p.ratio).toBe(Math.max(...p.nightRatios));
    }
    const quiet = judged.filter((p) => p.split === 'test' && !p.leak);
    expect(out.stdout).toMatch(new RegExp(`without a leak \\d+ of ${2 * quiet.length} called`));
    expect(out.stdout).toMatch(new RegExp(`chosen on ${2 * judged.filter((p) => p.split === 'val' && !p.leak).length} validation pair-nights without a leak`));
  }, 300_000);

  it('refuses a data set that is not of pairs, saying how to make one', async () => {
    const out = await runTsx(PAIRS, ['--data', join(dir, 'plain')], { cwd: DETECT, timeoutMs: 60_000 });
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('is not a data set of pairs: make one with npm run dataset -w simulators -- --pairs');
    const none = await runTsx(PAIRS, [], { cwd: DETECT, timeoutMs: 60_000 });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give --data DIR');
  }, 120_000);
});
