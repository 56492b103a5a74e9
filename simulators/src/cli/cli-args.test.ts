import { describe, expect, it } from 'vitest';
import { parseCliArgs } from './cli-args.ts';
import { progressLine } from './progress-line.ts';

const parse = (...argv: string[]) => parseCliArgs(argv, '/work/repo');
const errorOf = (...argv: string[]) => {
  const r = parse(...argv);
  return r.kind === 'error' ? r.message : `accepted: ${r.kind}`;
};

describe('command line', () => {
  it('resolves the scenario from where the user ran npm and applies overrides', () => {
    expect(parse('--scenario', 'simulators/scenarios/demo.json', '--seed', '7', '--speed', '60', '--days', '1.5', '--until-caught-up')).toEqual({
      kind: 'run',
      options: {
        scenarioPath: '/work/repo/simulators/scenarios/demo.json',
        url: 'mqtt://127.0.0.1:1883',
        seed: 7,
        speed: 60,
        days: 1.5,
        credentialsPath: undefined,
        gateway: undefined,
        caPath: undefined,
        untilCaughtUp: true,
        json: false,
        quiet: false,
      },
    });
    expect(parse('--scenario', '/abs/s.json', '--url', 'mqtts://broker.example:8883', '--ca', 'certs/ca.pem')).toMatchObject({
      options: { scenarioPath: '/abs/s.json', url: 'mqtts://broker.example:8883', seed: undefined, caPath: '/work/repo/certs/ca.pem' },
    });
    expect(parse('-h')).toEqual({ kind: 'help' });
  });

  it('refuses bad flags with a message that names them', () => {
    expect(errorOf()).toBe('--scenario FILE is required');
    expect(errorOf('--scenario', 'a.json', '--seed', '1.5')).toMatch(/^--seed '1.5' must be an integer/);
    expect(errorOf('--scenario', 'a.json', '--seed=-1')).toMatch(/^--seed '-1'/);
    expect(errorOf('--scenario', 'a.json', '--speed', 'fast')).toMatch(/^--speed 'fast' must be a number from 1/);
    expect(errorOf('--scenario', 'a.json', '--speed', '0.5')).toMatch(/^--speed/);
    expect(errorOf('--scenario', 'a.json', '--days', '')).toMatch(/^--days/);
    expect(errorOf('--scenario', 'a.json', '--url', 'http://x')).toMatch(/^--url 'http:\/\/x' must use one of mqtt:\/\//);
    expect(errorOf('--scenario', 'a.json', '--url', 'not a url')).toMatch(/^--url 'not a url' is not a URL/);
    expect(errorOf('--scenario', 'a.json', '--frobnicate')).toMatch(/frobnicate/);
    expect(errorOf('--scenario', 'a.json', 'stray')).toMatch(/stray/);
  });
});

describe('progress line', () => {
  it('shows simulated Tokyo time, how far to the present, and the counts', () => {
    const line = progressLine({
      simNowMs: Date.parse('2026-11-22T05:00:00Z'),
      simStartMs: Date.parse('2026-11-22T00:00:00Z'),
      caughtUpAtMs: Date.parse('2026-11-22T10:00:00Z'),
      messages: { reads: { published: 5, acked: 4 }, status: { published: 5, acked: 5 }, acoustic: { published: 0, acked: 0 } },
      published: 10,
      acked: 9,
      inFlightSessions: 1,
      errors: 2,
      retries: 3,
    });
    expect(line).toBe('[sim 2026-11-22 14:00 JST 50% to now] sent 10 acked 9 (reads 4, status 5, acoustic 0) in flight 1 errors 2');
  });
});
