/**
 * What the page does with a refusal the server sends. The codes are the server's own, from
 * src/collab/closeReasons.ts (browser-safe: it imports nothing).
 */
import { codeOf, FINAL_UPDATE_REFUSALS, REAUTHENTICATE_REFUSALS, TRANSIENT_REFUSALS } from '../src/collab/closeReasons.ts';

/** The server will never store this content: the page must be reloaded. */
export function isUpdateRefusal(reason: string): boolean {
  return FINAL_UPDATE_REFUSALS.includes(codeOf(reason) ?? '');
}

/**
 * The server could not check access, read the scene or prepare it, because its database was
 * unavailable for a moment: worth asking again after a short wait.
 */
export function isTransientRefusal(reason: string): boolean {
  return TRANSIENT_REFUSALS.includes(codeOf(reason) ?? '');
}

/** The connection ended because its token expired or the writer's role changed: connect again with a fresh token. */
export function isReauthenticateRefusal(reason: string): boolean {
  return REAUTHENTICATE_REFUSALS.includes(codeOf(reason) ?? '');
}
