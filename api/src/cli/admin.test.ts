import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AdminCommandError, parseCommandArgs, type AdminCommandGroup } from './admin-command.ts';
import { runAdmin } from './admin.ts';

describe('admin CLI dispatcher', () => {
  let dir: string;
  let out: string[];
  let err: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'suido-admin-'));
    out = [];
    err = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const io = (env: Record<string, string> = { SUIDO_DATA_DIR: dir }) => ({ env, out: (l: string) => out.push(l), err: (l: string) => err.push(l), actor: 'cli:test' });

  const seen: { args: unknown; actor: string; store: string }[] = [];
  const group: AdminCommandGroup = {
    name: 'things',
    summary: 'test things',
    commands: [
      {
        name: 'echo',
        usage: '--word W',
        summary: 'prints the word and the store it opened',
        async run(args, ctx) {
          const { values } = parseCommandArgs(args, { word: { type: 'string' } });
          const store = ctx.store();
          await store.ping();
          seen.push({ args: values, actor: ctx.actor, store: store.name });
          ctx.out(`word ${values.word}`);
        },
      },
      {
        name: 'fail',
        usage: '',
        summary: 'refuses',
        async run() {
          throw new AdminCommandError('no such thing');
        },
      },
    ],
  };

  it('runs the named command with its arguments on the store the environment names, then closes it', async () => {
    expect(await runAdmin(['things', 'echo', '--word', 'hi'], io(), [group])).toBe(0);
    expect(out).toEqual(['word hi']);
    expect(seen.at(-1)).toEqual({ args: { word: 'hi' }, actor: 'cli:test', store: `sqlite:${join(dir, 'suido.db')}` });
  });

  it('answers 2 with usage for unknown groups, commands and options, 1 for a refused command or bad configuration', async () => {
    expect(await runAdmin([], io(), [group])).toBe(2);
    expect(err.at(-1)).toContain('things echo --word W');
    expect(await runAdmin(['nope'], io(), [group])).toBe(2);
    expect(err.at(-1)).toContain("unknown command group 'nope'");
    expect(await runAdmin(['things', 'nope'], io(), [group])).toBe(2);
    expect(err.at(-1)).toContain("unknown command 'things nope'");
    expect(await runAdmin(['things', 'echo', '--colour', 'red'], io(), [group])).toBe(2);
    expect(err.at(-1)).toMatch(/--colour[\s\S]*Usage: npm run admin -- things echo --word W/);
    expect(await runAdmin(['things', 'fail'], io(), [group])).toBe(1);
    expect(err.at(-1)).toBe('suido-admin: no such thing');
    expect(await runAdmin(['things', 'echo'], io({ SUIDO_STORE: 'duckdb' }), [group])).toBe(1);
    expect(err.at(-1)).toContain('SUIDO_STORE');
    expect(await runAdmin(['help'], io(), [group])).toBe(0);
    expect(out.at(-1)).toContain('Usage: npm run admin -- <group> <command>');
  });
});
