import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const USAGE = `Usage: npm start -w simulators -- --scenario FILE [options]

Runs a simulated fleet of smart meters and acoustic sensors against an MQTT
broker, as the scenario file describes (see simulators/README.md).

Options:
  --scenario FILE      scenario JSON (required), relative to where npm was run
  --url URL            broker URL (default mqtt://127.0.0.1:1883)
  --seed N             override the scenario's seed (integer 0-4294967295)
  --speed X            override the clock speed (simulated seconds per real second, >= 1)
  --days N             override how many days back the clock starts (0-365)
  --credentials FILE   MQTT logins, 'username,password' lines as 'npm run admin --
                       devices issue --csv' prints them: per-device connections log
                       in as each device; pooled ones as the gateway (--gateway ID,
                       or the file's only line). Without it: anonymous
  --gateway ID         the gateway pooled connections log in as
  --ca FILE            PEM of the CA that signed an mqtts:// broker's certificate
                       (default: the system's CAs)
  --until-caught-up    stop once the simulation reaches the present
  --json               print the final report as JSON instead of a summary
  --quiet              no progress lines on stderr
  -h, --help           show this help

Ctrl-C stops cleanly: deliveries in flight get a few seconds to be acknowledged.`;

export interface CliOptions {
  readonly scenarioPath: string;
  readonly url: string;
  readonly seed: number | undefined;
  readonly speed: number | undefined;
  readonly days: number | undefined;
  /** username,password CSV (admin CLI `devices issue --csv`). */
  readonly credentialsPath: string | undefined;
  readonly gateway: string | undefined;
  /** PEM file of the CA to trust for mqtts://. */
  readonly caPath: string | undefined;
  readonly untilCaughtUp: boolean;
  readonly json: boolean;
  readonly quiet: boolean;
}

export type CliArgs = { readonly kind: 'help' } | { readonly kind: 'run'; readonly options: CliOptions } | { readonly kind: 'error'; readonly message: string };

const BROKER_PROTOCOLS = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'ws:', 'wss:'];

/**
 * Parses and validates the command line. `cwd` is where relative paths
 * start: npm runs a workspace script inside the workspace, so the caller
 * passes INIT_CWD, the directory the user typed the command in.
 */
export function parseCliArgs(argv: readonly string[], cwd: string): CliArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string' },
        url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
        seed: { type: 'string' },
        speed: { type: 'string' },
        days: { type: 'string' },
        credentials: { type: 'string' },
        gateway: { type: 'string' },
        ca: { type: 'string' },
        'until-caught-up': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const fail = (message: string): CliArgs => ({ kind: 'error', message });

  const scenario = values.scenario as string | undefined;
  if (!scenario) return fail('--scenario FILE is required');
  const url = values.url as string;
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    return fail(`--url '${url}' is not a URL; expected e.g. mqtt://127.0.0.1:1883`);
  }
  if (!BROKER_PROTOCOLS.includes(protocol)) return fail(`--url '${url}' must use one of ${BROKER_PROTOCOLS.map((p) => `${p}//`).join(', ')}`);

  const seed = numberFlag(values.seed, '--seed', 0, 0xffff_ffff, true);
  if (typeof seed === 'string') return fail(seed);
  const speed = numberFlag(values.speed, '--speed', 1, 1e9, false);
  if (typeof speed === 'string') return fail(speed);
  const days = numberFlag(values.days, '--days', 0, 365, false);
  if (typeof days === 'string') return fail(days);

  return {
    kind: 'run',
    options: {
      scenarioPath: isAbsolute(scenario) ? scenario : resolve(cwd, scenario),
      url,
      seed,
      speed,
      days,
      credentialsPath: typeof values.credentials === 'string' ? (isAbsolute(values.credentials) ? values.credentials : resolve(cwd, values.credentials)) : undefined,
      gateway: values.gateway as string | undefined,
      caPath: typeof values.ca === 'string' ? (isAbsolute(values.ca) ? values.ca : resolve(cwd, values.ca)) : undefined,
      untilCaughtUp: values['until-caught-up'] === true,
      json: values.json === true,
      quiet: values.quiet === true,
    },
  };
}

/** The flag's number, undefined when absent, or the problem as a message. */
function numberFlag(text: unknown, flag: string, min: number, max: number, integer: boolean): number | undefined | string {
  if (text === undefined) return undefined;
  const value = Number(text);
  const ok = String(text).trim() !== '' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  return ok ? value : `${flag} '${String(text)}' must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`;
}
