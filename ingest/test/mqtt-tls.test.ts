import { mkdtemp, rm } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { makeTestCertificates, type TestCertificates } from '@suido/infra/services';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { IngestService, SqliteStore, encodeMeterReads, issueMqttCredential, loadIngestConfig, startOpsServer, topics } from '../src/index.ts';

const HOUR = 3_600_000;

/** Certificates made by the test (a throw-away CA and a server certificate for 127.0.0.1), shared by the file. */
let certs: TestCertificates;
beforeAll(async () => {
  certs = await makeTestCertificates();
});
afterAll(async () => {
  await certs?.remove();
});

describe('embedded broker over TLS (MQTT_TLS_CERT_FILE, MQTT_TLS_KEY_FILE)', () => {
  let dir: string;
  let store: SqliteStore;
  let service: IngestService;
  let clients: MqttClient[];
  let logLines: string[];
  let secret: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'suido-tls-'));
    store = new SqliteStore({ path: join(dir, 'suido.db') });
    await store.upsertDevices([{ id: 'M-1', kind: 'meter', district: 'Naka' }]);
    secret = (await issueMqttCredential(store, 'M-1', 'device')).secret;
    logLines = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    const config = loadIngestConfig({
      SUIDO_DATA_DIR: dir,
      MQTT_PORT: '0',
      MQTT_TLS_CERT_FILE: certs.certFile,
      MQTT_TLS_KEY_FILE: certs.keyFile,
      INGEST_BATCH_MAX_DELAY_MS: '5',
      // The packet limit is this + 64 KiB; small, so that the guard is cheap to trip.
      INGEST_MAX_PAYLOAD_BYTES: '1024',
    });
    service = await IngestService.start({ config, store, registry: new Registry(), log: pino({ level: 'debug' }, sink) });
    clients = [];
  });

  afterEach(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await service.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const port = () => service.broker.port;
  async function connect(url: string, opts: IClientOptions): Promise<MqttClient> {
    const client = await mqtt.connectAsync(url, { clientId: 'tls-test', reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    clients.push(client);
    return client;
  }
  /**
   * How a connection attempt ends: 'connected', the TLS error's code, the
   * CONNACK return code, or 'closed' (mqtt.js's connectAsync resolves on a
   * plain close, so the events are watched directly).
   */
  const outcomeOf = (url: string, opts: IClientOptions) =>
    new Promise<string | number>((resolve) => {
      const c = mqtt.connect(url, { clientId: 'tls-intruder', reconnectPeriod: 0, connectTimeout: 5000, ...opts });
      const settle = (outcome: string | number) => {
        c.removeAllListeners();
        c.on('error', () => {});
        c.end(true, () => resolve(outcome));
      };
      c.once('connect', () => settle('connected'));
      c.once('error', (err: Error & { code?: string | number }) => settle(err.code ?? err.message));
      c.once('close', () => settle('closed'));
    });
  const readsAt = (registerL: number) => encodeMeterReads([{ ts: Date.now() - HOUR, registerL }]);

  it('serves mqtts://: a device trusting the CA publishes and its read is stored and acknowledged', async () => {
    expect(service.broker.url).toBe(`mqtts://127.0.0.1:${port()}`);
    const device = await connect(service.broker.url, { ca: certs.ca, username: 'M-1', password: secret });
    await device.publishAsync(topics.meterReads('M-1'), readsAt(4242), { qos: 1 });
    expect((await store.latestRead('M-1'))?.registerL).toBe(4242);
    // By name too: the certificate names localhost.
    const byName = await connect(`mqtts://localhost:${port()}`, { ca: certs.ca, username: 'M-1', password: secret, clientId: 'by-name' });
    await byName.publishAsync(topics.meterReads('M-1'), encodeMeterReads([{ ts: Date.now() - HOUR / 2, registerL: 4243 }]), { qos: 1 });
    expect((await store.latestRead('M-1'))?.registerL).toBe(4243);
  });

  it('refuses plain MQTT on the TLS port, and clients that do not trust the CA: nothing stored', async () => {
    const login = { username: 'M-1', password: secret };
    // Plain TCP: its CONNECT is no TLS ClientHello, so the handshake fails and the socket closes.
    expect(await outcomeOf(`mqtt://127.0.0.1:${port()}`, login)).not.toBe('connected');
    // The system's CAs do not know the test CA; a CA that signed something else is no better.
    expect(await outcomeOf(service.broker.url, login)).toMatch(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
    expect(await outcomeOf(service.broker.url, { ...login, ca: certs.otherCa })).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
    expect(await store.latestRead('M-1')).toBeUndefined();
    expect(service.metrics.totals.messagesAccepted + service.metrics.totals.messagesRejected).toBe(0);
    expect(logLines.join('')).toContain('mqtt TLS handshake failed');
  });

  it('keeps the ACL and the packet-size guard behind TLS', async () => {
    // A wrong password is refused with CONNACK 4, as on plain TCP.
    const refused = await outcomeOf(service.broker.url, { ca: certs.ca, username: 'M-1', password: 'not-the-secret' });
    expect(refused).toBe(4);
    expect(service.broker.refusals).toEqual({ MQTT_SECRET_WRONG: 1 });

    // A PUBLISH header announcing 10 MB, sent inside TLS: closed before its body is read.
    const closed = await new Promise<boolean>((resolve, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: port(), ca: certs.ca, servername: 'localhost' }, () => {
        socket.write(Buffer.from([0x30, 0x80, 0xad, 0xe2, 0x04])); // remaining length 10,000,000
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve(true));
      setTimeout(() => reject(new Error('the oversize packet did not close the connection')), 5000).unref();
    });
    expect(closed).toBe(true);
    // The guard stops at the third length byte: 1,611,392 already exceeds the limit.
    await expect.poll(() => logLines.join('')).toMatch(/MQTT packet announces \d+ bytes, over the 66560-byte limit/);
    expect(await store.latestRead('M-1')).toBeUndefined();
  });

  it('serves the ops endpoints over HTTPS with the same certificate', async () => {
    const ops = await startOpsServer({ host: '127.0.0.1', port: 0, registry: new Registry(), ready: async () => true, tls: { cert: certs.cert, key: certs.key } });
    try {
      const get = (ca?: Buffer) =>
        new Promise<number | string>((resolve) => {
          httpsGet({ host: '127.0.0.1', port: ops.port, path: '/healthz', ca }, (res) => {
            res.resume();
            resolve(res.statusCode!);
          }).on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        });
      expect(await get(certs.ca)).toBe(200);
      expect(await get()).not.toBe(200);
    } finally {
      await ops.close();
    }
  });
});

describe('MQTT TLS configuration', () => {
  const base = { SUIDO_DATA_DIR: '/nonexistent' };
  const problemsOf = (env: Record<string, string>) => {
    try {
      loadIngestConfig({ ...base, ...env });
      return 'accepted';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('needs both files, readable, holding a certificate and its own key; never prints a key', () => {
    expect(problemsOf({ MQTT_TLS_CERT_FILE: certs.certFile })).toMatch(/MQTT_TLS_CERT_FILE is set: set MQTT_TLS_KEY_FILE too/);
    expect(problemsOf({ MQTT_TLS_KEY_FILE: certs.keyFile })).toMatch(/MQTT_TLS_KEY_FILE is set: set MQTT_TLS_CERT_FILE too/);
    expect(problemsOf({ MQTT_TLS_CERT_FILE: join(certs.dir, 'missing.crt'), MQTT_TLS_KEY_FILE: certs.keyFile })).toMatch(/MQTT_TLS_CERT_FILE='.*missing\.crt' cannot be read \(ENOENT\)/);
    // A key given as the certificate, and a certificate given as the key.
    const swapped = problemsOf({ MQTT_TLS_CERT_FILE: certs.keyFile, MQTT_TLS_KEY_FILE: certs.certFile });
    expect(swapped).toMatch(/MQTT_TLS_CERT_FILE='.*server\.key' holds no PEM certificate/);
    expect(swapped).toMatch(/MQTT_TLS_KEY_FILE='.*server\.crt' holds no unencrypted PEM private key/);
    expect(swapped).not.toContain('PRIVATE KEY');
    // Another key (the other CA's): refused at start, not at the first handshake.
    expect(problemsOf({ MQTT_TLS_CERT_FILE: certs.certFile, MQTT_TLS_KEY_FILE: join(certs.dir, 'other-ca.key') })).toMatch(
      /MQTT_TLS_KEY_FILE='.*other-ca\.key' is not the private key of the certificate in MQTT_TLS_CERT_FILE/,
    );
    // External mode: the broker serves TLS itself; the variables would be ignored.
    expect(problemsOf({ INGEST_MQTT_MODE: 'external', MQTT_URL: 'mqtts://broker.example:8883', MQTT_TLS_CERT_FILE: certs.certFile, MQTT_TLS_KEY_FILE: certs.keyFile })).toMatch(
      /MQTT_TLS_CERT_FILE and MQTT_TLS_KEY_FILE are for the embedded broker/,
    );
    expect(loadIngestConfig({ ...base, MQTT_TLS_CERT_FILE: certs.certFile, MQTT_TLS_KEY_FILE: certs.keyFile }).mqtt.tls).toMatchObject({ certFile: certs.certFile, keyFile: certs.keyFile });
    expect(loadIngestConfig(base).mqtt.tls).toBeUndefined();
  });
});
