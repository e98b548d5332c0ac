import { decodeJwt } from 'jose';

/**
 * When the page sends its provider a fresh token: a little ahead of the server, which asks for one
 * `AUTH_TOKEN_REFRESH_LEAD_MS` (60 s by default, at most half the token's life) before `exp`, so
 * that an open connection normally never has to be asked, and never runs out.
 */
const LEAD_MS = 120_000;
const LEAD_FRACTION = 0.6;

/** The token's `exp` in milliseconds, or null when it is not a JWT with one (the server decides then). */
export function tokenExpiry(token: string): number | null {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** Milliseconds from `now` until a fresh token should be sent for a token that expires at `expiresAt`. */
export function refreshDelay(now: number, expiresAt: number): number {
  const remaining = expiresAt - now;
  return Math.max(0, remaining - Math.min(LEAD_MS, remaining * LEAD_FRACTION));
}
