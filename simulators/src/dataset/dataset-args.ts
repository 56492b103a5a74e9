import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DATASET_DEFAULTS, DATASET_LIMITS, type DatasetOptions } from './write-dataset.ts';

export const DATASET_USAGE = `Usage: npm run dataset -w simulators -- --seed N --out DIR [options]

Renders a labelled acoustic leak data set (see simulators/README.md):
DIR/manifest.json and, per split (train/val/test, 70/15/15 by sensor),
DIR/{split}.pcm (int16 LE frames) and DIR/{split}.jsonl (one line per frame).
The same seed and options write the same bytes. Files of the same names in
DIR are overwritten.

Options:
  --seed N               seed (integer 0-4294967295, required)
  --out DIR              output directory (required), relative to where npm was run
  --sensors N            sensors in the population (default ${DATASET_DEFAULTS.sensors}, 1-100000)
  --nights N             nights recorded per sensor (default ${DATASET_DEFAULTS.nights}, 1-365)
  --frames-per-night N   frames between 02:00 and 04:00 (default ${DATASET_DEFAULTS.framesPerNight}, 1-120)
  --frame-seconds S      length of a frame (default ${DATASET_DEFAULTS.frameSeconds}, 0.05-60)
  --day-share X          share of all frames recorded by day, 07:00-22:00 (default ${DATASET_DEFAULTS.dayShare}, 0-0.9)
  --leak-share X         share of sensors with a leak on their pipe (default ${DATASET_DEFAULTS.leakShare}, 0-1)
  --leak-onset-share X   share of those leaks that begin inside the recorded nights, from the second night on
                         (default ${DATASET_DEFAULTS.leakOnsetShare}: all there from the first night; 0-1)
  --quiet                no progress lines on stderr
  -h, --help             show this help`;

export type DatasetArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly options: DatasetOptions; readonly quiet: boolean }
  | { readonly kind: 'error'; readonly message: string };

const FLAGS = {
  seed: { option: 'seed', integer: true },
  sensors: { option: 'sensors', integer: true },
  nights: { option: 'nights', integer: true },
  'frames-per-night': { option: 'framesPerNight', integer: true },
  'frame-seconds': { option: 'frameSeconds', integer: false },
  'day-share': { option: 'dayShare', integer: false },
  'leak-share': { option: 'leakShare', integer: false },
  'leak-onset-share': { option: 'leakOnsetShare', integer: false },
} as const;

/** Parses and validates the dataset command line; `cwd` is where relative paths start (npm's INIT_CWD). */
export function parseDatasetArgs(argv: readonly string[], cwd: string): DatasetArgs {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        ...Object.fromEntries(Object.keys(FLAGS).map((f) => [f, { type: 'string' as const }])),
        out: { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return { kind: 'error', message: (err as Error).message };
  }
  if (values.help) return { kind: 'help' };
  const numbers: Record<string, number> = {};
  for (const [flag, { option, integer }] of Object.entries(FLAGS)) {
    const text = values[flag];
    if (text === undefined) continue;
    const [min, max] = DATASET_LIMITS[option];
    const value = Number(text);
    if (String(text).trim() === '' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      return { kind: 'error', message: `--${flag} '${String(text)}' must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}` };
    }
    numbers[option] = value;
  }
  if (numbers.seed === undefined) return { kind: 'error', message: '--seed N is required (the same seed gives the same data set)' };
  const out = values.out as string | undefined;
  if (!out) return { kind: 'error', message: '--out DIR is required' };
  return {
    kind: 'run',
    quiet: values.quiet === true,
    options: {
      seed: numbers.seed,
      outDir: isAbsolute(out) ? out : resolve(cwd, out),
      sensors: numbers.sensors,
      nights: numbers.nights,
      framesPerNight: numbers.framesPerNight,
      frameSeconds: numbers.frameSeconds,
      dayShare: numbers.dayShare,
      leakShare: numbers.leakShare,
      leakOnsetShare: numbers.leakOnsetShare,
    },
  };
}
