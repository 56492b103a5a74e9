import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { INFLUXDB } from '../datasources.ts';

/**
 * A target of Grafana's InfluxDB datasource in InfluxQL mode with a raw query
 * (`rawQuery: true`): the query text is what runs, after Grafana substitutes
 * `$timeFilter`, `$__interval`, `$__interval_ms` and dashboard variables.
 * The foundation SDK has no InfluxDB query type, so this is its shape,
 * as Grafana's InfluxDB datasource saves it.
 */
export interface InfluxQLQuery extends cog.Dataquery {
  refId: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  /** Series name; `$tag_<key>` and `$col` are replaced by Grafana. */
  alias?: string;
}

export function isInfluxQLQuery(q: unknown): q is InfluxQLQuery {
  return typeof q === 'object' && q !== null && (q as { datasource?: DataSourceRef }).datasource?.type === INFLUXDB.type && typeof (q as { query?: unknown }).query === 'string';
}

/** Builds an InfluxQL target; used with any SDK panel builder's `withTarget`. */
export class InfluxQLQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: InfluxQLQuery;

  constructor(query: string) {
    this.internal = { refId: 'A', datasource: INFLUXDB, query, rawQuery: true, resultFormat: 'time_series', _implementsDataqueryVariant() {} };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  alias(alias: string): this {
    this.internal.alias = alias;
    return this;
  }

  /** Rows as they come (a table panel), instead of one series per field and tag set. */
  table(): this {
    this.internal.resultFormat = 'table';
    return this;
  }

  build(): InfluxQLQuery {
    return { ...this.internal };
  }
}

/** `SELECT …` in InfluxQL, by its parts: shorter to read in a panel definition than one long string. */
export function influxql(query: string): InfluxQLQueryBuilder {
  return new InfluxQLQueryBuilder(query.replace(/\s+/g, ' ').trim());
}
