import type { AccessDecision } from './access.ts';
import { refuse, type AuthRefusal } from './errors.ts';

/** What an open connection's token needs at a given instant. */
export type TokenState = 'valid' | 'refresh-due' | 'expired';

export interface TokenTimes {
  /** The token's `exp`, in milliseconds. */
  expiresAt: number;
  /** When the connection started running on this token (it connected, or sent it with onTokenSync). */
  since: number;
  /** The provider was already asked for a fresh token while it runs on this one. */
  refreshRequested: boolean;
}

/**
 * Where a token stands at `now`. A fresh token is asked for `leadMs` before `exp`, but never before
 * half of the token's remaining life at the time it took effect, so a short-lived token is not
 * asked to refresh the moment it arrives; at `exp` the connection may no longer write.
 */
export function tokenState(now: number, token: TokenTimes, leadMs: number): TokenState {
  if (now >= token.expiresAt) return 'expired';
  const lead = Math.min(leadMs, (token.expiresAt - token.since) / 2);
  if (!token.refreshRequested && now >= token.expiresAt - lead) return 'refresh-due';
  return 'valid';
}

/**
 * What to do with an open connection whose access was decided again: keep it, or end it with the
 * refusal its provider is told. A connection whose role changed is ended rather than changed in
 * place: it connects again and is served with the new role (Hocuspocus decides read-only once, when
 * a document connection is set up, and the provider learns its scope only then).
 */
export function accessVerdict(decision: AccessDecision, readOnly: boolean): AuthRefusal | null {
  if (!decision.granted) return decision.refusal;
  if (decision.grant.canWrite === !readOnly) return null;
  return decision.grant.canWrite
    ? refuse('access-changed', 'you may now edit this scene; connect again to write')
    : refuse('access-changed', 'you are now a viewer of this script; connect again to read');
}

/** The refusal for a connection whose token expired while it was open. */
export function tokenExpired(expiresAt: number): AuthRefusal {
  return refuse('token-expired', `the token expired at ${new Date(expiresAt).toISOString()}; send a fresh token and connect again`);
}
