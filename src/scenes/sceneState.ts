import * as Y from 'yjs';
import { hasMissingDependencies } from '../log/replay.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import type { CanonicalRestBlock } from '../screenplay/index.ts';
import { inlineYjsWork, type YjsWork } from '../workers/pool.ts';

/**
 * A scene's content as the Yjs log says it is. `seq` names the state exactly: `blocks` holds every
 * update up to `seq` and none after it (quarantined rows, which no load includes, aside), so a
 * client may send it back as the base of a PATCH.
 */
export interface DerivedScene {
  blocks: CanonicalRestBlock[];
  seq: bigint;
  /** Updates the live rows stand for (a compacted row counts every update it merged). */
  updateCount: number;
  /** The row with the highest sequence number that was read. */
  latestVersionId: string;
  /** When the newest edit was committed. */
  lastModifiedAt: Date;
  /** The log has a gap (updates waiting for missing dependencies); some content may not show. */
  hasGap: boolean;
  /** Rows that failed to decode and were left out (the persistence extension quarantines them on load). */
  undecodable: number;
}

/**
 * Replays the scene's whole live log; null when the scene has no stored update. The replay and the
 * conversion run where `work` runs them (a worker pool in the server); the reads stay here.
 */
export async function deriveFromLog(log: SceneLog, sceneId: string, work: Pick<YjsWork, 'derive'> = inlineYjsWork): Promise<DerivedScene | null> {
  // The head first: see `SceneLog.head` for why the claim `max(head, newest row)` then holds.
  const head = await log.head(sceneId);
  // Packed: a long log costs this thread one buffer, not a parsed row per update.
  const live = await log.loadPacked(sceneId);
  if (live.latest === null) return null;
  const replay = await work.derive(live.packed);
  return {
    blocks: replay.blocks,
    seq: maxSeq(head, live.latest.seq),
    updateCount: live.updates,
    latestVersionId: live.latest.versionId,
    lastModifiedAt: live.lastEditAt!,
    hasGap: replay.hasGap,
    undecodable: replay.undecodable.length,
  };
}

/**
 * How many of the newest rows a live document is checked against. A committed update reaches the
 * in-memory document a moment later (the client's `beforeSync` resumes after the commit; another
 * instance's update comes through Redis), so a document can briefly lack the last few rows, and
 * rows committed after the document was read are newer than it. Both are always among the newest;
 * a window keeps the cost independent of the log's length.
 */
export const LIVE_CHECK_WINDOW = 256;

/**
 * Reads a scene from a document loaded on this instance instead of replaying its log, when the
 * document is provably the log's state at some sequence number S: the document is read first,
 * then the newest rows; rows the document does not contain may only be the newest ones (committed
 * after the read), and every row below them must be contained. Everything in a live document was
 * committed before it was applied (client updates in `beforeSync`, server changes by appending
 * first), so the document holds exactly the rows up to S: `seq` is exact, as it is for a replay,
 * and a client may use it as the base of a later PATCH. Returns null when that cannot be shown (a
 * lagging document, a gap, or no row in the window is contained), and the caller replays.
 */
export async function deriveFromLiveDocument(
  log: SceneLog,
  sceneId: string,
  doc: Y.Doc,
  work: Pick<YjsWork, 'blocksFromState'> = inlineYjsWork,
  window = LIVE_CHECK_WINDOW,
): Promise<DerivedScene | null> {
  // The state and its proof are taken in one synchronous step; the conversion, which costs as much
  // as the document is long, runs where `work` runs it (the worker pool in the server), not on the
  // thread that serves the editors.
  const live = await committedLiveState(log, sceneId, doc, window);
  if (live === null) return null;
  const { state, ...position } = live;
  return { ...position, blocks: await work.blocksFromState(state), hasGap: false, undecodable: 0 };
}

/** A live document's state, encoded, and the log position it provably is (see `deriveFromLiveDocument`). */
export interface CommittedLiveState {
  /** `Y.encodeStateAsUpdate` of the document, taken in the same synchronous step as the proof's snapshot. */
  state: Uint8Array;
  seq: bigint;
  updateCount: number;
  latestVersionId: string;
  lastModifiedAt: Date;
}

/**
 * `deriveFromLiveDocument` without the conversion: the document's state, encoded on this thread
 * (cheap), and the sequence number it is exactly, so that the conversion can run elsewhere (the
 * REST copy follower hands it to the worker pool). Null under the same conditions.
 */
export async function committedLiveState(
  log: SceneLog,
  sceneId: string,
  doc: Y.Doc,
  window = LIVE_CHECK_WINDOW,
): Promise<CommittedLiveState | null> {
  if (hasMissingDependencies(doc)) return null;
  const snapshot = Y.snapshot(doc);
  const state = Y.encodeStateAsUpdate(doc);
  const position = await committedPosition(log, sceneId, snapshot, window);
  return position === null ? null : { ...position, state };
}

/** The proof shared by both: read the newest rows after the snapshot, find the one it is exactly. */
async function committedPosition(
  log: SceneLog,
  sceneId: string,
  snapshot: Y.Snapshot,
  window: number,
): Promise<Pick<DerivedScene, 'seq' | 'updateCount' | 'latestVersionId' | 'lastModifiedAt'> | null> {
  const rows = await log.loadNewest(sceneId, window);
  const contained = rows.map((row) => Y.snapshotContainsUpdate(snapshot, row.update));
  const newestContained = liveDocumentPosition(contained);
  if (newestContained === null) return null;
  const newest = rows[newestContained]!;
  const counts = await log.counts(sceneId);
  return {
    seq: newest.seq,
    // Rows committed after the document was read are not in it.
    updateCount: counts.updates - newestContained,
    latestVersionId: newest.versionId,
    lastModifiedAt: counts.lastAt ?? new Date(),
  };
}

/**
 * Given, newest first, whether each row is contained in the document: the index of the newest row
 * the document holds, when the document is exactly the rows from there down (some newest rows
 * missing, then all contained); null otherwise.
 */
export function liveDocumentPosition(containedNewestFirst: readonly boolean[]): number | null {
  const first = containedNewestFirst.indexOf(true);
  if (first === -1) return null;
  for (let i = first; i < containedNewestFirst.length; i += 1) if (!containedNewestFirst[i]) return null;
  return first;
}

/** Replays the retained rows committed up to `at`: the scene as it was then. */
export interface HistoricScene {
  blocks: CanonicalRestBlock[];
  /** The newest update included, or null when the scene had no update yet at `at`. */
  seq: bigint | null;
  updateCount: number;
  /** False when retention already deleted originals the state at `at` depends on. */
  complete: boolean;
  hasGap: boolean;
}

/** History replays through `log.replayer`, and the conversion runs where `work` runs it. */
export async function deriveAt(log: SceneLog, sceneId: string, at: Date, work: Pick<YjsWork, 'blocksFromState'> = inlineYjsWork): Promise<HistoricScene> {
  const past = await log.history.stateAt(sceneId, at);
  return {
    blocks: past.state === null ? [] : await work.blocksFromState(past.state),
    seq: past.seq,
    updateCount: past.updateCount,
    complete: past.complete,
    hasGap: past.hasGap,
  };
}

function maxSeq(head: bigint | null, newest: bigint): bigint {
  return head !== null && head > newest ? head : newest;
}
