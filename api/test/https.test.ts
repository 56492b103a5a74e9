import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { SqliteStore } from '@suido/ingest';
import { makeTestCertificates, type TestCertificates } from '@suido/infra/services';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, issueApiKey, loadApiConfig } from '../src/index.ts';

/** The API over real HTTPS with certificates made by the test (API_TLS_CERT_FILE, API_TLS_KEY_FILE). */
describe('API over HTTPS', () => {
  let certs: TestCertificates;
  let store: SqliteStore;
  let app: FastifyInstance;
  let port: number;
  let key: string;

  beforeAll(async () => {
    certs = await makeTestCertificates();
    store = new SqliteStore({ path: ':memory:' });
    await store.upsertDevices([{ id: 'M-1', kind: 'meter', district: 'naka' }]);
    key = (await issueApiKey(store, { role: 'operator', name: 'tls-test', by: 'test' })).key;
    const config = loadApiConfig({ API_TLS_CERT_FILE: certs.certFile, API_TLS_KEY_FILE: certs.keyFile });
    app = await buildApi({ store, registry: new Registry(), log: pino({ level: 'silent' }), https: config.https });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    await certs?.remove();
  });

  /** Status code of a GET, or the client's error code when no answer came. */
  const get = (path: string, opts: { ca?: Buffer; plain?: boolean; host?: string } = {}) =>
    new Promise<number | string>((resolve) => {
      const request = opts.plain ? httpRequest : httpsRequest;
      request({ host: opts.host ?? '127.0.0.1', port, path, ca: opts.ca, headers: { authorization: `Bearer ${key}` }, timeout: 5000 }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
        .on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message))
        .on('timeout', function (this: { destroy(): void }) {
          this.destroy();
        })
        .end();
    });

  it('answers a client that trusts the CA, by address and by name, with access control as over HTTP', async () => {
    expect(await get('/healthz', { ca: certs.ca })).toBe(200);
    expect(await get('/v1/meters/M-1', { ca: certs.ca })).toBe(200);
    expect(await get('/v1/meters/M-1', { ca: certs.ca, host: 'localhost' })).toBe(200);
    expect(await get('/v1/dead-letters', { ca: certs.ca })).toBe(200);
  });

  it('refuses a client that does not trust the CA, and plain HTTP gets no answer', async () => {
    expect(await get('/healthz')).toMatch(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
    expect(await get('/healthz', { ca: certs.otherCa })).toMatch(/^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/);
    expect(await get('/v1/meters/M-1', { plain: true })).not.toBe(200);
  });

  it('refuses a bad TLS configuration naming the variable', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadApiConfig(env);
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(problems({ API_TLS_CERT_FILE: certs.certFile })).toMatch(/API_TLS_CERT_FILE is set: set API_TLS_KEY_FILE too/);
    expect(problems({ API_TLS_KEY_FILE: certs.keyFile })).toMatch(/API_TLS_KEY_FILE is set: set API_TLS_CERT_FILE too/);
    expect(problems({ API_TLS_CERT_FILE: certs.certFile, API_TLS_KEY_FILE: join(certs.dir, 'nope.key') })).toMatch(/API_TLS_KEY_FILE='.*nope\.key' cannot be read \(ENOENT\)/);
    // A directory is not readable as a file either.
    expect(problems({ API_TLS_CERT_FILE: certs.dir, API_TLS_KEY_FILE: certs.keyFile })).toMatch(/API_TLS_CERT_FILE='.*' cannot be read \(EISDIR\)/);
    expect(problems({ API_TLS_CERT_FILE: certs.certFile, API_TLS_KEY_FILE: join(certs.dir, 'ca.key') })).toMatch(/API_TLS_KEY_FILE='.*ca\.key' is not the private key of the certificate in API_TLS_CERT_FILE/);
    expect(loadApiConfig({}).https).toBeUndefined();
  });
});
