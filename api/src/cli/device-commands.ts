import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CredentialError, importRegistry, issueMqttCredential, type DeviceCredentialStore, type MqttCredential, type Store } from '@suido/ingest';
import { AdminCommandError, UsageError, parseCommandArgs, type AdminCommandGroup } from './admin-command.ts';

/** An operator fixes a file from the first problems; thousands of lines would scroll them away. */
const MAX_PROBLEMS_SHOWN = 50;
/** One page of the credential listing; the store is read in pages of this many. */
const PAGE = 1000;

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd());
}

/**
 * `devices import|issue|revoke|credentials`: the registry and the devices'
 * MQTT credentials (README: Devices and credentials).
 */
export const deviceCommands: AdminCommandGroup = {
  name: 'devices',
  summary: 'the device registry and MQTT credentials of devices and gateways',
  commands: [
    {
      name: 'import',
      usage: 'FILE.csv',
      summary: 'Imports the registry file (kind,id,district,lat,lon[,pipe_id,pipe_material,site,chainage_m,source_chainage_m,register_max_l,gateway]): all rows or, if any is bad, none.',
      async run(args, ctx) {
        const { positionals } = parseCommandArgs(args, {}, 1);
        const path = positionals[0]!;
        let text: string;
        try {
          text = await readFile(path, 'utf8');
        } catch (err) {
          throw new AdminCommandError(`cannot read ${path}: ${(err as Error).message}`);
        }
        const started = Date.now();
        const result = await importRegistry(ctx.store(), text, ({ stage, done, total }) => {
          const seconds = ((Date.now() - started) / 1000).toFixed(0);
          const n = (x: number) => x.toLocaleString('en-US');
          if (stage === 'parsed') ctx.progress(`read ${n(total)} valid rows from ${path} (${seconds} s)`);
          else if (stage === 'checking') ctx.progress(`checked ${n(done)} of ${n(total)} devices against the registry (${seconds} s)`);
          else ctx.progress(`storing ${n(total)} devices in one transaction (${seconds} s so far)`);
        });
        if (result.problems.length > 0) {
          for (const p of result.problems.slice(0, MAX_PROBLEMS_SHOWN)) ctx.out(`${path}:${p.line}: ${p.code}${p.column ? ` (${p.column})` : ''}: ${p.message}`);
          const more = result.problems.length - MAX_PROBLEMS_SHOWN;
          if (more > 0) ctx.out(`... and ${more} more`);
          throw new AdminCommandError(`${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${path}; nothing was imported`);
        }
        ctx.out(`Imported ${result.imported} devices from ${path}: ${result.created} new, ${result.imported - result.created} updated.`);
      },
    },
    {
      name: 'issue',
      usage: 'ID... | --missing  [--gateway] [--csv]',
      summary:
        'Issues (or rotates) the MQTT credential of devices (username = device id), or of a gateway with --gateway; --missing: every registered device without one. Secrets are printed once; only their hashes are kept.',
      async run(args, ctx) {
        let parsed;
        try {
          parsed = parseArgs({
            args: [...args],
            options: { gateway: { type: 'boolean', default: false }, missing: { type: 'boolean', default: false }, csv: { type: 'boolean', default: false } },
            strict: true,
            allowPositionals: true,
          });
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
        const { values, positionals } = parsed;
        if (values.missing === positionals.length > 0) throw new UsageError('give device ids, or --missing');
        if (values.missing && values.gateway) throw new UsageError('--missing issues to devices; name a gateway by its id');
        const store = ctx.store();
        const ids = values.missing ? await devicesWithoutCredential(ctx.store()) : positionals;
        const role = values.gateway ? 'gateway' : 'device';
        const issued: { username: string; secret: string }[] = [];
        for (const id of ids) {
          try {
            const { credential, secret } = await issueMqttCredential(store, id, role);
            issued.push({ username: credential.username, secret });
          } catch (err) {
            if (!(err instanceof CredentialError)) throw err;
            // What was issued before the failure is live: print it, or it is lost.
            printIssued(issued, ctx.out);
            throw new AdminCommandError(`${err.code}: ${err.message}${issued.length > 0 ? ` (the ${issued.length} above were issued)` : ''}`);
          }
        }
        if (issued.length === 0) {
          ctx.out('Every registered device has a live credential.');
          return;
        }
        if (!values.csv && issued.length === 1) {
          ctx.out(`Issued the MQTT credential of ${role} ${issued[0]!.username} (username ${issued[0]!.username}). The password is shown this once; only its hash is kept:`);
          ctx.out(issued[0]!.secret);
          return;
        }
        printIssued(issued, ctx.out);
      },
    },
    {
      name: 'revoke',
      usage: 'ID',
      summary: 'Revokes the live MQTT credential of a device or gateway: its next CONNECT is refused, and a connected client is dropped within MQTT_CREDENTIAL_RECHECK_S.',
      async run(args, ctx) {
        const { positionals } = parseCommandArgs(args, {}, 1);
        const id = positionals[0]!;
        if (!(await ctx.store().revokeMqttCredential(id, Date.now()))) throw new AdminCommandError(`'${id}' has no live MQTT credential (npm run admin -- devices credentials)`);
        ctx.out(`Revoked the MQTT credential of '${id}'.`);
      },
    },
    {
      name: 'credentials',
      usage: '[--all] [--json]',
      summary: 'Lists live MQTT credentials (with --all, revoked ones too), never the secrets.',
      async run(args, ctx) {
        const { values } = parseCommandArgs(args, { all: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } });
        const rows: MqttCredential[] = [];
        for (let after: string | undefined; ; ) {
          const page = await ctx.store().listMqttCredentials({ afterUsername: after, includeRevoked: values.all, limit: PAGE });
          // With --all a username has several rows: finish its history before moving the cursor on.
          const complete = page.length < PAGE ? page : page.filter((c) => c.username !== page.at(-1)!.username);
          rows.push(...complete);
          if (page.length < PAGE) break;
          if (complete.length === 0) throw new AdminCommandError(`more than ${PAGE} credentials for '${page[0]!.username}'`);
          after = complete.at(-1)!.username;
        }
        if (values.json) {
          for (const c of rows) ctx.out(JSON.stringify({ username: c.username, role: c.role, issuedAt: iso(c.issuedAtMs), revokedAt: c.revokedAtMs === null ? null : iso(c.revokedAtMs) }));
          return;
        }
        if (rows.length === 0) {
          ctx.out('No MQTT credentials yet: npm run admin -- devices issue ID');
          return;
        }
        for (const line of table([['USERNAME', 'ROLE', 'ISSUED', 'REVOKED'], ...rows.map((c) => [c.username, c.role, iso(c.issuedAtMs), iso(c.revokedAtMs)])])) ctx.out(line);
      },
    },
  ],
};

/** `username,password` lines: what a provisioning tool (or `--credentials` of the simulator) reads. */
function printIssued(issued: readonly { username: string; secret: string }[], out: (line: string) => void): void {
  if (issued.length === 0) return;
  out('username,password');
  for (const { username, secret } of issued) out(`${username},${secret}`);
}

async function devicesWithoutCredential(store: Store & DeviceCredentialStore): Promise<string[]> {
  const out: string[] = [];
  for (let after: string | undefined; ; ) {
    const page = await store.listDevices({ afterId: after, limit: PAGE });
    for (const d of page) if (!(await store.liveMqttCredential(d.id))) out.push(d.id);
    if (page.length < PAGE) return out;
    after = page.at(-1)!.id;
  }
}
