import type { FleetCredentials } from '../fleet/fleet-simulator.ts';

/**
 * Reads the `username,password` lines the admin CLI prints
 * (`devices issue --csv`) into the logins a fleet uses: per-device
 * connections look up each device; pooled connections use the gateway named
 * (or the file's only line). Secrets are base64url and usernames device ids,
 * so neither holds a comma or a quote.
 */
export function fleetCredentialsFrom(text: string, mode: 'per-device' | 'pooled', gateway: string | undefined): FleetCredentials | string {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines[0] !== 'username,password') return "the credentials file must start with the line 'username,password'";
  const logins = new Map<string, string>();
  for (const [i, line] of lines.slice(1).entries()) {
    const [username, password, extra] = line.split(',');
    if (!username || !password || extra !== undefined) return `credentials file line ${i + 2}: expected 'username,password'`;
    logins.set(username, password);
  }
  if (mode === 'per-device') return { devices: logins };
  const name = gateway ?? (logins.size === 1 ? [...logins.keys()][0]! : undefined);
  if (name === undefined) return 'pooled connections log in as one gateway: name it with --gateway ID';
  const password = logins.get(name);
  return password === undefined ? `the credentials file has no line for gateway '${name}'` : { gateway: { username: name, password } };
}
