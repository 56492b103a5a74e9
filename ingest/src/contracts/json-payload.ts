import { accept, reject, type Decoded, type RejectionCode } from './rejection.ts';

/** Size check then UTF-8 JSON parse: the first two steps of every JSON device payload. */
export function parseJsonPayload(
  payload: Uint8Array,
  maxBytes: number,
  notJson: Extract<RejectionCode, `${string}_JSON_INVALID`>,
): Decoded<unknown> {
  if (payload.byteLength > maxBytes) return reject('PAYLOAD_TOO_LARGE', `payload of ${payload.byteLength} bytes exceeds ${maxBytes}`);
  try {
    return accept(JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')) as unknown);
  } catch (err) {
    return reject(notJson, `not JSON: ${(err as Error).message}`);
  }
}
