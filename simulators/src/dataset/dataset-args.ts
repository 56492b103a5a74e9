import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PIPE_MATERIALS } from '@suido/ingest';
import { ENVIRONMENTS } from '../sensors/environment.ts';
import { SENSOR_TYPES } from '../sensors/sensor-hardware.ts';
import type { PopulationConditions } from './dataset-population.ts';
import { CONDITION_LEAK_DISTANCE_M, CONDITION_SAMPLE_RATE_HZ, DATASET_DEFAULTS, DATASET_LIMITS, DatasetConditionError, checkedConditions, type DatasetOptions } from './write-dataset.ts';

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

One condition for every sensor instead of the drawn mix (to measure a model
under it, as a field trial would; every other draw stays the seed's):
  --material M           ${PIPE_MATERIALS.join(', ')}
  --environment E        ${ENVIRONMENTS.join(', ')}
  --sensor-type T        ${SENSOR_TYPES.join(', ')}
  --sample-rate HZ       ${CONDITION_SAMPLE_RATE_HZ[0]}-${CONDITION_SAMPLE_RATE_HZ[1]}
  --leak-distance A[-B]  leaks A metres from the sensor, or uniform from A to B (${CONDITION_LEAK_DISTANCE_M[0]}-${CONDITION_LEAK_DISTANCE_M[1]})

  --pairs                sensors in correlator pairs: --sensors / 2 pairs, each two sensors on one
                         main 40-300 m apart recording at the same instants, a leak between them
                         heard by both (split by pair; no --leak-onset-share or --leak-distance)
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
        material: { type: 'string' },
        environment: { type: 'string' },
        'sensor-type': { type: 'string' },
        'sample-rate': { type: 'string' },
        'leak-distance': { type: 'string' },
        pairs: { type: 'boolean', default: false },
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
  const conditions = parseConditions(values);
  if (typeof conditions === 'string') return { kind: 'error', message: conditions };
  const pairs = values.pairs === true;
  if (pairs && numbers.sensors !== undefined && numbers.sensors % 2 !== 0) return { kind: 'error', message: `--pairs takes an even --sensors (two a pair), got ${numbers.sensors}` };
  if (pairs && (numbers.leakOnsetShare !== undefined || conditions.leakDistanceM !== undefined)) {
    return { kind: 'error', message: '--pairs puts each leak between the two sensors from the first night: leave out --leak-onset-share and --leak-distance' };
  }
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
      ...(Object.keys(conditions).length > 0 && { conditions }),
      ...(pairs && { pairs }),
    },
  };
}

/** The condition flags as PopulationConditions, or a message naming the flag that is wrong. */
function parseConditions(values: Record<string, string | boolean | undefined>): PopulationConditions | string {
  const text = (flag: string) => values[flag] as string | undefined;
  const rate = text('sample-rate');
  const distance = text('leak-distance');
  const range = distance?.match(/^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?$/);
  if (distance !== undefined && !range) return `--leak-distance '${distance}' must be metres A or a range A-B`;
  const conditions: PopulationConditions = {
    ...(text('material') !== undefined && { material: text('material') as PopulationConditions['material'] }),
    ...(text('environment') !== undefined && { environment: text('environment') as PopulationConditions['environment'] }),
    ...(text('sensor-type') !== undefined && { sensorType: text('sensor-type') as PopulationConditions['sensorType'] }),
    ...(rate !== undefined && { sampleRateHz: Number(rate) }),
    ...(range && { leakDistanceM: [Number(range[1]), Number(range[2] ?? range[1])] as const }),
  };
  try {
    return checkedConditions(conditions);
  } catch (err) {
    if (err instanceof DatasetConditionError) return `--${CONDITION_FLAGS[err.condition]} ${err.detail}`;
    throw err;
  }
}

const CONDITION_FLAGS: Record<keyof PopulationConditions, string> = {
  material: 'material',
  environment: 'environment',
  sensorType: 'sensor-type',
  sampleRateHz: 'sample-rate',
  leakDistanceM: 'leak-distance',
};
