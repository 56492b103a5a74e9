import { Duplex, Transform, type TransformCallback } from 'node:stream';
import type { Socket } from 'node:net';

/**
 * The MQTT codec under aedes (mqtt-packet) has no packet size limit: a client
 * that announces a 256 MB PUBLISH is buffered until it has sent it all. This
 * guard reads only the fixed header of each packet as the bytes stream past
 * (type byte, then the "remaining length" varint) and fails the connection as
 * soon as a packet announces more than the limit, before its body arrives.
 * Bytes pass through unchanged; the codec still does all the parsing.
 */
export class PacketTooLargeError extends Error {
  readonly code = 'MQTT_PACKET_TOO_LARGE';
  readonly announcedBytes: number;
  constructor(announcedBytes: number, limitBytes: number) {
    super(`MQTT packet announces ${announcedBytes} bytes, over the ${limitBytes}-byte limit`);
    this.name = 'PacketTooLargeError';
    this.announcedBytes = announcedBytes;
  }
}

/** A malformed remaining-length field (more than 4 varint bytes, MQTT 3.1.1 §2.2.3). */
export class PacketLengthInvalidError extends Error {
  readonly code = 'MQTT_PACKET_LENGTH_INVALID';
  constructor() {
    super('MQTT remaining length is longer than 4 bytes');
    this.name = 'PacketLengthInvalidError';
  }
}

const MAX_VARINT_BYTES = 4;

export class PacketSizeGuard extends Transform {
  private readonly limitBytes: number;
  /** 'type': next byte starts a packet; 'length': inside the varint; 'body': skipping. */
  private state: 'type' | 'length' | 'body' = 'type';
  private length = 0;
  private multiplier = 1;
  private varintBytes = 0;
  private bodyLeft = 0;

  constructor(limitBytes: number) {
    super();
    this.limitBytes = limitBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'body') {
        const skip = Math.min(this.bodyLeft, chunk.length - i);
        this.bodyLeft -= skip;
        i += skip;
        if (this.bodyLeft === 0) this.state = 'type';
      } else if (this.state === 'type') {
        i++;
        this.state = 'length';
        this.length = 0;
        this.multiplier = 1;
        this.varintBytes = 0;
      } else {
        const byte = chunk[i++]!;
        this.length += (byte & 0x7f) * this.multiplier;
        this.multiplier *= 128;
        this.varintBytes++;
        if (this.length > this.limitBytes) return callback(new PacketTooLargeError(this.length, this.limitBytes));
        if (byte & 0x80) {
          if (this.varintBytes >= MAX_VARINT_BYTES) return callback(new PacketLengthInvalidError());
          continue;
        }
        this.bodyLeft = this.length;
        this.state = this.length === 0 ? 'type' : 'body';
      }
    }
    callback(null, chunk);
  }
}

/**
 * The socket as aedes should see it: reads pass through the guard, writes go
 * straight to the socket. A guard error destroys the socket, which aedes sees
 * as a closed connection (the client is gone; other clients carry on).
 */
export function guardPacketSize(socket: Socket, limitBytes: number, onTooLarge: (err: Error) => void): Duplex {
  const guard = new PacketSizeGuard(limitBytes);
  guard.on('error', (err) => {
    // The guard also errors when the connection is torn down under it (an
    // AbortError once aedes destroys the duplex): only its own refusals are news.
    if (err instanceof PacketTooLargeError || err instanceof PacketLengthInvalidError) onTooLarge(err);
    socket.destroy();
  });
  socket.pipe(guard);
  return Duplex.from({ readable: guard, writable: socket });
}
