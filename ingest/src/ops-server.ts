import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/**
 * /healthz, /readyz and /metrics for a service that has no HTTP API of its
 * own (ingest run alone). The API service serves the same paths with fastify.
 * With `tls` (PEM certificate and key) it serves HTTPS.
 */
export async function startOpsServer(opts: {
  host: string;
  port: number;
  registry: Registry;
  ready: () => Promise<boolean>;
  tls?: { readonly cert: Buffer; readonly key: Buffer } | undefined;
}): Promise<{ port: number; close(): Promise<void> }> {
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, 'application/json', JSON.stringify({ code: 'METHOD_NOT_ALLOWED', message: 'GET only' }));
    if (path === '/healthz') return send(200, 'application/json', '{"status":"ok"}');
    if (path === '/readyz') {
      opts.ready().then(
        (ok) => send(ok ? 200 : 503, 'application/json', JSON.stringify({ status: ok ? 'ready' : 'not ready' })),
        () => send(503, 'application/json', '{"status":"not ready"}'),
      );
      return;
    }
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (text) => send(200, opts.registry.contentType, text),
        (err: Error) => send(500, 'text/plain', err.message),
      );
      return;
    }
    send(404, 'application/json', JSON.stringify({ code: 'NOT_FOUND', message: `no route ${path}` }));
  };
  const server: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handle) : createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
