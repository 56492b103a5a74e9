import { BigValueGraphMode, GraphDrawStyle, ReduceDataOptionsBuilder, StackingConfigBuilder, StackingMode, TableSortByFieldStateBuilder } from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as heatmap from '@grafana/grafana-foundation-sdk/heatmap';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { apiQuery } from '../queries/infinity.ts';
import { influxql } from '../queries/influxql.ts';
import { LOCAL_DAY, RAW, suidoDashboard } from './common.ts';

/**
 * Devices with at least one read (or frame) per local day: an inner query
 * per device, counted by the outer one (InfluxQL counts fields, not tags).
 */
const devicesPerDay = (measurement: string, field: string, tag: string, as: string) =>
  influxql(
    `SELECT count("n") AS "${as}" FROM (SELECT count("${field}") AS "n" FROM ${measurement} WHERE $timeFilter GROUP BY ${LOCAL_DAY}, "${tag}")
     WHERE $timeFilter GROUP BY ${LOCAL_DAY} fill(none)`,
  );

/**
 * Open alerts come from the API (one source of truth, README: Dashboards):
 * every alert not yet resolved, open, acknowledged or cleared, following
 * the API's cursor 100 at a time.
 */
export const openAlerts = () =>
  apiQuery('/v1/alerts')
    .param('state', 'open,acknowledged,cleared')
    .cursorPages({ sizeParam: 'limit', size: 100, cursorParam: 'after', nextPath: 'next', maxPages: 20 })
    .rows('items')
    .column('id', 'Alert', 'number')
    .column('kind', 'Kind')
    .column('sourceId', 'Source')
    .column('source.district', 'District')
    .column('state', 'State')
    .column('raisedAt', 'Raised', 'timestamp')
    .column('lastSeenAt', 'Last seen', 'timestamp')
    .column('peakScore', 'Peak score', 'number');

export function operatorOverview(): Dashboard {
  return suidoDashboard('suido-operator-overview', 'Suido — operator overview', 'Devices reporting, ingest rate and lag, rejections, open alerts, leak scores per sensor.')
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Devices reporting per day')
        .description('Meters with at least one read and sensors with at least one frame, per local (Tokyo) day, by the data’s own time.')
        .withTarget(devicesPerDay(RAW.reads, 'register', 'meter', 'meters').refId('A'))
        .withTarget(devicesPerDay(RAW.frames, 'rms_dbfs', 'sensor', 'sensors').refId('B'))
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(60)
        .unit('short')
        .min(0)
        .height(8)
        .span(12),
    )
    .withPanel(
      new stat.PanelBuilder()
        .title('Open alerts')
        .description('Alerts not yet resolved (open, acknowledged or cleared), from the API.')
        .withTarget(openAlerts())
        .reduceOptions(new ReduceDataOptionsBuilder().calcs(['count']).fields('/^Alert$/'))
        .graphMode(BigValueGraphMode.None)
        .height(8)
        .span(4),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Open alerts by age')
        .description('Oldest first; "Raised" reads as an age (e.g. "3 days ago").')
        .withTarget(openAlerts())
        .sortBy([new TableSortByFieldStateBuilder().displayName('Raised').desc(false)])
        .overrideByName('Raised', [{ id: 'unit', value: 'dateTimeFromNow' }])
        .overrideByName('Last seen', [{ id: 'unit', value: 'dateTimeFromNow' }])
        .height(8)
        .span(8),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Ingest rate')
        .description('Reads and frames stored per second, and resends recognised as duplicates, from the store’s ingest_batches points (by arrival time).')
        .withTarget(
          influxql(
            `SELECT sum("reads_stored") * 1000 / $__interval_ms AS "reads stored", sum("frames_stored") * 1000 / $__interval_ms AS "frames stored",
             sum("reads_duplicate") * 1000 / $__interval_ms AS "duplicate reads"
             FROM ${RAW.batches} WHERE $timeFilter GROUP BY time($__interval) fill(0)`,
          ),
        )
        .unit('cps')
        .min(0)
        .height(8)
        .span(12),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Ingest lag')
        .description('Arrival minus the device’s own time, over stored reads and frames: meters send a day of hourly reads once a night, so a read’s lag is hours by design; days mean store-and-forward.')
        .withTarget(
          influxql(
            `SELECT sum("read_lag_sum_ms") / sum("reads_stored") / 1000 AS "mean read lag", max("read_lag_max_ms") / 1000 AS "max read lag",
             sum("frame_lag_sum_ms") / sum("frames_stored") / 1000 AS "mean frame lag"
             FROM ${RAW.batches} WHERE $timeFilter GROUP BY time($__interval) fill(none)`,
          ),
        )
        .unit('s')
        .min(0)
        .height(8)
        .span(12),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Rejections by reason')
        .description('Messages refused and kept as dead letters, by reason code (README: Rejection codes); GET /v1/dead-letters?code= shows them.')
        .withTarget(influxql(`SELECT sum("count") AS "rejected" FROM ${RAW.rejections} WHERE $timeFilter GROUP BY time($__interval), "code" fill(none)`).alias('$tag_code'))
        .drawStyle(GraphDrawStyle.Bars)
        .stacking(new StackingConfigBuilder().mode(StackingMode.Normal))
        .fillOpacity(80)
        .unit('short')
        .min(0)
        .height(8)
        .span(12),
    )
    .withPanel(
      new heatmap.PanelBuilder()
        .title('Leak score by sensor')
        .description('The highest score of each sensor per interval, one row per sensor; dark is quiet, bright is leak-like.')
        .withTarget(influxql(`SELECT max("score") FROM ${RAW.scores} WHERE $timeFilter GROUP BY time($__interval), "sensor" fill(none)`).alias('$tag_sensor'))
        // One frame per sensor from InfluxDB; joined on time, each sensor is a row of cells.
        .withTransformation({ id: 'joinByField', options: { byField: 'Time', mode: 'outer' } })
        .calculate(false)
        .color(new heatmap.HeatmapColorOptionsBuilder().mode(heatmap.HeatmapColorMode.Scheme).scheme('Oranges').min(0).max(1).steps(64).exponent(0.5).fill('dark-orange').reverse(false))
        .height(10)
        .span(24),
    )
    .build();
}
