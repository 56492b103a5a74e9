import { GraphDrawStyle, VisibilityMode } from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { apiQuery } from '../queries/infinity.ts';
import { influxql } from '../queries/influxql.ts';
import { LOCAL_DAY, RAW, suidoDashboard, tagVariable } from './common.ts';

const SENSOR = `"sensor" = '$sensor'`;

export function sensorDetail(): Dashboard {
  return suidoDashboard('suido-sensor-detail', 'Suido — sensor detail', 'One acoustic sensor: its leak score, its night noise level and spread, its band levels night by night, its alerts.')
    .withVariable(tagVariable('sensor', 'Sensor', RAW.frames, 'sensor'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Leak score')
        .description('The model’s score per window (0–1), highest per interval, one line per model version.')
        .withTarget(influxql(`SELECT max("score") AS "score" FROM ${RAW.scores} WHERE ${SENSOR} AND $timeFilter GROUP BY time($__interval), "model" fill(none)`).alias('score ($tag_model)'))
        .min(0)
        .max(1)
        .height(8)
        .span(24),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Night noise level')
        .description(
          'What a noise logger judges by: the minimum frame level of each local night and the spread (standard deviation) of the levels. A leak holds the minimum up night after night with a small spread; traffic raises the spread, not the minimum.',
        )
        .withTarget(
          influxql(`SELECT min("rms_dbfs") AS "minimum level", stddev("rms_dbfs") AS "spread" FROM ${RAW.frames} WHERE ${SENSOR} AND $timeFilter GROUP BY ${LOCAL_DAY} fill(none)`),
        )
        .overrideByName('spread', [{ id: 'custom.axisPlacement', value: 'right' }, { id: 'unit', value: 'dB' }])
        .drawStyle(GraphDrawStyle.Line)
        .showPoints(VisibilityMode.Always)
        .unit('dB')
        .height(8)
        .span(12),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Night band levels')
        .description(
          'Each local night’s median level in four of the leak model’s bands (dB re full scale at the model’s input, from the scores of model 2.4.1 on). A leak that begins lifts the bands its pipe carries (below ~300 Hz on plastic mains, broadly on metal ones) and holds them up night after night; the night verdict weighs that rise against the sensor’s earlier nights.',
        )
        .withTarget(
          influxql(
            `SELECT median("band_01_db") AS "78 Hz", median("band_05_db") AS "200 Hz", median("band_11_db") AS "490 Hz", median("band_19_db") AS "1.2 kHz" FROM ${RAW.scores} WHERE ${SENSOR} AND $timeFilter GROUP BY ${LOCAL_DAY} fill(none)`,
          ),
        )
        .drawStyle(GraphDrawStyle.Line)
        .showPoints(VisibilityMode.Always)
        .unit('dB')
        .height(8)
        .span(24),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Frame levels')
        .description('Each frame’s RMS level (dBFS, gain not removed) and the share of clipped samples (gain too high).')
        .withTarget(influxql(`SELECT "rms_dbfs" AS "level", "clipped_ratio" AS "clipped" FROM ${RAW.frames} WHERE ${SENSOR} AND $timeFilter`))
        .overrideByName('clipped', [{ id: 'custom.axisPlacement', value: 'right' }, { id: 'unit', value: 'percentunit' }])
        .drawStyle(GraphDrawStyle.Points)
        .unit('dB')
        .height(8)
        .span(12),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Alerts of this sensor')
        .description('From the API, every state (resolved ones too), oldest first.')
        .withTarget(
          apiQuery('/v1/alerts')
            .param('sourceId', '$sensor')
            .cursorPages({ sizeParam: 'limit', size: 100, cursorParam: 'after', nextPath: 'next', maxPages: 10 })
            .rows('items')
            .column('id', 'Alert', 'number')
            .column('kind', 'Kind')
            .column('state', 'State')
            .column('raisedAt', 'Raised', 'timestamp')
            .column('lastSeenAt', 'Last seen', 'timestamp')
            .column('peakScore', 'Peak score', 'number'),
        )
        .height(6)
        .span(24),
    )
    .build();
}
