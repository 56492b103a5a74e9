import { HttpError, InfluxDB, setLogger, type SendOptions, type Transport, type WriteApi } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import { checkResponse, type QueryResponse, type StatementResult } from './influxql.ts';

/** How to reach InfluxDB and how hard to try (README: Configuration, INFLUX_*). */
export interface InfluxConnection {
  /** Base URL, e.g. http://127.0.0.1:8086. */
  readonly url: string;
  readonly database: string;
  /** Where series are written and read; created (as the default) when the store manages the schema. */
  readonly retentionPolicy: string;
  /**
   * v1: POST /write?db=&rp= (InfluxDB 1.x, the only write API of 1.0–1.7).
   * v2: POST /api/v2/write?org=&bucket= (1.8+, 2.x, 3.x, Cloud). Queries use
   * the v1 /query API (InfluxQL) either way; 2.x and 3.x answer it through a
   * database/retention-policy mapping to the bucket.
   */
  readonly writeApi: 'v1' | 'v2';
  /** v2: the API token (2.x/3.x/Cloud); also sent on queries. */
  readonly token?: string | undefined;
  /** v2: the organisation; 1.8 ignores it. */
  readonly org?: string | undefined;
  /** v2: the bucket; default `database/retentionPolicy`, the form 1.8's v2 endpoint maps. */
  readonly bucket?: string | undefined;
  /** v1 with authentication on: sent as HTTP Basic on writes and queries. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  /** Socket timeout of one HTTP request. */
  readonly timeoutMs: number;
  /** Lines per HTTP write (InfluxData recommends 5,000–10,000). */
  readonly batchLines: number;
  /** Retries of a failed write (network errors, 429, 5xx; never 4xx: the data itself was refused). */
  readonly maxRetries: number;
  /** A commit's write gives up after this long, retries included: the devices are not acknowledged and resend. */
  readonly maxRetryTimeMs: number;
  /** Back-off between retries: from min, doubling, up to max, with jitter. */
  readonly minRetryDelayMs: number;
  readonly maxRetryDelayMs: number;
}

export const INFLUX_DEFAULTS = {
  timeoutMs: 10_000,
  batchLines: 5000,
  maxRetries: 3,
  maxRetryTimeMs: 20_000,
  minRetryDelayMs: 500,
  maxRetryDelayMs: 5000,
} as const;

/** A write did not reach InfluxDB after its retries; nothing of the commit may be acknowledged. */
export class InfluxWriteError extends Error {
  readonly code = 'INFLUX_WRITE_FAILED';
  /** The HTTP status InfluxDB answered, if it answered. */
  readonly statusCode: number | undefined;
  constructor(message: string, statusCode: number | undefined, options?: ErrorOptions) {
    super(message, options);
    this.name = 'InfluxWriteError';
    this.statusCode = statusCode;
  }
}

/** Where the WriteApi is pointed: it always builds a v2 path from these (precision is ours: ms). */
export function writeTarget(c: Pick<InfluxConnection, 'writeApi' | 'org' | 'bucket' | 'database' | 'retentionPolicy'>): { org: string; bucket: string } {
  return { org: c.writeApi === 'v2' ? (c.org ?? '') : '', bucket: c.bucket ?? `${c.database}/${c.retentionPolicy}` };
}

/**
 * The v1 path for a v2 write path the WriteApi built: bucket "db/rp" becomes
 * db= and rp=, precision carries over. This is how the client's batching,
 * retries and back-off serve InfluxDB 1.0–1.7, which have no /api/v2/write.
 */
export function v1WritePath(v2Path: string): string {
  const q = new URLSearchParams(v2Path.slice(v2Path.indexOf('?') + 1));
  const bucket = q.get('bucket') ?? '';
  const slash = bucket.indexOf('/');
  const params = new URLSearchParams({ db: slash < 0 ? bucket : bucket.slice(0, slash) });
  if (slash >= 0 && slash < bucket.length - 1) params.set('rp', bucket.slice(slash + 1));
  params.set('precision', q.get('precision') ?? 'ns');
  const consistency = q.get('consistency');
  if (consistency) params.set('consistency', consistency);
  return `/write?${params}`;
}

/** The client's own transport, with writes sent to the v1 endpoint. */
class V1WriteTransport implements Transport {
  private readonly inner: Transport;
  constructor(inner: Transport) {
    this.inner = inner;
  }
  get chunkCombiner() {
    return this.inner.chunkCombiner;
  }
  send(path: string, body: string, options: SendOptions, callbacks?: Parameters<Transport['send']>[3]): void {
    this.inner.send(path.startsWith('/api/v2/write') ? v1WritePath(path) : path, body, options, callbacks);
  }
  request(path: string, body: unknown, options: SendOptions, responseStarted?: Parameters<Transport['request']>[3]): Promise<unknown> {
    return this.inner.request(path, body, options, responseStarted);
  }
  iterate(path: string, body: unknown, options: SendOptions): AsyncIterableIterator<Uint8Array> {
    return this.inner.iterate(path, body, options);
  }
}

