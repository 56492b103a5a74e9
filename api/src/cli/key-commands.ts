import type { ApiKeyRecord } from '@suido/ingest';
import { ApiKeyInputError, issueApiKey } from '../access/api-keys.ts';
import { ROLES } from '../access/roles.ts';
import { AdminCommandError, UsageError, parseCommandArgs, type AdminCommandGroup } from './admin-command.ts';

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!/^[0-9]{1,15}$/.test(text) || n < 1) throw new UsageError(`${what} must be a positive integer, got '${text}'`);
  return n;
}

/** Fixed-width columns, so that `keys list` reads in a terminal. */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

const keyRow = (k: ApiKeyRecord) => [String(k.id), k.name, k.role, iso(k.createdAtMs), k.createdBy, iso(k.lastUsedAtMs), k.revokedAtMs === null ? '-' : `${iso(k.revokedAtMs)} by ${k.revokedBy}`];

/** `keys create|list|revoke|audit`: API keys of the HTTP API (README: Access). */
export const keyCommands: AdminCommandGroup = {
  name: 'keys',
  summary: 'API keys of the HTTP API',
  commands: [
    {
      name: 'create',
      usage: `--role ${ROLES.join('|')} --name NAME [--json]`,
      summary: 'Creates a key and prints it once; only its hash is stored.',
      async run(args, ctx) {
        const { values } = parseCommandArgs(args, { role: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean', default: false } });
        if (values.role === undefined || values.name === undefined) throw new UsageError('--role and --name are required');
        let issued;
        try {
          issued = await issueApiKey(ctx.store(), { role: values.role, name: values.name, by: ctx.actor });
        } catch (err) {
          if (err instanceof ApiKeyInputError) throw new UsageError(err.message);
          throw err;
        }
        const { key, record } = issued;
        if (values.json) {
          ctx.out(JSON.stringify({ id: record.id, name: record.name, role: record.role, key }));
          return;
        }
        ctx.out(`Created API key ${record.id} '${record.name}' (role ${record.role}). It is shown this once; only its hash is kept:`);
        ctx.out(key);
      },
    },
    {
      name: 'list',
      usage: '[--json]',
      summary: 'Lists every key, revoked ones too (never the keys themselves).',
      async run(args, ctx) {
        const { values } = parseCommandArgs(args, { json: { type: 'boolean', default: false } });
        const keys = await ctx.store().listApiKeys();
        if (values.json) {
          for (const k of keys) ctx.out(JSON.stringify(k));
          return;
        }
        if (keys.length === 0) {
          ctx.out('No API keys yet: npm run admin -- keys create --role ROLE --name NAME');
          return;
        }
        for (const line of table([['ID', 'NAME', 'ROLE', 'CREATED', 'BY', 'LAST USED (±15 min)', 'REVOKED'], ...keys.map(keyRow)])) ctx.out(line);
      },
    },
    {
      name: 'revoke',
      usage: 'ID',
      summary: 'Revokes a key at once: its next request is refused with 401.',
      async run(args, ctx) {
        const { positionals } = parseCommandArgs(args, {}, 1);
        const id = positiveInt(positionals[0]!, 'ID');
        const result = await ctx.store().revokeApiKey(id, ctx.actor, Date.now());
        if (!result) throw new AdminCommandError(`no API key ${id} (npm run admin -- keys list)`);
        const { key, revokedNow } = result;
        ctx.out(
          revokedNow
            ? `Revoked API key ${key.id} '${key.name}' (role ${key.role}).`
            : `API key ${key.id} '${key.name}' was already revoked at ${iso(key.revokedAtMs)} by ${key.revokedBy}.`,
        );
      },
    },
    {
      name: 'audit',
      usage: '[--after EVENT_ID] [--limit N] [--json]',
      summary: 'Who created and revoked which key, and when, oldest first.',
      async run(args, ctx) {
        const { values } = parseCommandArgs(args, { after: { type: 'string', default: '0' }, limit: { type: 'string', default: '1000' }, json: { type: 'boolean', default: false } });
        const after = values.after === '0' ? 0 : positiveInt(values.after, '--after');
        const events = await ctx.store().apiKeyEvents(after, positiveInt(values.limit, '--limit'));
        if (values.json) {
          for (const e of events) ctx.out(JSON.stringify(e));
          return;
        }
        if (events.length === 0) {
          ctx.out('No key events.');
          return;
        }
        const rows = events.map((e) => [String(e.id), iso(e.atMs), e.action, `${e.keyId} '${e.keyName}'`, e.role, e.actor]);
        for (const line of table([['EVENT', 'AT', 'ACTION', 'KEY', 'ROLE', 'BY'], ...rows])) ctx.out(line);
      },
    },
  ],
};
