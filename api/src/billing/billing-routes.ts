import type { FastifyPluginAsync } from 'fastify';
import type { Store } from '@suido/ingest';
import Type from 'typebox';
import { ApiError } from '../errors.ts';
import { IsoInstant, iso, parseInstant } from '../time-params.ts';
import { registerAt, type RegisterRules } from './register-at.ts';

/** An extrapolation's rate is the meter's mean use since its oldest read in this span before the last one. */
const RATE_LOOKBACK_MS = 7 * 86_400_000;

const Answer = Type.Object({
  meterId: Type.String(),
  at: Type.String(),
  quality: Type.Union([Type.Literal('actual'), Type.Literal('estimated'), Type.Literal('missing')]),
  registerL: Type.Union([Type.Integer(), Type.Null()], { description: 'integer litres; null when missing' }),
  method: Type.Union([Type.Literal('interpolated'), Type.Literal('extrapolated'), Type.Null()]),
  basis: Type.Array(Type.Object({ ts: Type.String(), registerL: Type.Integer() }), { description: 'the actual reads the answer rests on' }),
  reason: Type.Union([Type.String(), Type.Null()], { description: 'why it is missing' }),
});

/** Billing reads, one meter at a time (the fleet-wide export comes with issue 4). */
export const billingRoutes: FastifyPluginAsync<{ store: Store; rules: Omit<RegisterRules, 'extrapolate'> }> = async (app, { store, rules }) => {
  app.get(
    '/v1/meters/:id/register',
    {
      config: { roles: ['billing', 'operator'] },
      schema: {
        summary: 'The register at an instant: actual, estimated (interpolated; extrapolated only if asked) or missing',
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' }) }),
        querystring: Type.Object({
          at: IsoInstant,
          extrapolate: Type.Boolean({ default: false, description: 'estimate past the last read from the recent rate (flagged)' }),
        }),
        response: { 200: Answer },
      },
    },
    async (request) => {
      const { id } = request.params as { id: string };
      const q = request.query as { at: string; extrapolate: boolean };
      const at = parseInstant('at', q.at);
      const device = await store.getDevice(id);
      if (!device || device.kind !== 'meter') throw new ApiError('METER_NOT_FOUND', `no meter '${id}'`);
      const [before, after] = await Promise.all([store.readAtOrBefore(id, at), store.readAtOrAfter(id, at)]);
      const earlier = q.extrapolate && before ? await store.readAtOrAfter(id, before.ts - RATE_LOOKBACK_MS) : undefined;
      const e = registerAt(at, before, after, earlier, { ...rules, extrapolate: q.extrapolate });
      return {
        meterId: id,
        at: iso(at),
        quality: e.quality,
        registerL: e.registerL,
        method: e.method,
        basis: e.basis.map((r) => ({ ts: iso(r.ts), registerL: r.registerL })),
        reason: e.reason,
      };
    },
  );
};