let libraryLog: Logger | undefined;
/**
 * The client logs each failed attempt to the console. Failures that matter
 * surface as a rejected commit (logged by the ingestor with its context);
 * retries are worth a warning in the service's own structured log.
 */
function routeLibraryLog(log: Logger | undefined): void {
  if (libraryLog === log && log !== undefined) return;
  libraryLog = log;
  setLogger({
    error: (message, err) => libraryLog?.warn({ err }, `influxdb-client: ${message}`),
    warn: (message, err) => libraryLog?.warn({ err }, `influxdb-client: ${message}`),
  });
}

/**
 * InfluxDB over HTTP: writes through @influxdata/influxdb-client's WriteApi
 * (batches of `batchLines`, retries with exponential back-off and jitter,
 * gzip), InfluxQL queries over /query.
 *
 * The WriteApi is built to stream: its retry buffer evicts the oldest lines
 * when full and retries in the background after flush() has already
 * rejected. Suido must know when *its* lines are stored, so each write gets
 * its own WriteApi whose buffer holds all of them (nothing is evicted), and
 * the promise settles from the API's callbacks: resolved when every line was
 * acknowledged (204), rejected at the first failure that will not be retried
 * (a 4xx, the last retry, the time limit), after which the API is disposed so
 * that no retry lands later.
 */
export class InfluxHttp {
  readonly conn: InfluxConnection;
  private readonly client: InfluxDB;

  constructor(conn: InfluxConnection, log?: Logger) {
    this.conn = conn;
    routeLibraryLog(log);
    const headers: Record<string, string> = {};
    if (conn.username !== undefined) headers.authorization = `Basic ${Buffer.from(`${conn.username}:${conn.password ?? ''}`).toString('base64')}`;
    const base = new InfluxDB({ url: conn.url, token: conn.token, timeout: conn.timeoutMs, headers });
    this.client = conn.writeApi === 'v1' ? new InfluxDB({ url: conn.url, transport: new V1WriteTransport(base.transport) }) : base;
  }

  get transport(): Transport {
    return this.client.transport;
  }

  /** Resolves once InfluxDB has acknowledged every line. */
  write(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    const c = this.conn;
    const { org, bucket } = writeTarget(c);
    return new Promise<void>((resolve, reject) => {
      let written = 0;
      let settled = false;
      let api: WriteApi | undefined;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        // Stops the retry timers: a write reported failed must not land later.
        api?.dispose();
        if (err) reject(err);
        else resolve();
      };
      api = this.client.getWriteApi(org, bucket, 'ms', {
        batchSize: c.batchLines,
        // InfluxDB 1.x refuses bodies over 25 MB by default.
        maxBatchBytes: 8_000_000,
        // Flushed explicitly below: no timer-driven flushes.
        flushInterval: 0,
        maxRetries: c.maxRetries,
        maxRetryTime: c.maxRetryTimeMs,
        minRetryDelay: c.minRetryDelayMs,
        maxRetryDelay: c.maxRetryDelayMs,
        exponentialBase: 2,
        retryJitter: 200,
        randomRetry: true,
        maxBufferLines: Math.max(lines.length, 1),
        writeSuccess(ok) {
          written += ok.length;
          if (written >= lines.length) settle();
        },
        writeFailed(error, _failed, attempt, expires) {
          // The client retries network errors and statuses >= 429 while attempts and time remain.
          const retriable = !(error instanceof HttpError) || error.statusCode >= 429;
          if (!retriable || attempt > c.maxRetries || Date.now() >= expires) {
            const status = error instanceof HttpError ? error.statusCode : undefined;
            settle(new InfluxWriteError(`InfluxDB write failed after ${attempt} attempt(s): ${error.message}`, status, { cause: error }));
          }
        },
        writeRetrySkipped() {
          settle(new InfluxWriteError('InfluxDB write dropped from the retry buffer', undefined));
        },
      });
      // Belt and braces: the callbacks above always fire, but a commit must never wait forever.
      const deadline = setTimeout(() => settle(new InfluxWriteError(`InfluxDB write not acknowledged within ${c.maxRetryTimeMs + 2 * c.timeoutMs} ms`, undefined)), c.maxRetryTimeMs + 2 * c.timeoutMs);
      api.writeRecords(lines as string[]);
      // A first-attempt failure rejects flush() while the retry buffer carries on: the callbacks decide.
      api.flush().catch(() => {});
    });
  }

  /** Runs InfluxQL statements in one request; results in statement order. */
  async query(statements: readonly string[], opts: { readonly database?: string | null } = {}): Promise<StatementResult[]> {
    const params = new URLSearchParams({ epoch: 'ms' });
    const db = opts.database === undefined ? this.conn.database : opts.database;
    if (db !== null) params.set('db', db);
    const body = new URLSearchParams({ q: statements.join(';\n') }).toString();
    const answer = (await this.client.transport.request(`/query?${params}`, body, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    })) as QueryResponse | undefined;
    return checkResponse(answer, statements);
  }

  async ping(): Promise<void> {
    await this.client.transport.request('/ping', '', { method: 'GET' });
  }
}
