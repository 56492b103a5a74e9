import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PostgresMissingError, startPostgres } from './postgres.ts';

describe('postgres launcher', () => {
  it('starts a server on loopback that answers SQL, and stops it leaving nothing behind', async () => {
    const server = await startPostgres();
    try {
      expect(server.url).toMatch(/^postgresql:\/\/suido@127\.0\.0\.1:\d+\/postgres$/);
      // psql from the same installation as the server (the launcher found it), over TCP as the URL says.
      const psql = spawnSync('sh', ['-c', `"$(dirname "$(readlink -f /proc/${server.pid}/exe)")/psql" -At "$0" -c "SHOW fsync" -c "SELECT current_user"`, server.url], {
        encoding: 'utf8',
      });
      expect(psql.stderr).toBe('');
      expect(psql.stdout.trim().split('\n')).toEqual(['off', 'suido']);
    } finally {
      await server.stop();
    }
    expect(existsSync(server.dir)).toBe(false);
    expect(() => process.kill(server.pid, 0)).toThrow();
  }, 60_000);

  it('fails clearly, naming the package, when there is no PostgreSQL', async () => {
    const binDir = join('/nonexistent', 'bin');
    await expect(startPostgres({ binDir })).rejects.toBeInstanceOf(PostgresMissingError);
    await expect(startPostgres({ binDir })).rejects.toThrow(/apt-get install postgresql/);
  });
});
