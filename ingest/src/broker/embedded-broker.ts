import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type AedesOptions, type Client } from 'aedes';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { Ingestor } from '../pipeline/ingestor.ts';
import { DEFAULT_LIMITS } from '../contracts/index.ts';
import { guardPacketSize } from './packet-size-guard.ts';
import { MqttAccess, type MqttPrincipal, type MqttRefusalCode } from './mqtt-access.ts';

/** Room for the topic, packet id and MQTT 5 properties around the largest payload. */
const PACKET_OVERHEAD_BYTES = 64 * 1024;

export interface EmbeddedBrokerOptions {
  readonly host: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly ingestor: Ingestor;
  readonly log: Logger;
  /** Largest MQTT packet read; bigger ones close the connection before their body is read. */
  readonly maxPacketBytes?: number | undefined;
  /** Who may connect, publish where, subscribe to what (README: Devices and credentials). */
  readonly access: MqttAccess;
  /** How often connected devices and gateways are checked for a revoked credential; 0: never. */
  readonly credentialRecheckMs?: number | undefined;
  /** Where `suido_mqtt_refusals_total` is registered. */
  readonly registry?: Registry | undefined;
  /** PEM certificate and key: listen with TLS (mqtts://) instead of plain TCP. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer } | undefined;
}

/** A publish the ACL refused: aedes closes the connection without PUBACK (MQTT 3.1.1 has no negative PUBACK). */
export class MqttAccessRefusedError extends Error {
  readonly code: MqttRefusalCode;
  constructor(code: MqttRefusalCode, topic: string) {
    super(`${code}: publish to ${topic} refused`);
    this.name = 'MqttAccessRefusedError';
    this.code = code;
  }
}

/** The packet limit that lets the largest accepted payload through and nothing much bigger. */
export function packetLimitFor(maxPayloadBytes: number): number {
  return maxPayloadBytes + PACKET_OVERHEAD_BYTES;
}

/**
 * aedes in the process, on TCP or TLS. Ingest runs inside `authorizePublish`: aedes
 * writes the QoS 1 PUBACK only after that callback (PARTS.md, aedes
 * lib/handlers/publish.js), so calling back after the durable commit makes
 * "acknowledged" mean "stored". A store failure calls back with an error:
 * aedes then drops the connection without PUBACK and the device resends.
 * A rejected payload is dead-lettered, then acknowledged, so it never blocks
 * the device's later messages.
 *
 * The ACL runs first, before ingest: a publish refused by it (a device
 * writing under another device's id) reaches neither the store nor the dead
 * letters: dead letters are for a device's own mistakes, kept for replay,
 * and an impostor's payload is neither replayable nor worth disk. It is
 * logged and counted (`suido_mqtt_refusals_total{code}`), and the connection
 * is closed without PUBACK: acknowledging it would tell a misconfigured
 * device its data was stored when it was not.
 */
export class EmbeddedBroker {
  readonly aedes: Aedes;
  readonly host: string;
  readonly port: number;
  /** Listening with TLS: the URL is mqtts://. */
  readonly tls: boolean;
  private readonly server: Server;
  private readonly sockets: Set<Socket>;
  /** Refusals by code since start (tests, the launcher's summary). */
  readonly refusals: Partial<Record<MqttRefusalCode, number>>;
  private readonly recheckTimer: NodeJS.Timeout | undefined;

  private constructor(aedes: Aedes, server: Server, sockets: Set<Socket>, host: string, port: number, refusals: Partial<Record<MqttRefusalCode, number>>, recheckTimer: NodeJS.Timeout | undefined, tls: boolean) {
    this.aedes = aedes;
    this.tls = tls;
    this.server = server;
    this.sockets = sockets;
    this.host = host;
    this.port = port;
    this.refusals = refusals;
    this.recheckTimer = recheckTimer;
  }

