import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ApiKeyStore, DeviceCredentialStore, Store } from '@suido/ingest';

/**
 * The admin CLI's plug-in shape: each command group (keys, devices, ...) is
 * one module exporting an AdminCommandGroup, listed once in admin.ts. A
 * command gets its own arguments (after `<group> <command>`) and a context;
 * it prints with `ctx.out` and signals failure by throwing.
 */
export interface AdminCommandGroup {
  /** The first word on the command line: `npm run admin -- <name> ...`. */
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly AdminCommand[];
}

export interface AdminCommand {
  readonly name: string;
  /** Arguments after the command's name, e.g. `--role ROLE --name NAME`. */
  readonly usage: string;
  readonly summary: string;
  run(args: readonly string[], ctx: AdminContext): Promise<void>;
}

export interface AdminContext {
  /** The environment the services read (README: Configuration). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /**
   * Who runs the command, for audit records: `cli:<os user>`. The CLI needs
   * direct access to the store's file or server, so the OS account is the
   * identity that access was granted to.
   */
  readonly actor: string;
  /** One line for the operator, on stdout. */
  out(line: string): void;
  /** Progress of long work, on stderr: a script reading stdout sees only results. */
  progress(line: string): void;
  /** The store the services use (readStoreConfig), opened on first use; the dispatcher closes it. */
  store(): Store & ApiKeyStore & DeviceCredentialStore;
}

/** Wrong arguments: the dispatcher prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * A command refused with a reason the operator can act on (no such key):
 * the dispatcher prints the message without a stack and exits 1.
 */
export class AdminCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminCommandError';
  }
}

/** node:util parseArgs, strict, with its complaints turned into UsageError. */
export function parseCommandArgs<const O extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: O, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: positionals > 0 });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.positionals.length !== positionals) {
    throw new UsageError(`expected ${positionals} argument${positionals === 1 ? '' : 's'}, got ${parsed.positionals.length}`);
  }
  return parsed;
}
