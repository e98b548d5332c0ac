import * as Y from 'yjs';
import { inspectUpdate, type StructRanges, type UpdateMeta } from '../guards/updateValidation.ts';

/**
 * Decides whether storing `update` would add anything to `doc`.
 *
 * A client that reconnects sends its whole delete set and often structs the server already has;
 * storing those again would grow the log on every reconnect. Structs are checked against the
 * clocks the document has; deletions against the document's structs in the deleted ranges only,
 * never against a snapshot of the whole document, whose cost grows with the scene and would be
 * paid for every keystroke that deletes. `meta` is the update's, when the caller has read it already
 * (`inspectUpdate`). Throws for an update that does not decode (the guards refuse those first).
 */
export function updateAddsNothing(doc: Y.Doc, update: Uint8Array, meta: UpdateMeta = updateMetaOf(update)): boolean {
  for (const [client, ranges] of meta.structs) {
    if (ranges[ranges.length - 1]![1] > Y.getState(doc.store, client)) return false;
  }
  for (const [client, ranges] of meta.deletes) {
    for (const [clock, length] of ranges) if (!rangeDeleted(doc, client, clock, length)) return false;
  }
  return true;
}

/**
 * `update` without the structs `doc` already holds; `update` itself, with its ranges, when it
 * holds none of them (the usual case, decided from `meta` alone).
 *
 * A reconnecting editor's sync step answers the state the server had when it asked, so it can
 * carry structs that reached the document in the meantime (another editor's, from this instance
 * or through Redis); stored whole, those would sit in two rows. Whatever a live document holds is
 * in the log already (every change is stored before it is applied), so nothing cut here is lost.
 * The delete set is kept whole. The log arbitrates again when it appends (`SceneLog.append`), for
 * what this instance has not seen; cutting here keeps that to its slow path's rare case.
 */
export function withoutContainedStructs(doc: Y.Doc, update: Uint8Array, meta: UpdateMeta): { update: Uint8Array; structs: StructRanges | undefined } {
  for (const [client, ranges] of meta.structs) {
    if (ranges[0]![0] < Y.getState(doc.store, client)) {
      // The ranges of the cut update are read by the log (`structs` undefined): this path is rare.
      return { update: Y.diffUpdate(update, Y.encodeStateVector(doc)), structs: undefined };
    }
  }
  return { update, structs: meta.structs };
}

/** The meta of an update nobody has read yet. Throws for an update that does not decode (the guards refuse those first). */
export function updateMetaOf(update: Uint8Array): UpdateMeta {
  const inspection = inspectUpdate(update, Number.POSITIVE_INFINITY);
  if (inspection.problem) throw new Error(`not a sound Yjs update: ${inspection.problem.detail}`);
  return inspection.meta;
}

/**
 * Whether every struct of `client` in `[clock, clock + length)` exists in `doc` and is deleted.
 * `Y.getState` and `Y.findIndexSS` are exported by Yjs; `store.clients` and `deleted` are typed
 * members it documents no wrapper for. The public alternative, `Y.snapshot` +
 * `Y.snapshotContainsUpdate`, encodes the whole store's delete set on every deleting keystroke;
 * the benchmark has no figure that isolates the difference, so this is kept for its cost bound
 * (proportional to the deleted range, not the scene), held to the snapshot's answer by a property
 * test (`test/log/containment.test.ts`).
 */
function rangeDeleted(doc: Y.Doc, client: number, clock: number, length: number): boolean {
  const end = clock + length;
  const structs = doc.store.clients.get(client);
  if (!structs || end > Y.getState(doc.store, client)) return false;
  for (let i = Y.findIndexSS(structs, clock); i < structs.length && structs[i]!.id.clock < end; i += 1) {
    if (!structs[i]!.deleted) return false;
  }
  return true;
}

/** The encoding of "no structs, no deletes": two zero varints. */
export function isEmptyUpdate(update: Uint8Array): boolean {
  return update.byteLength === 0 || (update.byteLength === 2 && update[0] === 0 && update[1] === 0);
}
