import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';
import type { Logger } from 'pino';
import { Ingestor } from '../pipeline/ingestor.ts';
import { DEFAULT_LIMITS } from '../contracts/index.ts';
import { guardPacketSize } from './packet-size-guard.ts';

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
}

/** The packet limit that lets the largest accepted payload through and nothing much bigger. */
export function packetLimitFor(maxPayloadBytes: number): number {
  return maxPayloadBytes + PACKET_OVERHEAD_BYTES;
}

/**
 * aedes in the process, on TCP. Ingest runs inside `authorizePublish`: aedes
 * writes the QoS 1 PUBACK only after that callback (PARTS.md, aedes
 * lib/handlers/publish.js), so calling back after the durable commit makes
 * "acknowledged" mean "stored". A store failure calls back with an error:
 * aedes then drops the connection without PUBACK and the device resends.
 * A rejected payload is dead-lettered, then acknowledged, so it never blocks
 * the device's later messages.
 */
export class EmbeddedBroker {
  readonly aedes: Aedes;
  readonly host: string;
  readonly port: number;
  private readonly server: Server;
  private readonly sockets: Set<Socket>;

  private constructor(aedes: Aedes, server: Server, sockets: Set<Socket>, host: string, port: number) {
    this.aedes = aedes;
    this.server = server;
    this.sockets = sockets;
    this.host = host;
    this.port = port;
  }

  static async start(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
    const { ingestor, log } = opts;
    const authorizePublish: NonNullable<AedesOptions['authorizePublish']> = (client, packet, callback) => {
      if (!Ingestor.handles(packet.topic)) return callback(null);
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      ingestor.submit({ topic: packet.topic, payload, clientId: client?.id ?? null }).then(
        () => callback(null),
        (err: Error) => callback(err),
      );
    };
    const aedes = await Aedes.createBroker({ authorizePublish });
    aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'mqtt client error'));
    aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'mqtt connection error'));
    const maxPacketBytes = opts.maxPacketBytes ?? packetLimitFor(DEFAULT_LIMITS.maxPayloadBytes);
    const server = createServer((socket) => {
      const conn = guardPacketSize(socket, maxPacketBytes, (err) =>
        log.warn({ remoteAddress: socket.remoteAddress, err: err.message }, 'mqtt connection closed: packet over the size limit'),
      );
      aedes.handle(conn);
    });
    // aedes.close() ends the clients it knows; a socket that has not finished
    // CONNECT is not one of them and would hold server.close() open.
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
    log.info({ host: address.address, port: address.port }, 'embedded MQTT broker listening');
    return new EmbeddedBroker(aedes, server, sockets, address.address, address.port);
  }

  get url(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `mqtt://${host}:${this.port}`;
  }

  async close(): Promise<void> {
    const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await serverClosed;
  }
}
