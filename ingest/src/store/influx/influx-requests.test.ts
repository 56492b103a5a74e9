import { InfluxDB, type SendOptions, type Transport } from '@influxdata/influxdb-client';
import { describe, expect, it } from 'vitest';
import { EnvReader } from '../../config/env-reader.ts';
import { readStoreConfig } from '../../config/ingest-config.ts';
import { v1WritePath, writeTarget } from './influx-http.ts';
import { ident, str } from './influxql.ts';
import { batchLine, frameLine, readLine, rejectionLines, scoreLine } from './line-protocol.ts';

const T0 = Date.parse('2026-11-01T00:00:00Z');

describe('line protocol', () => {
  it('writes registers as integers, flags as one string, times in milliseconds', () => {
    expect(readLine({ meterId: 'M-1', ts: T0, registerL: 1234567, flags: ['reverse', 'tamper'] }, T0 + 5)).toBe(
      `meter_reads,meter=M-1 register=1234567i,received_ms=${T0 + 5}i,flags="reverse,tamper" ${T0}`,
    );
    expect(readLine({ meterId: 'M-1', ts: T0, registerL: 0, flags: [] }, T0)).toBe(`meter_reads,meter=M-1 register=0i,received_ms=${T0}i ${T0}`);
  });

  it("tags a read with its meter's district when the registry has one", () => {
    expect(readLine({ meterId: 'M-1', ts: T0, registerL: 5, flags: [] }, T0, 'Naka Ku')).toBe(`meter_reads,district=Naka\\ Ku,meter=M-1 register=5i,received_ms=${T0}i ${T0}`);
    expect(readLine({ meterId: 'M-1', ts: T0, registerL: 5, flags: [] }, T0, null)).toBe(`meter_reads,meter=M-1 register=5i,received_ms=${T0}i ${T0}`);
  });

  it('writes self-monitoring points as integers, rejections by code in code order', () => {
    const figures = { reads: 3, readsStored: 2, readsDuplicate: 1, readsConflict: 0, frames: 0, framesStored: 0, framesDuplicate: 0, statuses: 1, deadLetters: 2, readLagSumMs: 10, readLagMaxMs: 6, frameLagSumMs: 0, frameLagMaxMs: 0, commitMs: 4 };
    expect(batchLine(figures, T0)).toBe(
      `ingest_batches reads=3i,reads_stored=2i,reads_duplicate=1i,reads_conflict=0i,frames=0i,frames_stored=0i,frames_duplicate=0i,statuses=1i,dead_letters=2i,` +
        `read_lag_sum_ms=10i,read_lag_max_ms=6i,frame_lag_sum_ms=0i,frame_lag_max_ms=0i,commit_ms=4i ${T0}`,
    );
    expect(rejectionLines(new Map([['TOPIC_UNKNOWN', 1], ['READS_JSON_INVALID', 2]]), T0)).toEqual([
      `ingest_rejections,code=READS_JSON_INVALID count=2i ${T0}`,
      `ingest_rejections,code=TOPIC_UNKNOWN count=1i ${T0}`,
    ]);
  });

  it('keeps float fields floats and escapes tag values', () => {
    const line = frameLine({ sensorId: 'S-1', startMs: T0, sampleRateHz: 8000, gainDb: 20, samples: new Int16Array(80), summary: { rmsDbfs: -50.25, clippedRatio: 0 } }, T0);
    expect(line).toBe(`frame_levels,sensor=S-1 rms_dbfs=-50.25,clipped_ratio=0.0,gain_db=20.0,sample_rate_hz=8000i,sample_count=80i,received_ms=${T0}i ${T0}`);
    expect(scoreLine({ sensorId: 'S-1', windowStartMs: T0, windowEndMs: T0 + 1000, score: 1, modelVersion: '1.2 beta,x=y' })).toBe(
      `leak_scores,model=1.2\\ beta\\,x\\=y,sensor=S-1 score=1.0,window_end_ms=${T0 + 1000}i ${T0}`,
    );
  });

  it('refuses what would be a malformed or lossy line', () => {
    expect(() => scoreLine({ sensorId: 'S-1', windowStartMs: T0, windowEndMs: T0, score: Number.NaN, modelVersion: 'm' })).toThrow(/finite/);
    expect(() => readLine({ meterId: 'M-1', ts: T0 + 0.5, registerL: 1, flags: [] }, T0)).toThrow(/integer milliseconds/);
    expect(() => readLine({ meterId: 'M-1', ts: T0, registerL: 1.5, flags: [] }, T0)).toThrow(/not an integer/);
  });

  it('quotes InfluxQL strings and identifiers', () => {
    expect(str(`it's \\ here`)).toBe(`'it\\'s \\\\ here'`);
    expect(ident('a"b')).toBe('"a\\"b"');
  });
});

