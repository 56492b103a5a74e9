import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import { SUIDO_API } from '../datasources.ts';

export type InfinityColumnType = 'string' | 'number' | 'timestamp';

export interface InfinityColumn {
  selector: string;
  text: string;
  type: InfinityColumnType;
}

/**
 * A JSON target of the Infinity datasource (yesoreyeram-infinity-datasource)
 * against Suido's HTTP API, as the plugin saves it (its `InfinityJSONQuery`
 * with a URL source and the backend parser, so alerting and public
 * dashboards work too). The URL is relative: the datasource's URL (the API)
 * is prefixed, and the datasource adds the operator key as a secure header.
 * Cursor pagination follows the API's `next` into `after`.
 */
export interface InfinityQuery extends cog.Dataquery {
  refId: string;
  datasource: DataSourceRef;
  type: 'json';
  source: 'url';
  parser: 'backend';
  format: 'table';
  url: string;
  url_options: { method: 'GET'; params: { key: string; value: string }[] };
  root_selector: string;
  columns: InfinityColumn[];
  pagination_mode?: 'cursor';
  pagination_max_pages?: number;
  pagination_param_size_field_name?: string;
  pagination_param_size_field_type?: 'query';
  pagination_param_size_value?: number;
  pagination_param_cursor_field_name?: string;
  pagination_param_cursor_field_type?: 'query';
  pagination_param_cursor_extraction_path?: string;
}

export function isInfinityQuery(q: unknown): q is InfinityQuery {
  return typeof q === 'object' && q !== null && (q as { datasource?: DataSourceRef }).datasource?.type === SUIDO_API.type;
}

export class InfinityQueryBuilder implements cog.Builder<cog.Dataquery> {
  private readonly internal: InfinityQuery;

  constructor(path: string) {
    this.internal = {
      refId: 'A',
      datasource: SUIDO_API,
      type: 'json',
      source: 'url',
      parser: 'backend',
      format: 'table',
      url: path,
      url_options: { method: 'GET', params: [] },
      root_selector: '',
      columns: [],
      _implementsDataqueryVariant() {},
    };
  }

  refId(refId: string): this {
    this.internal.refId = refId;
    return this;
  }

  /** A query string parameter; Grafana substitutes variables in its value. */
  param(key: string, value: string): this {
    this.internal.url_options.params.push({ key, value });
    return this;
  }

  /** Where the rows are in the answer, e.g. `items`. */
  rows(rootSelector: string): this {
    this.internal.root_selector = rootSelector;
    return this;
  }

  column(selector: string, text: string, type: InfinityColumnType = 'string'): this {
    this.internal.columns.push({ selector, text, type });
    return this;
  }

  /** Pages of `size` rows: `sizeParam=size`, then `cursorParam=<the answer's nextPath>` until it is null, at most `maxPages`. */
  cursorPages(opts: { sizeParam: string; size: number; cursorParam: string; nextPath: string; maxPages: number }): this {
    Object.assign(this.internal, {
      pagination_mode: 'cursor',
      pagination_max_pages: opts.maxPages,
      pagination_param_size_field_name: opts.sizeParam,
      pagination_param_size_field_type: 'query',
      pagination_param_size_value: opts.size,
      pagination_param_cursor_field_name: opts.cursorParam,
      pagination_param_cursor_field_type: 'query',
      pagination_param_cursor_extraction_path: opts.nextPath,
    });
    return this;
  }

  build(): InfinityQuery {
    return { ...this.internal, url_options: { ...this.internal.url_options, params: [...this.internal.url_options.params] }, columns: [...this.internal.columns] };
  }
}

export function apiQuery(path: string): InfinityQueryBuilder {
  return new InfinityQueryBuilder(path);
}
