import * as Y from 'yjs';
import type { UpdateMeta } from '../guards/updateValidation.ts';

/**
 * Decides whether storing `update` would add anything to `doc`.
 *
 * A client that reconnects sends its whole delete set and often structs the server already has;
 * storing those again would grow the log on every reconnect. Structs are checked against the
 * clocks, which is cheap. Only an update without new structs (a deletion, or a resend) needs the
 * document's delete set, via a snapshot. `meta` is the update's, when the caller has read it already
 * (`inspectUpdate`).
 */
export function updateAddsNothing(doc: Y.Doc, update: Uint8Array, meta: UpdateMeta = Y.parseUpdateMeta(update)): boolean {
  for (const [client, to] of meta.to) {
    const from = meta.from.get(client) ?? 0;
    if (to <= from) continue;
    if (to > Y.getState(doc.store, client)) return false;
  }
  if (isEmptyUpdate(update)) return true;
  return Y.snapshotContainsUpdate(Y.snapshot(doc), update);
}

/** The encoding of "no structs, no deletes": two zero varints. */
export function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === 0 || (update.byteLength === 2 && update[0] === 0 && update[1] === 0);
}
