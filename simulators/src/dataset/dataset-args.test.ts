import { describe, expect, it } from 'vitest';
import { parseDatasetArgs } from './dataset-args.ts';

describe('dataset command line', () => {
  it('takes the seed and output directory, relative to where npm was run', () => {
    const args = parseDatasetArgs(['--seed', '1', '--out', 'data/acoustic-dataset', '--sensors', '20', '--day-share', '0.2'], '/home/me/suido');
    expect(args).toMatchObject({ kind: 'run', quiet: false, options: { seed: 1, outDir: '/home/me/suido/data/acoustic-dataset', sensors: 20, dayShare: 0.2, nights: undefined } });
  });

  it('names the flag and its range when a value is wrong', () => {
    const error = (argv: string[]) => {
      const args = parseDatasetArgs(argv, '/');
      return args.kind === 'error' ? args.message : '';
    };
    expect(error(['--out', 'x'])).toMatch(/--seed N is required/);
    expect(error(['--seed', '1'])).toMatch(/--out DIR is required/);
    expect(error(['--seed', '1', '--out', 'x', '--day-share', '2'])).toBe("--day-share '2' must be a number from 0 to 0.9");
    expect(error(['--seed', '1', '--out', 'x', '--sensors', '2.5'])).toBe("--sensors '2.5' must be an integer from 1 to 100000");
    expect(error(['--seed', '1', '--out', 'x', '--frames-per-night', ''])).toMatch(/--frames-per-night '' must be/);
    expect(error(['--seed', '1', '--out', 'x', '--nights'])).toMatch(/nights/);
    expect(error(['--seed', 'x', '--out', 'x'])).toMatch(/--seed 'x' must be an integer/);
    expect(error(['--seed', '1', '--out', 'x', '--bogus', '1'])).toMatch(/bogus/);
    expect(parseDatasetArgs(['--help'], '/')).toEqual({ kind: 'help' });
  });

  it('takes one condition for every sensor, and names the flag of one the simulator cannot render', () => {
    const run = parseDatasetArgs(['--seed', '1', '--out', 'x', '--material', 'pvc', '--environment', 'near_pump', '--sensor-type', 'hydrophone', '--sample-rate', '8000', '--leak-distance', '0-5'], '/');
    expect(run).toMatchObject({ kind: 'run', options: { conditions: { material: 'pvc', environment: 'near_pump', sensorType: 'hydrophone', sampleRateHz: 8000, leakDistanceM: [0, 5] } } });
    expect(parseDatasetArgs(['--seed', '1', '--out', 'x', '--leak-distance', '2.5'], '/')).toMatchObject({ options: { conditions: { leakDistanceM: [2.5, 2.5] } } });
    expect(parseDatasetArgs(['--seed', '1', '--out', 'x'], '/')).not.toHaveProperty('options.conditions');
    const error = (...flags: string[]) => {
      const args = parseDatasetArgs(['--seed', '1', '--out', 'x', ...flags], '/');
      return args.kind === 'error' ? args.message : '';
    };
    expect(error('--material', 'lead')).toMatch(/^--material must be one of ductile_iron, .*got 'lead'$/);
    expect(error('--sensor-type', 'geophone')).toMatch(/^--sensor-type must be one of accelerometer, hydrophone/);
    expect(error('--sample-rate', '2000')).toMatch(/^--sample-rate must be an integer from 4000 to 48000/);
    expect(error('--leak-distance', '5-1')).toMatch(/^--leak-distance must be from 0 to 1000 m, nearer first/);
    expect(error('--leak-distance', 'near')).toBe("--leak-distance 'near' must be metres A or a range A-B");
  });

  it('takes --pairs with an even number of sensors, and refuses leak onsets and distances with it', () => {
    expect(parseDatasetArgs(['--seed', '1', '--out', 'x', '--pairs', '--sensors', '20'], '/')).toMatchObject({ kind: 'run', options: { pairs: true, sensors: 20 } });
    expect(parseDatasetArgs(['--seed', '1', '--out', 'x'], '/')).not.toHaveProperty('options.pairs');
    const error = (...flags: string[]) => {
      const args = parseDatasetArgs(['--seed', '1', '--out', 'x', '--pairs', ...flags], '/');
      return args.kind === 'error' ? args.message : '';
    };
    expect(error('--sensors', '21')).toBe('--pairs takes an even --sensors (two a pair), got 21');
    expect(error('--leak-onset-share', '0.5')).toMatch(/leave out --leak-onset-share and --leak-distance/);
    expect(error('--leak-distance', '0-5')).toMatch(/leave out --leak-onset-share and --leak-distance/);
  });
});
