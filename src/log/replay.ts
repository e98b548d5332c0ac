import * as Y from 'yjs';
import { quicklySound } from '../guards/quickCheck.ts';
import { updateProblem } from '../guards/updateValidation.ts';
import { unpackUpdates } from './packed.ts';
import type { StoredUpdate } from './rows.ts';

export interface ReplayResult {
  /** The rebuilt document's state, ready to apply to a live document. */
  state: Uint8Array;
  applied: number;
  /** Rows that failed to decode; the caller quarantines them. */
  undecodable: Array<{ versionId: string; seq: bigint; reason: string }>;
  /** True when updates are still waiting for missing dependencies: a gap in the log. */
  hasGap: boolean;
}

/** `replayUpdateList`'s result: undecodable updates named by their index in the list. */
export interface ListReplay {
  state: Uint8Array;
  applied: number;
  undecodable: Array<{ index: number; reason: string }>;
  hasGap: boolean;
}

/**
 * Where replays run. The log replays through one of these (`SceneLog`'s history, compaction), so
 * the composition root can move the CPU work off the thread that serves editors: src/workers runs
 * the same `replayUpdateList` in a worker thread; `replayOnThisThread` runs it here.
 */
export interface Replayer {
  replay(rows: readonly StoredUpdate[]): Promise<ReplayResult>;
  /** `replayUpdateList` of packed updates (src/log/packed.ts), as a packed read returns them. */
  replayPacked(packed: Uint8Array): Promise<ListReplay>;
}

export const replayOnThisThread: Replayer = {
  replay: async (rows) => replayUpdates(rows),
  replayPacked: async (packed) => replayUpdateList(unpackUpdates(packed)),
};

/** Rows per Yjs transaction: one transaction is much faster for thousands of rows, slower for 100k. */
const CHUNK = 2000;

/** Rebuilds a scene from its log rows in a scratch document (`replayUpdateList`). */
export function replayUpdates(rows: readonly StoredUpdate[]): ReplayResult {
  return withRowsNamed(rows, replayUpdateList(rows.map((row) => row.update)));
}

/** Names the undecodable updates of a list replay by the rows they came from. */
export function withRowsNamed(rows: readonly StoredUpdate[], replay: ListReplay): ReplayResult {
  return {
    state: replay.state,
    applied: replay.applied,
    undecodable: replay.undecodable.map(({ index, reason }) => ({ versionId: rows[index]!.versionId, seq: rows[index]!.seq, reason })),
    hasGap: replay.hasGap,
  };
}

/**
 * Rebuilds a scene from its updates, in log order, in a scratch document. The fast path applies
 * every update in chunked transactions. If any update throws, it starts over and checks each one
 * before applying it, so a corrupt row can neither stop the load nor leave half of itself behind.
 */
export function replayUpdateList(updates: readonly Uint8Array[]): ListReplay {
  const fast = tryFastReplay(updates);
  if (fast) return fast;

  const doc = new Y.Doc({ gc: true });
  const undecodable: ListReplay['undecodable'] = [];
  let applied = 0;
  try {
    for (const [index, update] of updates.entries()) {
      // The same check the guards run before storing a client's update: an update that passes it
      // applies whole, so a corrupt row cannot leave half of itself in the document.
      const problem = updateProblem(update, Number.POSITIVE_INFINITY);
      if (problem) {
        undecodable.push({ index, reason: `${problem.kind}: ${problem.detail}` });
        continue;
      }
      try {
        Y.applyUpdate(doc, update);
        applied += 1;
      } catch (error) {
        undecodable.push({ index, reason: describe(error) });
      }
    }
    return { state: Y.encodeStateAsUpdate(doc), applied, undecodable, hasGap: hasMissingDependencies(doc) };
  } finally {
    doc.destroy();
  }
}

function tryFastReplay(updates: readonly Uint8Array[]): ListReplay | null {
  const doc = new Y.Doc({ gc: true });
  try {
    for (let start = 0; start < updates.length; start += CHUNK) {
      applyAll(doc, updates.slice(start, start + CHUNK));
    }
    return { state: Y.encodeStateAsUpdate(doc), applied: updates.length, undecodable: [], hasGap: hasMissingDependencies(doc) };
  } catch {
    // Some update is corrupt; the slow path finds it.
    return null;
  } finally {
    doc.destroy();
  }
}

/**
 * Applies a scene's updates, in log order, to a live document in one transaction, so whatever
 * listens to the document's updates (Hocuspocus) sees and encodes one update rather than one per
 * row or chunk; for 10,000 typing updates that takes half the time of a scratch replay followed by
 * applying its state. Throws if an update does; `doc` then holds whatever was applied before it
 * and must be thrown away (a live one by refusing its load).
 */
export function applyAll(doc: Y.Doc, updates: readonly Uint8Array[]): void {
  doc.transact(() => {
    for (const update of updates) Y.applyUpdate(doc, update);
  });
}

/**
 * Whether every update from index `from` on passes the check the guards run before storing a
 * client's update. Updates that pass apply whole, so a load can apply them straight to the live
 * document. Most are vouched for by a walk over their bytes; the rest get the full check.
 */
export function allSound(updates: readonly Uint8Array[], from = 0): boolean {
  for (let i = from; i < updates.length; i += 1) {
    const update = updates[i]!;
    if (!quicklySound(update) && updateProblem(update, Number.POSITIVE_INFINITY) !== null) return false;
  }
  return true;
}

/**
 * Yjs keeps updates whose dependencies it has not seen as pending instead of failing. The pending
 * fields are typed members of `StructStore` and Yjs exports no function that asks this; it is a
 * correctness check (a gap is reported, never served as complete), so no benchmark figure is
 * claimed for it.
 */
export function hasMissingDependencies(doc: Y.Doc): boolean {
  return doc.store.pendingStructs !== null || doc.store.pendingDs !== null;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