describe('write requests', () => {
  it('maps the v2 path the WriteApi builds to the v1 /write endpoint', () => {
    expect(v1WritePath('/api/v2/write?org=&bucket=suido%2Fraw&precision=ms')).toBe('/write?db=suido&rp=raw&precision=ms');
    expect(v1WritePath('/api/v2/write?org=&bucket=suido&precision=ms&consistency=one')).toBe('/write?db=suido&precision=ms&consistency=one');
  });

  it('points v2 writes at database/retention-policy unless a bucket is named', () => {
    const c = { database: 'suido', retentionPolicy: 'raw' };
    expect(writeTarget({ ...c, writeApi: 'v2', org: 'bureau' })).toEqual({ org: 'bureau', bucket: 'suido/raw' });
    expect(writeTarget({ ...c, writeApi: 'v2', org: 'bureau', bucket: 'water' })).toEqual({ org: 'bureau', bucket: 'water' });
    expect(writeTarget({ ...c, writeApi: 'v1', org: 'ignored' })).toEqual({ org: '', bucket: 'suido/raw' });
  });

  it('is sent by the client as /api/v2/write with org, bucket and precision=ms (what 1.8+, 2.x and 3.x take)', async () => {
    // What the client hands its transport; no server (1.6 has no /api/v2/write to answer it).
    const sent: { path: string; body: string; options: SendOptions }[] = [];
    const transport: Transport = {
      chunkCombiner: new InfluxDB({ url: 'http://127.0.0.1:1' }).transport.chunkCombiner,
      send(path, body, options, callbacks) {
        sent.push({ path, body, options });
        callbacks?.responseStarted?.({}, 204);
        callbacks?.complete?.();
      },
      request: async () => undefined,
      iterate: () => {
        throw new Error('not used');
      },
    };
    const { org, bucket } = writeTarget({ writeApi: 'v2', org: 'bureau', database: 'suido', retentionPolicy: 'raw' });
    const api = new InfluxDB({ url: 'http://127.0.0.1:1', transport }).getWriteApi(org, bucket, 'ms', { flushInterval: 0 });
    api.writeRecord(`meter_reads,meter=M-1 register=1i ${T0}`);
    await api.close();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.path).toBe('/api/v2/write?org=bureau&bucket=suido%2Fraw&precision=ms');
    expect(sent[0]!.body).toBe(`meter_reads,meter=M-1 register=1i ${T0}`);
    expect(sent[0]!.options).toMatchObject({ method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' } });
  });
});

describe('InfluxDB configuration', () => {
  const read = (env: Record<string, string>) => {
    const r = new EnvReader({ SUIDO_DATA_DIR: '/tmp/x', ...env });
    const config = readStoreConfig(r);
    r.finish();
    return config;
  };

  it('selects InfluxDB with SUIDO_STORE=influxdb, keeping SQLite for state', () => {
    const c = read({ SUIDO_STORE: 'influxdb', INFLUX_URL: 'http://influx:8086', INFLUX_DATABASE: 'water' });
    expect(c).toMatchObject({ kind: 'influxdb', path: '/tmp/x/suido.db', influx: { url: 'http://influx:8086', database: 'water', retentionPolicy: 'raw', writeApi: 'v1', manageSchema: true } });
    expect(read({ SUIDO_STORE: 'influxdb', INFLUX_WRITE_API: 'v2', INFLUX_TOKEN: 't' })).toMatchObject({ influx: { writeApi: 'v2', token: 't', manageSchema: false } });
  });

  it('fails at start-up naming the variable', () => {
    expect(() => read({ SUIDO_STORE: 'influx' })).toThrow(/SUIDO_STORE='influx' must be one of sqlite, influxdb/);
    expect(() => read({ SUIDO_STORE: 'influxdb', INFLUX_URL: 'influx:8086' })).toThrow(/INFLUX_URL/);
    expect(() => read({ SUIDO_STORE: 'influxdb', INFLUX_WRITE_API: 'v3' })).toThrow(/INFLUX_WRITE_API='v3'/);
    expect(() => read({ SUIDO_STORE: 'influxdb', INFLUX_DATABASE: 'a b' })).toThrow(/INFLUX_DATABASE/);
    expect(() => read({ SUIDO_STORE: 'influxdb', INFLUX_TOKEN: 't' })).toThrow(/INFLUX_TOKEN is for INFLUX_WRITE_API=v2/);
    expect(() => read({ SUIDO_STORE: 'influxdb', INFLUX_USERNAME: 'u' })).toThrow(/INFLUX_PASSWORD/);
    expect(() => read({ SUIDO_STORE: 'influxdb', INFLUX_URL: 'http://u:p@influx:8086' })).toThrow(/must not hold credentials/);
    expect(() => read({ SUIDO_STORE: 'influxdb', INFLUX_RAW_RETENTION: 'forever' })).toThrow(/INFLUX_RAW_RETENTION/);
  });

  it('ignores the InfluxDB variables for the embedded store', () => {
    expect(read({ INFLUX_WRITE_API: 'v3' })).toEqual({ kind: 'sqlite', path: '/tmp/x/suido.db', synchronous: 'full' });
  });
});
