import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request, type RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { encodeMeterReads, issueMqttCredential, topics } from '@suido/ingest';
import type { FleetCredentials } from '@suido/simulators';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, type TestCertificates } from '../src/services/index.ts';
import { loadAllInOneConfig, startAllInOne, type AllInOne } from '../src/index.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/** A small per-device fleet (a credential per device), caught up in a few seconds. */
/**
 * Two days back, not one: a meter sends the previous Tokyo day's reads once a
 * night between 01:00 and 05:00 Japan time, so a day-long run that starts
 * just after 01:00 (16:00 UTC) saw only sends of reads from before its start
 * and acknowledged no reads at all; a run over two days always holds one
 * whole night's sends of reads inside it.
 */
const SCENARIO = {
  seed: 6006,
  fleet: { meters: 6, sensors: 1, sampleRateHz: 2000, frameIntervalMinutes: 120 },
  clock: { daysBack: 2, speed: 2_000_000, stopWhenCaughtUp: true },
  faults: {},
  connection: { mode: 'per-device', maxConcurrent: 4, maxInFlight: 8 },
};

/**
 * Secrets never reach a log line (README: Security). One all-in-one run at
 * LOG_LEVEL=debug, over TLS, with every kind of secret in play: the demo's API
 * keys, its fleet's device credentials, the service password (the detector's
 * relay logs in with it), a device credential issued and used here, a wrong
 * MQTT password, keys sent as Bearer, X-Api-Key and ?access_token= (on the
 * stream route, and on a route that does not read it), a revoked key, a key
 * that was never issued, and a key made with the admin CLI in another process.
 * Every line the process logged, and the CLI's stderr, are searched for each
 * secret and for anything shaped like one.
 */
