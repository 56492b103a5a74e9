import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InfluxdMissingError, startInfluxd } from './influxd.ts';

describe('influxd launcher', () => {
  it('starts a server on loopback that answers queries, and stops it leaving nothing behind', async () => {
    const influxd = await startInfluxd();
    try {
      expect(influxd.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${influxd.url}/query`, { method: 'POST', body: new URLSearchParams({ q: 'SHOW DATABASES' }) });
      expect(res.status).toBe(200);
      // The monitor is off: no _internal database written every 10 s.
      expect(JSON.stringify(await res.json())).not.toContain('_internal');
    } finally {
      await influxd.stop();
    }
    expect(existsSync(influxd.dir)).toBe(false);
    expect(() => process.kill(influxd.pid, 0)).toThrow();
    await expect(fetch(`${influxd.url}/ping`)).rejects.toThrow();
  });

  it('fails clearly, naming the package, when there is no influxd', async () => {
    await expect(startInfluxd({ binary: 'influxd-that-does-not-exist' })).rejects.toBeInstanceOf(InfluxdMissingError);
    await expect(startInfluxd({ binary: 'influxd-that-does-not-exist' })).rejects.toThrow(/apt-get install influxdb/);
  });
});
