import type { DeviceRecord, Store } from '@suido/ingest';

const PAGE = 1000;

/** Every acoustic sensor of the registry, read page by page (the survey, the pair correlator). */
export async function registeredSensors(store: Pick<Store, 'listDevices'>): Promise<DeviceRecord[]> {
  const out: DeviceRecord[] = [];
  for (let afterId: string | undefined; ; ) {
    const page = await store.listDevices({ kind: 'sensor', afterId, limit: PAGE });
    out.push(...page);
    if (page.length < PAGE) return out;
    afterId = page[page.length - 1]!.id;
  }
}