describe('no secret in any log line', () => {
  let certs: TestCertificates | undefined;
  let dir: string | undefined;
  let system: AllInOne | undefined;
  afterAll(async () => {
    await system?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    await certs?.remove();
  });

  it('a full run at debug level logs none of the secrets it used', { timeout: 90_000 }, async () => {
    certs = await makeTestCertificates();
    dir = await mkdtemp(join(tmpdir(), 'suido-secrets-'));
    const scenarioPath = join(dir, 'fleet.json');
    await writeFile(scenarioPath, JSON.stringify(SCENARIO));
    const servicePassword = `svc-${randomBytes(24).toString('base64url')}`;
    const env = {
      SUIDO_DATA_DIR: dir,
      SUIDO_SQLITE_SYNCHRONOUS: 'normal',
      MQTT_PORT: '0',
      API_PORT: '0',
      LOG_LEVEL: 'debug',
      SUIDO_DEMO: 'true',
      SUIDO_DEMO_SCENARIO: scenarioPath,
      MQTT_SERVICE_PASSWORD: servicePassword,
      MQTT_TLS_CERT_FILE: certs.certFile,
      MQTT_TLS_KEY_FILE: certs.keyFile,
      API_TLS_CERT_FILE: certs.certFile,
      API_TLS_KEY_FILE: certs.keyFile,
      ALERTS_MQTT_CA_FILE: certs.caFile,
      INGEST_BATCH_MAX_DELAY_MS: '5',
      DETECT_POLL_MS: '200',
    };
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
        done();
      },
    });
    const config = loadAllInOneConfig(env);
    expect(config.ingest.logLevel).toBe('debug');
    system = await startAllInOne(config, pino({ level: config.ingest.logLevel }, sink));
    expect(system.mqttUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    expect(system.apiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);

    const secrets = new Map<string, string>();
    const keyOf = (role: string) => system!.demoKeys.find((k) => k.record.role === role)!.key;
    for (const k of system.demoKeys) secrets.set(`demo ${k.record.role} key`, k.key);
    expect(secrets.size).toBe(4);
    secrets.set('MQTT_SERVICE_PASSWORD', servicePassword);
    // The demo fleet's device secrets exist only in the simulator (issued in the process, never printed).
    const fleet = (system.simulator as unknown as { opts: { credentials?: FleetCredentials } }).opts.credentials;
    for (const [id, secret] of fleet?.devices ?? []) secrets.set(`fleet device ${id}`, secret);
    expect(secrets.size).toBeGreaterThan(5);

    // The demo fleet publishes over mqtts:// trusting ALERTS_MQTT_CA_FILE.
    const report = await system.simulatorDone;
    expect(report).toMatchObject({ caughtUp: true, unacked: 0 });
    expect(report!.readsAcked).toBeGreaterThan(0);

    // A device credential issued and used, and a wrong password for the same device.
    const deviceId = [...(fleet?.devices?.keys() ?? [])].find((id) => id.startsWith('M-'))!;
    const issued = await issueMqttCredential(system.store, deviceId, 'device');
    secrets.set('issued device secret', issued.secret);
    const device = await mqtt.connectAsync(system.mqttUrl, { ca: certs.ca, clientId: 'secrets-test', username: deviceId, password: issued.secret, reconnectPeriod: 0 });
    await device.publishAsync(topics.meterReads(deviceId), encodeMeterReads([{ ts: Date.now() - 60_000, registerL: 1 }]), { qos: 1 });
    await device.endAsync();
    const wrongPassword = `wrong-${randomBytes(18).toString('base64url')}`;
    secrets.set('wrong MQTT password', wrongPassword);
    const refused = await new Promise<number | string>((resolve) => {
      const c = mqtt.connect(system!.mqttUrl, { ca: certs!.ca, clientId: 'secrets-wrong', username: deviceId, password: wrongPassword, reconnectPeriod: 0 });
      c.once('error', (err: Error & { code?: number }) => c.end(true, () => resolve(err.code ?? err.message)));
      c.once('connect', () => c.end(true, () => resolve('connected')));
    });
    expect(refused).toBe(4);

    // A key made with the admin CLI, as an operator would, in its own process at debug level.
    const cli = await run(process.execPath, ['--import', 'tsx', 'api/src/cli/admin-main.ts', 'keys', 'create', '--role', 'operator', '--name', 'secrets-test'], {
      cwd: REPO,
      env: { ...process.env, SUIDO_DATA_DIR: dir, LOG_LEVEL: 'debug', INIT_CWD: REPO },
    });
    const cliKey = /sk_operator_[A-Za-z0-9_-]{43}/.exec(cli.stdout)?.[0];
    expect(cliKey, cli.stdout).toBeDefined();
    secrets.set('CLI-made key', cliKey!);

    // API calls over HTTPS with every way of sending a key.
    const call = (path: string, headers: Record<string, string> = {}) => https(system!.apiUrl, path, certs!.ca, headers);
    expect(await call('/v1/meters?limit=5', { authorization: `Bearer ${keyOf('admin')}` })).toBe(200);
    expect(await call(`/v1/meters/${deviceId}`, { 'x-api-key': keyOf('billing') })).toBe(200);
    expect(await call('/metrics', { authorization: `Bearer ${cliKey}` })).toBe(200);
    expect(await call('/v1/dead-letters', { authorization: `Bearer ${keyOf('crew')}` })).toBe(403);
    // On a route that does not read it, the query's key is not a login, but it is still in the URL that fastify logs.
    expect(await call(`/v1/meters?access_token=${keyOf('operator')}`)).toBe(401);
    expect(await stream(system.apiUrl, `/v1/alerts/stream?access_token=${keyOf('crew')}`, certs.ca)).toBe(200);
    const neverIssued = `sk_admin_${randomBytes(32).toString('base64url')}`;
    secrets.set('a key never issued', neverIssued);
    expect(await call('/v1/meters', { authorization: `Bearer ${neverIssued}` })).toBe(401);
    expect(await call('/v1/meters', { authorization: `Basic ${Buffer.from(`admin:${servicePassword}`).toString('base64')}` })).toBe(401);
    secrets.set('Basic credentials', Buffer.from(`admin:${servicePassword}`).toString('base64'));
    const revoked = system.demoKeys.find((k) => k.record.role === 'operator')!;
    await system.store.revokeApiKey(revoked.record.id, 'cli:secrets-test', Date.now());
    expect(await call('/v1/meters', { authorization: `Bearer ${revoked.key}` })).toBe(401);

    // The audit names keys, never shows them.
    const audit = await run(process.execPath, ['--import', 'tsx', 'api/src/cli/admin-main.ts', 'keys', 'audit'], {
      cwd: REPO,
      env: { ...process.env, SUIDO_DATA_DIR: dir, LOG_LEVEL: 'debug', INIT_CWD: REPO },
    });
    expect(audit.stdout).toContain('secrets-test');

    await system.close();
    system = undefined;

    // What was searched is a real run's log: requests, refusals, the relay's TLS connection.
    const all = lines.join('\n');
    expect(all).toContain('"msg":"incoming request"');
    expect(all).toContain('access_token=[Redacted]');
    expect(all).toContain('MQTT_SECRET_WRONG');
    expect(all).toContain('alert publisher connected');
    expect(lines.length).toBeGreaterThan(20);

    const outputs = [
      { name: 'the all-in-one log', text: all },
      { name: 'the CLI\u2019s stderr (create)', text: cli.stderr },
      { name: 'the CLI\u2019s output and stderr (audit)', text: `${audit.stdout}\n${audit.stderr}` },
    ];
    const found: string[] = [];
    for (const { name, text } of outputs) {
      for (const [what, secret] of secrets) if (text.includes(secret)) found.push(`${what} in ${name}: ${lineWith(text, secret)}`);
      // Anything shaped like a secret, whoever made it.
      for (const [what, pattern] of SECRET_SHAPES) {
        const m = pattern.exec(text);
        if (m) found.push(`${what} in ${name}: ${lineWith(text, m[0])}`);
      }
    }
    expect(found).toEqual([]);
  });
});

/** Shapes of secrets that no log line should ever hold. */
const SECRET_SHAPES: readonly (readonly [string, RegExp])[] = [
  ['an API key', /sk_(admin|billing|crew|operator)_[A-Za-z0-9_-]{20,}/],
  ['a password field', /"(password|passwd|secret|servicePassword)"\s*:\s*"(?!\[Redacted\])/i],
  ['a bearer token', /Bearer\s+(?!realm)[A-Za-z0-9._~+/-]{8,}/],
  ['a private key', /PRIVATE KEY/],
  ['a credential in a URL', /[a-z]+:\/\/[^/\s"@]+:[^/\s"@]+@/i],
];

/** The log line holding `needle`, cut short, for the failure message. */
function lineWith(text: string, needle: string): string {
  const line = text.split('\n').find((l) => l.includes(needle)) ?? '';
  return line.length > 400 ? `${line.slice(0, 400)}…` : line;
}

/** A request's status over HTTPS, trusting `ca`. */
function https(base: string, path: string, ca: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { ca, headers, timeout: 10_000 } satisfies RequestOptions, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject).end();
  });
}

/** Opens an event stream, waits for its first bytes, then hangs up; resolves the status. */
function stream(base: string, path: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, base), { ca, timeout: 10_000 }, (res) => {
      res.once('data', () => {
        req.destroy();
        resolve(res.statusCode!);
      });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err))).end();
  });
}
