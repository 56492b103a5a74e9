#!/usr/bin/env -S npx tsx
import { readFile } from 'node:fs/promises';
import { FleetSimulator, type FleetCredentials } from './fleet/fleet-simulator.ts';
import { fleetCredentialsFrom } from './cli/credentials-file.ts';
import { loadScenario } from './scenario/load-scenario.ts';
import { ScenarioError, type Scenario } from './scenario/scenario.ts';
import { parseCliArgs, USAGE, type CliOptions } from './cli/cli-args.ts';
import { progressLine, summary } from './cli/progress-line.ts';

const PROGRESS_EVERY_MS = 5_000;

async function main(argv: readonly string[]): Promise<number> {
  const args = parseCliArgs(argv, process.env.INIT_CWD ?? process.cwd());
  if (args.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.kind === 'error') {
    process.stderr.write(`suido-sim: ${args.message}\n\n${USAGE}\n`);
    return 2;
  }
  const opts = args.options;
  let scenario: Scenario;
  try {
    scenario = withOverrides(await loadScenario(opts.scenarioPath), opts);
  } catch (err) {
    if (err instanceof ScenarioError) {
      process.stderr.write(`suido-sim: ${err.message}\n`);
      return 2;
    }
    throw err;
  }

  let credentials: FleetCredentials | undefined;
  if (opts.credentialsPath !== undefined) {
    const text = await readFile(opts.credentialsPath, 'utf8').catch((err: Error) => err);
    const read = text instanceof Error ? `cannot read ${opts.credentialsPath}: ${text.message}` : fleetCredentialsFrom(text, scenario.connection.mode, opts.gateway);
    if (typeof read === 'string') {
      process.stderr.write(`suido-sim: ${read}\n`);
      return 2;
    }
    credentials = read;
  }

  let ca: Buffer | undefined;
  if (opts.caPath !== undefined) {
    const read = await readFile(opts.caPath).catch((err: Error) => err);
    if (read instanceof Error) {
      process.stderr.write(`suido-sim: cannot read ${opts.caPath}: ${read.message}\n`);
      return 2;
    }
    ca = read;
  }

  const { fleet, clock } = scenario;
  process.stderr.write(
    `suido-sim: ${fleet.meters} meters, ${fleet.sensors} sensors, seed ${scenario.seed}, ${clock.start ?? `${clock.daysBack} days back`} at ${clock.speed}x, ` +
      `${scenario.connection.mode} connections to ${opts.url}\n`,
  );
  const simulator = new FleetSimulator({
    url: opts.url,
    scenario,
    credentials,
    ca,
    progressIntervalMs: PROGRESS_EVERY_MS,
    onProgress: opts.quiet ? undefined : (p) => process.stderr.write(`${progressLine(p)}\n`),
  });
  let interrupts = 0;
  process.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write('suido-sim: stopping (Ctrl-C again to quit at once)\n');
    void simulator.stop();
  });
  const report = await simulator.run();
  process.stdout.write(opts.json ? `${JSON.stringify({ ...report, ledger: undefined }, null, 2)}\n` : `${summary(report)}\n`);
  return 0;
}

function withOverrides(scenario: Scenario, opts: CliOptions): Scenario {
  return {
    ...scenario,
    seed: opts.seed ?? scenario.seed,
    clock: {
      ...scenario.clock,
      speed: opts.speed ?? scenario.clock.speed,
      daysBack: opts.days ?? scenario.clock.daysBack,
      // --days asks for a start relative to now, which an absolute start would ignore.
      start: opts.days === undefined ? scenario.clock.start : undefined,
      stopWhenCaughtUp: opts.untilCaughtUp || scenario.clock.stopWhenCaughtUp,
    },
  };
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`suido-sim: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
