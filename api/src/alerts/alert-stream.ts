import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { Store } from '@suido/ingest';
import { alertMessage } from './alert-json.ts';

export interface AlertStreamOptions {
  /** How often to look for new events (ms). */
  readonly pollMs: number;
  /** A comment line this often keeps proxies and phones from dropping an idle stream (ms). */
  readonly heartbeatMs: number;
  /** Events read per poll: bounds the work (and the buffered bytes) of one connection per tick. */
  readonly batch: number;
}

export const ALERT_STREAM_DEFAULTS: AlertStreamOptions = { pollMs: 500, heartbeatMs: 15_000, batch: 100 };

/**
 * One SSE connection: polls the store's event feed from `cursor` and writes
 * each event as `id: <event id>` / `event: <action>` / `data: <JSON>`. A
 * client that reconnects with `Last-Event-ID` resumes after the last event it
 * got, so a phone that lost its signal misses nothing. Polling waits while
 * the socket's buffer is full (back-pressure) and stops when the client goes.
 */
export class AlertStream {
  readonly #store: Store;
  readonly #res: ServerResponse;
  readonly #log: FastifyBaseLogger;
  readonly #opts: AlertStreamOptions;
  #cursor: number;
  #pollTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(store: Store, res: ServerResponse, log: FastifyBaseLogger, cursor: number, opts: AlertStreamOptions) {
    this.#store = store;
    this.#res = res;
    this.#log = log;
    this.#cursor = cursor;
    this.#opts = opts;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    res.on('close', () => this.close());
  }

  /** Writes the headers and starts polling; resolves when the stream ends. */
  start(): Promise<void> {
    this.#res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // One stream per connection: when the stream ends (shutdown, a store
      // failure) the socket goes too, so server.close() need not wait for an
      // idle keep-alive socket; EventSource reconnects on a new one anyway.
      connection: 'close',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    // Tells EventSource how long to wait before reconnecting, and flushes the headers.
    this.#res.write(`retry: 2000\n: from event ${this.#cursor}\n\n`);
    this.#heartbeatTimer = setInterval(() => {
      if (!this.#closed) this.#res.write(': heartbeat\n\n');
    }, this.#opts.heartbeatMs);
    this.#schedule(0);
    return this.#done;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#pollTimer);
    clearInterval(this.#heartbeatTimer);
    if (!this.#res.writableEnded) this.#res.end();
    this.#resolveDone();
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#pollTimer = setTimeout(() => void this.#poll(), delayMs);
  }

  async #poll(): Promise<void> {
    try {
      const page = await this.#store.alertEventsAfter(this.#cursor, this.#opts.batch);
      if (this.#closed) return;
      let writable = true;
      for (const event of page.events) {
        writable = this.#res.write(`id: ${event.id}\nevent: ${event.action}\ndata: ${JSON.stringify(alertMessage(event))}\n\n`);
      }
      this.#cursor = page.cursor;
      if (!writable) {
        // The client reads slower than events come: wait for the socket, not the timer.
        this.#res.once('drain', () => this.#schedule(0));
        return;
      }
      // A full page means more are waiting: go on at once rather than lag by a poll per batch.
      this.#schedule(page.events.length === this.#opts.batch ? 0 : this.#opts.pollMs);
    } catch (err) {
      // The client reconnects with Last-Event-ID and loses nothing.
      this.#log.warn({ err, cursor: this.#cursor }, 'alert stream: store read failed; closing the stream');
      this.close();
    }
  }
}
