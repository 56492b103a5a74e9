import mqtt, { type MqttClient } from 'mqtt';

export interface MqttLogin {
  readonly username: string;
  readonly password: string;
}

export interface ConnectOptions {
  readonly clientId: string;
  readonly connectTimeoutMs?: number | undefined;
  /** Who to log in as: a device (its id and secret) or a gateway; none: anonymous. */
  readonly login?: MqttLogin | undefined;
  /** PEM of the CA that signed an mqtts:// broker's certificate; unset: the system's CAs. */
  readonly ca?: Buffer | undefined;
  /** Aborting it drops the connection, open or opening. */
  readonly signal?: AbortSignal;
}

/**
 * Opens one MQTT connection that fails loudly: it rejects when the broker
 * refuses or drops the connection before CONNACK, and once open, a dropped
 * connection fails every publish still awaiting its PUBACK (mqtt.js would
 * otherwise keep them pending for a reconnect that we do ourselves, with
 * back-off, on a fresh connection).
 */
export function openConnection(url: string, opts: ConnectOptions): Promise<MqttClient> {
  const { signal } = opts;
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  const client = mqtt.connect(url, {
    clientId: opts.clientId,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    keepalive: 30,
    ...(opts.login && { username: opts.login.username, password: opts.login.password }),
    ...(opts.ca && { ca: opts.ca }),
  });
  // Failures reach callers as rejected connects and publishes; an 'error'
  // event with no listener would crash the process instead.
  client.on('error', () => {});
  const drop = () => client.end(true);
  signal?.addEventListener('abort', drop, { once: true });
  client.once('end', () => signal?.removeEventListener('abort', drop));
  return new Promise<MqttClient>((resolve, reject) => {
    const settle = () => {
      client.off('connect', onConnect);
      client.off('error', onError);
      client.off('close', onClose);
    };
    const onConnect = () => {
      settle();
      client.on('close', () => client.end(true));
      resolve(client);
    };
    const fail = (err: Error) => {
      settle();
      client.end(true);
      reject(err);
    };
    const onError = (err: Error) => fail(err);
    const onClose = () => fail(new Error(`connection to ${url} closed before CONNACK`));
    client.on('connect', onConnect);
    client.on('error', onError);
    client.on('close', onClose);
  });
}
