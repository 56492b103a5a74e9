import { GraphDrawStyle } from '@grafana/grafana-foundation-sdk/common';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { influxql } from '../queries/influxql.ts';
import { LOCAL_DAY, RAW, suidoDashboard, tagVariable } from './common.ts';

const DISTRICT = `"district" = '$district'`;

/** Each meter's litres per hour in the district (difference of hourly registers; rollovers left out). */
const PER_METER_HOURLY = `SELECT non_negative_difference(last("register")) AS "litres" FROM ${RAW.reads} WHERE ${DISTRICT} AND $timeFilter GROUP BY time(1h), "meter"`;
/** The district's flow per hour: the meters' hourly litres summed. */
const DISTRICT_HOURLY = `SELECT sum("litres") AS "flow" FROM (${PER_METER_HOURLY}) WHERE $timeFilter GROUP BY time(1h)`;

export function districtView(): Dashboard {
  return suidoDashboard('suido-district-view', 'Suido — district view', 'One district: consumption, minimum night flow, meters reporting and meters flagging continuous flow.')
    .withVariable(tagVariable('district', 'District', RAW.reads, 'district'))
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Consumption per hour')
        .description('Litres per hour, all the district’s meters summed. Meters send a day at a time, so the last hours fill in overnight.')
        .withTarget(influxql(`${DISTRICT_HOURLY} fill(none)`))
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(70)
        .unit('litre')
        .min(0)
        .height(8)
        .span(16),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Consumption per day')
        .description('Litres per local (Tokyo) day, the district’s meters summed.')
        .withTarget(influxql(`SELECT sum("litres") AS "consumption" FROM (${PER_METER_HOURLY}) WHERE $timeFilter GROUP BY ${LOCAL_DAY} fill(none)`))
        .drawStyle(GraphDrawStyle.Bars)
        .fillOpacity(70)
        .unit('litre')
        .min(0)
        .height(8)
        .span(8),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Minimum night flow')
        .description(
          'The lowest hourly district flow of each local day (in practice the night’s, 02:00–04:00): what the district loses to leaks and continuous use when nobody draws water. A rise that stays is a new leak.',
        )
        .withTarget(influxql(`SELECT min("flow") AS "minimum night flow" FROM (${DISTRICT_HOURLY}) WHERE $timeFilter GROUP BY ${LOCAL_DAY} fill(none)`))
        .unit('suffix: L/h')
        .min(0)
        .height(8)
        .span(12),
    )
    .withPanel(
      new timeseries.PanelBuilder()
        .title('Meters reporting per day')
        .withTarget(
          influxql(
            `SELECT count("n") AS "meters" FROM (SELECT count("register") AS "n" FROM ${RAW.reads} WHERE ${DISTRICT} AND $timeFilter GROUP BY ${LOCAL_DAY}, "meter")
             WHERE $timeFilter GROUP BY ${LOCAL_DAY} fill(none)`,
          ),
        )
        .drawStyle(GraphDrawStyle.Bars)
        .unit('short')
        .min(0)
        .height(8)
        .span(12),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Meters flagging continuous flow')
        .description('Meters whose own leak flag (continuous flow) was set in the period, with how many reads carried it and the last time.')
        .withTarget(
          influxql(`SELECT count("flags") AS "flagged reads", last("flags") AS "last flags" FROM ${RAW.reads} WHERE ${DISTRICT} AND "flags" =~ /leak/ AND $timeFilter GROUP BY "meter"`).table(),
        )
        .height(8)
        .span(24),
    )
    .build();
}
