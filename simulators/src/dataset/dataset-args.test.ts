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
});
