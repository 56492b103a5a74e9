import type { FastifyPluginAsync } from 'fastify';
import { REJECTION_CODES, type RejectionCode, type Store } from '@suido/ingest';
import Type from 'typebox';
import { IsoInstant, iso, parseInstant } from '../time-params.ts';

const DeadLetter = Type.Object({
  id: Type.Integer(),
  receivedAt: Type.String(),
  clientId: Type.Union([Type.String(), Type.Null()]),
  topic: Type.String(),
  code: Type.String(),
  message: Type.String(),
  payloadBytes: Type.Integer({ description: 'size of the payload as received' }),
  payloadBase64: Type.String({ description: 'the payload, cut to INGEST_DEAD_LETTER_MAX_BYTES' }),
  truncated: Type.Boolean(),
});

/** Rejected device messages, kept for inspection with their reason. */
export const deadLetterRoutes: FastifyPluginAsync<{ store: Store }> = async (app, { store }) => {
  app.get(
    '/v1/dead-letters',
    {
      config: { roles: ['operator'] },
      schema: {
        summary: 'Device messages that were rejected, oldest first, with their rejection code',
        querystring: Type.Object({
          code: Type.Optional(Type.Enum(REJECTION_CODES)),
          since: Type.Optional(IsoInstant),
          after: Type.Optional(Type.Integer({ minimum: 0, description: 'cursor: the last id of the previous page' })),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
        }),
        response: { 200: Type.Object({ items: Type.Array(DeadLetter), next: Type.Union([Type.Integer(), Type.Null()]) }) },
      },
    },
    async (request) => {
      const q = request.query as { code?: RejectionCode; since?: string; after?: number; limit: number };
      const letters = await store.deadLetters({
        code: q.code,
        sinceMs: q.since === undefined ? undefined : parseInstant('since', q.since),
        afterId: q.after,
        limit: q.limit,
      });
      return {
        items: letters.map((l) => ({
          id: l.id,
          receivedAt: iso(l.receivedAtMs),
          clientId: l.clientId,
          topic: l.topic,
          code: l.code,
          message: l.message,
          payloadBytes: l.payloadBytes,
          payloadBase64: Buffer.from(l.payload).toString('base64'),
          truncated: l.payload.byteLength < l.payloadBytes,
        })),
        next: letters.length === q.limit ? letters[letters.length - 1]!.id : null,
      };
    },
  );
};
