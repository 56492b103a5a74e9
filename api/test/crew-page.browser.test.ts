import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser } from 'playwright-core';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '@suido/ingest';
import { issueApiKey, keyIdentity } from '../src/access/api-keys.ts';
import { buildApi } from '../src/build-api.ts';

/**
 * The crew page in a real browser (Debian's chromium, driven by
 * playwright-core) against the real API on a real socket: a crew member signs
 * in with a crew key, acknowledges a leak alert, resolves it, and the API then
 * shows both actions in the alert's audit history under that key's identity.
 * The screenshots stay in api/test/artifacts/ (ignored by git) for a person to look at.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

describe('/crew in headless Chromium', () => {
  let store: SqliteStore;
  let app: FastifyInstance;
  let browser: Browser;
  let base: string;

  beforeAll(async () => {
    store = new SqliteStore({ path: ':memory:' });
    await store.upsertDevices([{ id: 'S-0101', kind: 'sensor', district: 'naka', lat: 34.3853, lon: 132.4553, pipeMaterial: 'ductile_iron', site: 'near_pump', pipeId: 'P-0101', chainageM: 230.4 }]);
    await store.commitAlertChanges({
      actor: 'detector',
      changes: [{ op: 'raise', kind: 'leak', sourceKind: 'sensor', sourceId: 'S-0101', atMs: Date.now() - 2 * 3_600_000, score: 0.91 }],
      states: [],
    });
    app = await buildApi({ store, registry: new Registry(), log: pino({ level: 'silent' }) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    await mkdir(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await store?.close();
  });

  it('a crew member acknowledges and resolves a leak alert; the audit names their key', async () => {
    const crew = await issueApiKey(store, { role: 'crew', name: 'crew-7-phone', by: 'test' });
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));

    await page.goto(`${base}/crew`);
    await page.fill('#key', crew.key);
    await page.click('#sign-in button[type=submit]');
    const card = page.locator('li.alert', { hasText: 'S-0101' });
    await card.waitFor();
    expect(await card.locator('.state').textContent()).toBe('open');
    expect(await card.locator('.where').textContent()).toBe('naka · ductile iron main P-0101 · 230 m along it · near a pump station · 34.38530, 132.45530');
    await page.screenshot({ path: `${ARTIFACTS}crew-1-open.png`, fullPage: true });

    await card.locator('button.ack').click();
    await page.locator('#message', { hasText: 'acknowledged' }).waitFor();
    await page.locator('li.alert[data-state=acknowledged]').waitFor();

    await card.locator('select[name=resolution]').selectOption('repaired');
    await card.locator('input[name=note]').fill('joint replaced at the valve');
    await card.locator('form.resolve button[type=submit]').click();
    await page.locator('#message', { hasText: 'resolved' }).waitFor();
    await page.locator('#empty').waitFor({ state: 'visible' });
    await page.screenshot({ path: `${ARTIFACTS}crew-2-resolved.png`, fullPage: true });
    expect(errors).toEqual([]);

    // Read the result back from the API, as an operator would.
    const operator = await issueApiKey(store, { role: 'operator', name: 'ops-desk', by: 'test' });
    const [alert] = await store.listAlerts({ sourceId: 'S-0101', limit: 1 });
    const res = await fetch(`${base}/v1/alerts/${alert!.id}`, { headers: { authorization: `Bearer ${operator.key}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { state: string; resolution: string; history: { action: string; actor: string; details: { note?: string } }[] };
    expect(body.state).toBe('resolved');
    expect(body.resolution).toBe('repaired');
    const byCrew = body.history.filter((e) => e.actor === `user:${keyIdentity(crew.record)}`).map((e) => e.action);
    expect(byCrew).toEqual(['acknowledged', 'resolved']);
    expect(body.history.find((e) => e.action === 'resolved')?.details.note).toBe('joint replaced at the valve');
  }, 60_000);

  it('shows a correlated leak where to dig and each peak in its own unit', async () => {
    await store.upsertDevices([{ id: 'S-0201', kind: 'sensor', district: 'minami', lat: 34.37, lon: 132.47, pipeMaterial: 'steel', pipeId: 'P-7', chainageM: 40 }]);
    await store.commitAlertChanges({
      actor: 'detector',
      changes: [
        { op: 'raise', kind: 'correlated_leak', sourceKind: 'sensor', sourceId: 'S-0201', atMs: Date.now() - 3_600_000, score: 41.26, details: { partnerId: 'S-0202', fromFirstM: 62.4, withinM: 2.1, threshold: 9.95, scoreUnit: 'GCC-PHAT peak over mean' } },
        { op: 'raise', kind: 'continuous_flow', sourceKind: 'meter', sourceId: 'M-000301', atMs: Date.now() - 3_600_000, score: 18, details: { scoreUnit: 'L/h, smallest hourly flow of the window' } },
      ],
      states: [],
    });
    const crew = await issueApiKey(store, { role: 'crew', name: 'crew-9-phone', by: 'test' });
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${base}/crew`);
    await page.fill('#key', crew.key);
    await page.click('#sign-in button[type=submit]');
    const pair = page.locator('li.alert', { hasText: 'S-0201' });
    await pair.waitFor();
    expect(await pair.locator('.kind').textContent()).toBe('Leak between two sensors');
    expect(await pair.locator('.where').textContent()).toBe('62.4 m from S-0201 towards S-0202 (± 2.1 m) · minami · steel main P-7 · 40 m along it · 34.37000, 132.47000');
    expect(await pair.locator('.score').textContent()).toBe('peak 41.3 × the mean (threshold 9.95)');
    const meter = page.locator('li.alert', { hasText: 'M-000301' });
    expect(await meter.locator('.score').textContent()).toBe('18 L/h');
    await page.screenshot({ path: `${ARTIFACTS}crew-3-pair.png`, fullPage: true });
  }, 30_000);

  it('a revoked key is sent back to sign in with a reason', async () => {
    const crew = await issueApiKey(store, { role: 'crew', name: 'crew-8-phone', by: 'test' });
    await store.revokeApiKey(crew.record.id, 'test', Date.now());
    const page = await browser.newPage();
    await page.goto(`${base}/crew`);
    await page.fill('#key', crew.key);
    await page.click('#sign-in button[type=submit]');
    await page.locator('#sign-in .refused', { hasText: 'refused' }).waitFor();
    expect(await page.locator('#board').isHidden()).toBe(true);
  }, 30_000);
});
