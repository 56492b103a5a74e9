import type { FastifyPluginAsync } from 'fastify';
import type { DeviceRecord, Store, StoredRead } from '@suido/ingest';
import { METER_FLAGS } from '@suido/ingest';
import Type from 'typebox';
import { ApiError } from '../errors.ts';
import { IsoInstant, iso, parseInstant } from '../time-params.ts';

const DAY_MS = 86_400_000;
const MAX_RANGE_MS = 400 * DAY_MS;

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const Read = Type.Object({
  ts: Type.String({ description: 'ISO 8601, UTC: the instant the register was read' }),
  registerL: Type.Integer({ description: 'cumulative register, litres' }),
  flags: Type.Array(Type.Enum(METER_FLAGS)),
});

const Meter = Type.Object({
  id: Type.String(),
  district: Nullable(Type.String()),
  lat: Nullable(Type.Number()),
  lon: Nullable(Type.Number()),
  firstSeen: Nullable(Type.String()),
  lastSeen: Nullable(Type.String()),
  batteryPct: Nullable(Type.Number()),
  firmware: Nullable(Type.String()),
});

const MeterDetail = Type.Object({ ...Meter.properties, latestRead: Nullable(Read) });

const MeterIdParams = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }) });

function toMeter(d: DeviceRecord) {
  return {
    id: d.id,
    district: d.district,
    lat: d.lat,
    lon: d.lon,
    firstSeen: d.firstSeenMs === null ? null : iso(d.firstSeenMs),
    lastSeen: d.lastSeenMs === null ? null : iso(d.lastSeenMs),
    batteryPct: d.lastStatus?.batteryPct ?? null,
    firmware: d.lastStatus?.firmware ?? null,
  };
}

const toRead = (r: StoredRead) => ({ ts: iso(r.ts), registerL: r.registerL, flags: [...r.flags] });

/** Meters and their reads: what billing and operators look up one meter at a time. */
export const meterRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  async function meterOr404(id: string): Promise<DeviceRecord> {
    const device = await store.getDevice(id);
    if (!device || device.kind !== 'meter') throw new ApiError('METER_NOT_FOUND', `no meter '${id}'`);
    return device;
  }

  app.get(
    '/v1/meters',
    {
      config: { roles: ['billing', 'operator'] },
      schema: {
        summary: 'List meters in id order, a page at a time',
        querystring: Type.Object({
          district: Type.Optional(Type.String({ maxLength: 100 })),
          after: Type.Optional(Type.String({ maxLength: 64, description: 'cursor: the last id of the previous page' })),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        }),
        response: { 200: Type.Object({ items: Type.Array(Meter), next: Nullable(Type.String()) }) },
      },
    },
    async (request) => {
      const { district, after, limit } = request.query as { district?: string; after?: string; limit: number };
      const devices = await store.listDevices({ kind: 'meter', district, afterId: after, limit });
      return { items: devices.map(toMeter), next: devices.length === limit ? devices[devices.length - 1]!.id : null };
    },
  );

  app.get(
    '/v1/meters/:id',
    {
      // Crews too: a meter alert points at a meter, and this is where it is.
      config: { roles: ['billing', 'operator', 'crew'] },
      schema: {
        summary: 'One meter: registry data, last status and latest read',
        params: MeterIdParams,
        response: { 200: MeterDetail },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const device = await meterOr404(id);
      const latest = await store.latestRead(id);
      return { ...toMeter(device), latestRead: latest ? toRead(latest) : null };
    },
  );

  app.get(
    '/v1/meters/:id/reads',
    {
      // Not crews: a household's hourly use is billing data.
      config: { roles: ['billing', 'operator'] },
      schema: {
        summary: 'Interval reads of one meter with from <= ts < to, oldest first',
        params: MeterIdParams,
        querystring: Type.Object({
          from: Type.Optional({ ...IsoInstant, description: 'inclusive; default: 7 days before `to`' }),
          to: Type.Optional({ ...IsoInstant, description: 'exclusive; default: now' }),
          limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
        }),
        response: {
          200: Type.Object({
            meterId: Type.String(),
            from: Type.String(),
            to: Type.String(),
            reads: Type.Array(Read),
            next: Nullable(Type.String({ description: 'pass as `from` to get the next page; null on the last page' })),
          }),
        },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const q = request.query as { from?: string; to?: string; limit: number };
      const to = q.to === undefined ? Date.now() : parseInstant('to', q.to);
      const from = q.from === undefined ? to - 7 * DAY_MS : parseInstant('from', q.from);
      if (from >= to) throw new ApiError('RANGE_INVALID', '`from` must be before `to`');
      if (to - from > MAX_RANGE_MS) throw new ApiError('RANGE_INVALID', 'a range may span at most 400 days; page with `next`');
      await meterOr404(id);
      const reads = await store.readsInRange(id, from, to, q.limit);
      const last = reads[reads.length - 1];
      return {
        meterId: id,
        from: iso(from),
        to: iso(to),
        reads: reads.map(toRead),
        next: reads.length === q.limit && last ? iso(last.ts + 1) : null,
      };
    },
  );
};
