import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildOutputs, dashboards, isInfinityQuery, isInfluxQLQuery, SUIDO_API, INFLUXDB, yaml } from '../src/index.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('dashboards build', () => {
  it('the committed JSON and provisioning files are exactly a fresh build (run `npm run build -w dashboards` after changing dashboards/src)', async () => {
    const outputs = buildOutputs();
    expect(Object.keys(outputs).sort()).toEqual([
      'dashboards/build/district-view.json',
      'dashboards/build/meter-detail.json',
      'dashboards/build/operator-overview.json',
      'dashboards/build/sensor-detail.json',
      'infra/grafana/provisioning/dashboards/suido.yaml',
      'infra/grafana/provisioning/datasources/suido.yaml',
    ]);
    for (const [path, content] of Object.entries(outputs)) expect(await readFile(`${root}${path}`, 'utf8'), path).toBe(content);
    // Deterministic: a second build is the same, byte for byte.
    expect(buildOutputs()).toEqual(outputs);
  });

  it('every panel target names one of the two provisioned datasources and is InfluxQL or an API query', () => {
    for (const [file, d] of Object.entries(dashboards())) {
      const uids = new Set<string>();
      for (const panel of d.panels ?? []) {
        const targets = (panel as { targets?: unknown[] }).targets ?? [];
        expect(targets.length, `${file}: ${(panel as { title?: string }).title}`).toBeGreaterThan(0);
        for (const t of targets) {
          expect(isInfluxQLQuery(t) || isInfinityQuery(t), JSON.stringify(t)).toBe(true);
          uids.add((t as { datasource: { uid: string } }).datasource.uid);
        }
        const refIds = targets.map((t) => (t as { refId: string }).refId);
        expect(new Set(refIds).size, `${file}: refIds unique in a panel`).toBe(refIds.length);
      }
      expect([...uids].every((u) => u === INFLUXDB.uid || u === SUIDO_API.uid)).toBe(true);
    }
  });

  it('writes YAML a YAML reader reads back as the object (strings double-quoted, lists of maps)', () => {
    expect(yaml({ a: 1, b: 'x: "y"', c: [{ d: true, e: ['${V}'] }, 'z'], f: [], g: {} })).toBe(
      ['a: 1', 'b: "x: \\"y\\""', 'c:', '  - d: true', '    e:', '      - "${V}"', '  - "z"', 'f: []', 'g: {}', ''].join('\n'),
    );
  });
});
