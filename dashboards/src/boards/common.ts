import { DashboardBuilder, DashboardCursorSync, QueryVariableBuilder, VariableRefresh, VariableSort } from '@grafana/grafana-foundation-sdk/dashboard';
import { INFLUXDB } from '../datasources.ts';

/**
 * Series as the InfluxDB store writes them (README: Storage, InfluxDB
 * schema), in the retention policy `raw` (INFLUX_RETENTION_POLICY's
 * default; an installation that renamed it rebuilds with another name here).
 */
export const RAW = {
  reads: '"raw"."meter_reads"',
  frames: '"raw"."frame_levels"',
  scores: '"raw"."leak_scores"',
  batches: '"raw"."ingest_batches"',
  rejections: '"raw"."ingest_rejections"',
} as const;

/**
 * A local (Asia/Tokyo) day: intervals start at 15:00 UTC, local midnight,
 * as the continuous queries and billing count days.
 */
export const LOCAL_DAY = 'time(1d, 15h)';

/** What every Suido dashboard shares: Tokyo time (days above are Tokyo days), a shared crosshair, a minute's refresh. */
export function suidoDashboard(uid: string, title: string, description: string): DashboardBuilder {
  return new DashboardBuilder(title)
    .uid(uid)
    .description(description)
    .tags(['suido'])
    .timezone('Asia/Tokyo')
    .tooltip(DashboardCursorSync.Crosshair)
    .time({ from: 'now-7d', to: 'now' })
    .refresh('1m')
    .readonly();
}

/** A variable whose values are a tag's values in InfluxDB (e.g. every meter id that has reads). */
export function tagVariable(name: string, label: string, measurement: string, key: string): QueryVariableBuilder {
  const query = `SHOW TAG VALUES FROM ${measurement} WITH KEY = "${key}"`;
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(INFLUXDB)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnDashboardLoad)
    .sort(VariableSort.AlphabeticalAsc);
}
