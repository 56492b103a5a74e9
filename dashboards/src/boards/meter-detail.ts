import { GraphDrawStyle, ReduceDataOptionsBuilder, TableSortByFieldStateBuilder } from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { influxql } from '../queries/influxql.ts';
import { RAW, suidoDashboard, tagVariable } from './common.ts';

const METER = `"meter" = '$meter'`;

export function meterDetail(): Dashboard {
  return suidoDashboard('suido-meter-detail', 'Suido — meter detail', 'One meter: its register, hourly consumption and the flags it raised.')
    .withVariable(tagVariable('meter', 'Meter', RAW.reads, 'meter'))
    .withPanel(
      new stat.PanelBuilder()
        .title('Latest register')
        .withTarget(influxql(`SELECT last("register") AS "register" FROM ${RAW.reads} WHERE ${METER} AND $timeFilter`))
        .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
        .unit('litre')
        .decimals(0)
        .height(6)
        .span(6),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Register')
        .description('The cumulative register in litres (exact integers: billing reads them). A drop is a rollover or a replacement.')
        .withTarget(influxql(`SELECT last("register") AS "register" FROM ${RAW.reads} WHERE ${METER} AND $timeFilter GROUP BY time($__interval) fill(none)`))
        .unit('litre')
        .decimals(0)
        .height(6)
        .span(18),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Hourly consumption')
        .description('Litres per hour: the difference of consecutive hourly registers (after a gap, everything since the last read). Negative steps (rollover, replacement) are left out.')
        .withTarget(influxql(`SELECT non_negative_difference(last("register")) AS "consumption" FROM ${RAW.reads} WHERE ${METER} AND $timeFilter GROUP BY time(1h) fill(none)`))
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(70)
        .unit('litre')
        .min(0)
        .height(8)
        .span(24),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Flags raised')
        .description('Reads that carried status flags (leak = continuous flow, reverse, tamper, burst, empty pipe, low battery), newest first.')
        .withTarget(influxql(`SELECT "flags", "register" FROM ${RAW.reads} WHERE ${METER} AND "flags" =~ /./ AND $timeFilter ORDER BY time DESC LIMIT 500`).table())
        .sortBy([new TableSortByFieldStateBuilder().displayName('Time').desc(true)])
        .height(8)
        .span(24),
    )
    .build();
}
