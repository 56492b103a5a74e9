import { userInfo } from 'node:os';
import { ConfigError, EnvReader, openStore, readStoreConfig, type ApiKeyStore, type DeviceCredentialStore, type Store } from '@suido/ingest';
import { AdminCommandError, UsageError, type AdminCommand, type AdminCommandGroup, type AdminContext } from './admin-command.ts';
import { deviceCommands } from './device-commands.ts';
import { keyCommands } from './key-commands.ts';

/**
 * Every command group of `npm run admin -- <group> <command> ...`, one line
 * each. A group is its own module (admin-command.ts has the shape).
 */
export const COMMAND_GROUPS: readonly AdminCommandGroup[] = [
  keyCommands,
  deviceCommands,
];

export interface AdminIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  out(line: string): void;
  err(line: string): void;
  /** Who runs the command (default: the OS user). */
  readonly actor?: string | undefined;
}

/** Exit codes: 0 done, 1 the command failed, 2 wrong usage. */
export async function runAdmin(argv: readonly string[], io: AdminIo, groups: readonly AdminCommandGroup[] = COMMAND_GROUPS): Promise<number> {
  const [groupName, commandName, ...args] = argv;
  if (groupName === undefined || groupName === 'help' || groupName === '--help' || groupName === '-h') {
    if (groupName === undefined) {
      io.err(usage(groups));
      return 2;
    }
    io.out(usage(groups));
    return 0;
  }
  const group = groups.find((g) => g.name === groupName);
  if (!group) {
    io.err(`suido-admin: unknown command group '${groupName}'\n\n${usage(groups)}`);
    return 2;
  }
  const command = group.commands.find((c) => c.name === commandName);
  if (!command) {
    io.err(`${commandName === undefined || commandName === '--help' ? '' : `suido-admin: unknown command '${groupName} ${commandName}'\n\n`}${groupUsage(group)}`);
    return commandName === '--help' ? 0 : 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(commandUsage(group, command));
    return 0;
  }

  let store: (Store & ApiKeyStore & DeviceCredentialStore) | undefined;
  const ctx: AdminContext = {
    env: io.env,
    actor: io.actor ?? `cli:${userInfo().username}`,
    out: io.out,
    progress: io.err,
    store() {
      if (!store) {
        const r = new EnvReader(io.env);
        const config = readStoreConfig(r);
        r.finish();
        store = openStore({ store: config });
      }
      return store;
    },
  };
  try {
    await command.run(args, ctx);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`suido-admin: ${err.message}\n\n${commandUsage(group, command)}`);
      return 2;
    }
    if (err instanceof AdminCommandError || err instanceof ConfigError) {
      io.err(`suido-admin: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    await store?.close();
  }
}

function usage(groups: readonly AdminCommandGroup[]): string {
  const lines = ['Usage: npm run admin -- <group> <command> [options]', '', 'Opens the store the services use (SUIDO_STORE, SUIDO_DATA_DIR, SUIDO_SQLITE_PATH).', ''];
  for (const g of groups) lines.push(groupUsage(g), '');
  return lines.join('\n').trimEnd();
}

function groupUsage(group: AdminCommandGroup): string {
  return [`${group.name}: ${group.summary}`, ...group.commands.map((c) => `  ${group.name} ${c.name} ${c.usage}`.trimEnd() + `\n      ${c.summary}`)].join('\n');
}

function commandUsage(group: AdminCommandGroup, command: AdminCommand): string {
  return `Usage: npm run admin -- ${group.name} ${command.name} ${command.usage}`.trimEnd() + `\n\n${command.summary}`;
}
