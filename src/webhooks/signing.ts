import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header a receiver checks: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>`. */
export const SIGNATURE_HEADER = 'X-Writersroom-Signature';
export const EVENT_ID_HEADER = 'X-Writersroom-Event-Id';

/**
 * Signs the raw body with the time, so a receiver can refuse a replayed old request (the time is
 * inside the HMAC) and verify the body it received byte for byte.
 */
export function signatureHeader(secret: string, rawBody: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${rawBody}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** What a receiver does (the README's example): true when the header signs `rawBody` with `secret`, within `toleranceSeconds`. */
export function verifySignature(secret: string, header: string | undefined, rawBody: string, options: { nowSeconds?: number; toleranceSeconds?: number } = {}): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  if (!match) return false;
  const t = Number(match[1]);
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signatureHeader(secret, rawBody, t).slice(`t=${t},v1=`.length), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[2]!, 'hex'));
}
