import type { MqttClient } from 'mqtt';
import { startServiceProcess, type ServiceProcess, type ServiceProcessOptions } from '../../src/bench/service-process.ts';

/**
 * Fault tests start services with the benchmarks' launcher
 * (infra/src/bench/service-process.ts): a separate OS process that a test
 * can SIGKILL mid-write and start again on the same data.
 */
export { freePort, httpOk } from '../../src/bench/service-process.ts';
export type SuidoProcess = ServiceProcess;

export function startSuidoProcess(opts: ServiceProcessOptions): Promise<SuidoProcess> {
  return startServiceProcess({ timeoutMs: 30_000, ...opts });
}

/** The line every fault scenario prints, so the note can quote it. */
export interface FaultTally {
  readonly scenario: string;
  readonly kills: number;
  readonly restarts: number;
  readonly sent: number;
  readonly acked: number;
  readonly stored: number;
  readonly duplicates: number;
  readonly lost: number;
}

export function printTally(t: FaultTally): void {
  console.log(
    `fault scenario "${t.scenario}": kills ${t.kills}, restarts ${t.restarts} — sent ${t.sent}, acked ${t.acked}, stored ${t.stored}, duplicates ${t.duplicates}, lost ${t.lost}`,
  );
}

/**
 * Publishes at QoS 1 until a PUBACK comes, as device firmware does: mqtt.js
 * fails a publish whose connection dropped (or that was queued while it
 * replayed its session), and the device sends it again. Returns how many
 * times it had to send again.
 */
export async function publishUntilAcked(client: MqttClient, topic: string, payload: Buffer, retryMs: number): Promise<number> {
  for (let resends = 0; ; resends++) {
    try {
      await client.publishAsync(topic, payload, { qos: 1 });
      return resends;
    } catch {
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }
}