  static async start(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    const { ingestor, log, access } = opts;
    const refusals: Partial<Record<MqttRefusalCode, number>> = {};
    const refusalCounter = new Counter({
      name: 'suido_mqtt_refusals_total',
      help: 'Connections, publishes and subscriptions the broker refused, by code',
      labelNames: ['code'],
      registers: opts.registry ? [opts.registry] : [],
    });
    // Usernames and topics are logged to find a misconfigured device; passwords never are.
    const refuse = (code: MqttRefusalCode, fields: Record<string, unknown>, message: string) => {
      refusals[code] = (refusals[code] ?? 0) + 1;
      refusalCounter.inc({ code });
      log.warn({ code, ...fields }, message);
    };
    const principals = new WeakMap<Client, MqttPrincipal>();
    const connected = new Set<Client>();

    const authenticate: NonNullable<AedesOptions['authenticate']> = (client, username, password, done) => {
      access.authenticate(username, password).then((result) => {
        if (result.ok) {
          principals.set(client, result.principal);
          return done(null, true);
        }
        refuse(result.code, { clientId: client.id, username: username ?? null }, 'mqtt connection refused');
        done(Object.assign(new Error(result.code), { returnCode: result.connackCode }), false);
      }, (err: Error) => done(Object.assign(err, { returnCode: 3 as const }), false));
    };
    const authorizePublish: NonNullable<AedesOptions['authorizePublish']> = (client, packet, callback) => {
      // No client: a will left by a session that is gone; nobody to hold to the ACL.
      const principal = client && principals.get(client);
      const checked = principal ? access.publishRefusal(principal, packet.topic) : Promise.resolve<MqttRefusalCode>('MQTT_TOPIC_NOT_ALLOWED');
      checked.then((code) => {
        if (code) {
          refuse(code, { clientId: client?.id ?? null, username: principal && principal.role !== 'anonymous' ? principal.username : null, topic: packet.topic }, 'mqtt publish refused');
          return callback(new MqttAccessRefusedError(code, packet.topic));
        }
        if (!Ingestor.handles(packet.topic)) return callback(null);
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        ingestor.submit({ topic: packet.topic, payload, clientId: client?.id ?? null }).then(
          () => callback(null),
          (err: Error) => callback(err),
        );
      }, (err: Error) => callback(err));
    };
    const authorizeSubscribe: NonNullable<AedesOptions['authorizeSubscribe']> = (client, sub, callback) => {
      const principal = principals.get(client);
      const code = principal ? access.subscribeRefusal(principal, sub.topic) : 'MQTT_SUBSCRIBE_NOT_ALLOWED';
      if (!code) return callback(null, sub);
      refuse(code, { clientId: client.id, username: principal && principal.role !== 'anonymous' ? principal.username : null, topic: sub.topic }, 'mqtt subscription refused');
      // A null subscription is a refused one (SUBACK 0x80); the connection stays.
      callback(null, null);
    };
    const aedes = await Aedes.createBroker({ authenticate, authorizePublish, authorizeSubscribe });
    aedes.on('client', (client) => connected.add(client));
    aedes.on('clientDisconnect', (client) => connected.delete(client));
    aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'mqtt connection error'));
    const maxPacketBytes = opts.maxPacketBytes ?? packetLimitFor(DEFAULT_LIMITS.maxPayloadBytes);
    // With TLS the guard reads the decrypted stream (a TLSSocket is a Socket),
    // so the size limit and the ACL hold exactly as on plain TCP.
    const onConnection = (socket: Socket) => {
      const conn = guardPacketSize(socket, maxPacketBytes, (err) =>
        log.warn({ remoteAddress: socket.remoteAddress, err: err.message }, 'mqtt connection closed: packet over the size limit'),
      );
      aedes.handle(conn);
    };
    const server: Server = opts.tls ? createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, onConnection) : createServer(onConnection);
    // A plain-MQTT client, a scanner or a client that does not trust the
    // certificate: at debug, since anyone on the network can cause it.
    if (opts.tls) server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => log.debug({ remoteAddress: socket.remoteAddress, code: err.code, err: err.message }, 'mqtt TLS handshake failed'));
    // aedes.close() ends the clients it knows; a socket that has not finished
    // CONNECT (or its TLS handshake) is not one of them and would hold server.close() open.
    const sockets = new Set<Socket>();
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    log.info({ host: address.address, port: address.port, tls: opts.tls !== undefined }, 'embedded MQTT broker listening');
    // Revocation is written by another process (the admin CLI); a long-lived
    // connection (a gateway) would never notice it at CONNECT, so look again.
    const recheck = async () => {
      for (const client of [...connected]) {
        const principal = principals.get(client);
        if (!principal || (await access.stillValid(principal).catch(() => true))) continue;
        refuse('MQTT_CREDENTIAL_REVOKED', { clientId: client.id, username: principal.role === 'anonymous' ? null : principal.username }, 'mqtt client disconnected: credential revoked');
        client.close();
      }
    };
    const recheckMs = opts.credentialRecheckMs ?? 0;
    const recheckTimer = recheckMs > 0 ? setInterval(() => void recheck(), recheckMs).unref() : undefined;
    return new EmbeddedBroker(aedes, server, sockets, address.address, address.port, refusals, recheckTimer, opts.tls !== undefined);
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `${this.tls ? 'mqtts' : 'mqtt'}://${host}:${this.port}`;
  }

  async close(): Promise<void> {
    clearInterval(this.recheckTimer);
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await serverClosed;
  }
}
