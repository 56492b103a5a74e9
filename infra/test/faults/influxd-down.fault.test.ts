import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeMeterReads, topics } from '@suido/ingest';
import { startInfluxd, type RunningInfluxd } from '../../src/services/index.ts';
import { freePort, httpOk, printTally, startSuidoProcess, type SuidoProcess, publishUntilAcked } from './suido-process.ts';

/**
 * InfluxDB stopped for FAULT_INFLUX_DOWN_S (30 s by default) while meters
 * publish at QoS 1 to an ingest process on the InfluxDB store, then started
 * again on the same data. While it is down nothing may be acknowledged (a
 * PUBACK promises the point is in InfluxDB), ingest must not crash or buffer
 * without bound, and when it is back everything flows: every acknowledged
 * read is in InfluxDB once, with its register.
 */
const METERS = 8;
const MESSAGES_PER_METER = Number(process.env.FAULT_MESSAGES ?? 20);
const DOWN_MS = Number(process.env.FAULT_INFLUX_DOWN_S ?? 30) * 1000;
const READS_PER_MESSAGE = 24;
const HOUR = 3_600_000;
const DB = 'suido_fault';

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : NaN;
}

describe('fault: influxd stopped mid-stream and started again (separate OS processes)', () => {
  let dir: string | undefined;
  let influxd: RunningInfluxd | undefined;
  let ingest: SuidoProcess | undefined;
  const clients: MqttClient[] = [];

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await ingest?.kill9();
    await influxd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`acknowledges nothing while it is down, and loses and duplicates nothing (down ${DOWN_MS / 1000} s)`, async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-fault-influx-'));
    influxd = await startInfluxd();
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    ingest = await startSuidoProcess({
      entry: 'ingest/src/main.ts',
      env: {
        SUIDO_DATA_DIR: dir,
        SUIDO_STORE: 'influxdb',
        INFLUX_URL: influxd.url,
        INFLUX_DATABASE: DB,
        MQTT_PORT: String(mqttPort),
        MQTT_ALLOW_ANONYMOUS: 'true',
        INGEST_HTTP_PORT: String(httpPort),
        INGEST_BATCH_MAX_DELAY_MS: '5',
      },
      ready: () => httpOk(`http://127.0.0.1:${httpPort}/readyz`),
    });

    const end = Math.floor(Date.now() / HOUR) * HOUR;
    const firstTs = end - MESSAGES_PER_METER * READS_PER_MESSAGE * HOUR;
    const total = METERS * MESSAGES_PER_METER * READS_PER_MESSAGE;
    let sent = 0;
    let acked = 0;
    let ackedWhileDown = 0;
    let down = false;
    const ackedReads = new Map<string, number>();
    const publishers = Array.from({ length: METERS }, async (_, i) => {
      const id = `M-${String(i).padStart(4, '0')}`;
      const client = mqtt.connect(`mqtt://127.0.0.1:${mqttPort}`, { clientId: `meter-${id}`, reconnectPeriod: 200, connectTimeout: 5000 });
      clients.push(client);
      client.on('error', () => {});
      for (let m = 0; m < MESSAGES_PER_METER; m++) {
        const reads = Array.from({ length: READS_PER_MESSAGE }, (_, h) => {
          const k = m * READS_PER_MESSAGE + h;
          return { ts: firstTs + k * HOUR, registerL: 50_000 * i + 5 * k };
        });
        sent += reads.length;
        // A device whose publish failed (connection dropped while queued) sends it again.
        await publishUntilAcked(client, topics.meterReads(id), encodeMeterReads(reads), 100);
        if (down) ackedWhileDown += reads.length;
        acked += reads.length;
        for (const r of reads) ackedReads.set(`${id}@${r.ts}`, r.registerL);
      }
    });

    let pendingWhileDown = NaN;
    const fault = (async () => {
      while (acked < total / 3) await new Promise((r) => setTimeout(r, 10));
      await influxd!.takeDown();
      down = true;
      await new Promise((r) => setTimeout(r, DOWN_MS));
      pendingWhileDown = await metric(`http://127.0.0.1:${httpPort}/metrics`, 'suido_ingest_pending_items');
      // The last PUBACKs that were on the wire when it went down may land just after.
      down = false;
      await influxd!.bringUp();
    })();
    await Promise.all([...publishers, fault]);
    const ingestAlive = await httpOk(`http://127.0.0.1:${httpPort}/healthz`);
    await ingest.stop();
    ingest = undefined;

    const res = await fetch(
      `${influxd.url}/query?${new URLSearchParams({ db: DB, epoch: 'ms', q: `SELECT "register", "meter" FROM "raw"."meter_reads" WHERE time >= ${firstTs}ms` })}`,
    );
    const body = (await res.json()) as { results: { series?: { values: [number, number, string][] }[] }[] };
    const points = body.results[0]?.series?.[0]?.values ?? [];
    const seen = new Map<string, number>();
    let duplicates = 0;
    for (const [t, register, meter] of points) {
      const key = `${meter}@${t}`;
      if (seen.has(key)) duplicates++;
      seen.set(key, register);
    }
    let lost = 0;
    for (const [key, register] of ackedReads) if (seen.get(key) !== register) lost++;
    printTally({ scenario: `influxd down ${DOWN_MS / 1000} s mid-stream (InfluxDB store)`, kills: 1, restarts: 1, sent, acked, stored: points.length, duplicates, lost });
    console.log(`  reads acknowledged while influxd was down: ${ackedWhileDown}; items pending in ingest at the end of the outage: ${pendingWhileDown}`);
    expect(ingestAlive).toBe(true);
    expect(acked).toBe(total);
    // At most the one batch whose write had already succeeded when influxd went down.
    expect(ackedWhileDown).toBeLessThanOrEqual(METERS * READS_PER_MESSAGE);
    expect(lost).toBe(0);
    expect(duplicates).toBe(0);
    expect(points.length).toBe(total);
  }, 240_000);
});
