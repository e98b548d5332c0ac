import * as Y from 'yjs';
import { hasMissingDependencies, replayUpdates } from '../log/replay.ts';
import { newestRow, type StoredUpdate } from '../log/rows.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import { yDocToRestBlocks, type CanonicalRestBlock } from '../screenplay/index.ts';

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

/** Turns a replayed Yjs state into REST blocks; throws `ScreenplayConversionError` when it cannot do so losslessly. */
export function blocksFromState(state: Uint8Array): CanonicalRestBlock[] {
  const doc = new Y.Doc();
  try {
    Y.applyUpdate(doc, state);
    return yDocToRestBlocks(doc);
  } finally {
    doc.destroy();
  }
}

/** Replays the scene's whole live log; null when the scene has no stored update. */
export async function deriveFromLog(log: SceneLog, sceneId: string): Promise<DerivedScene | null> {
  // The head first: see `SceneLog.head` for why the claim `max(head, newest row)` then holds.
  const head = await log.head(sceneId);
  const rows = await log.load(sceneId);
  if (rows.length === 0) return null;
  const replay = replayUpdates(rows);
  const newest = newestRow(rows);
  return {
    blocks: blocksFromState(replay.state),
    seq: maxSeq(head, newest.seq),
    updateCount: rows.reduce((sum, row) => sum + row.compactedCount, 0),
    latestVersionId: newest.versionId,
    lastModifiedAt: lastEditAt(rows),
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
  window = LIVE_CHECK_WINDOW,
): Promise<DerivedScene | null> {
  // Snapshot and content in one synchronous step: they describe the same state.
  if (hasMissingDependencies(doc)) return null;
  const snapshot = Y.snapshot(doc);
  const blocks = yDocToRestBlocks(doc);
  const rows = await log.loadNewest(sceneId, window);
  const contained = rows.map((row) => Y.snapshotContainsUpdate(snapshot, row.update));
  const newestContained = liveDocumentPosition(contained);
  if (newestContained === null) return null;
  const newest = rows[newestContained]!;
  const counts = await log.counts(sceneId);
  return {
    blocks,
    seq: newest.seq,
    // Rows committed after the document was read are not in it.
    updateCount: counts.updates - newestContained,
    latestVersionId: newest.versionId,
    lastModifiedAt: counts.lastAt ?? new Date(),
    hasGap: false,
    undecodable: 0,
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

export async function deriveAt(log: SceneLog, sceneId: string, at: Date): Promise<HistoricScene> {
  const past = await log.history.stateAt(sceneId, at);
  return {
    blocks: past.state === null ? [] : blocksFromState(past.state),
    seq: past.seq,
    updateCount: past.updateCount,
    complete: past.complete,
    hasGap: past.hasGap,
  };
}

/** The newest edit: a compacted row's time is when compaction ran, so originals win when present. */
function lastEditAt(rows: readonly StoredUpdate[]): Date {
  const originals = rows.filter((row) => !row.isCompacted);
  const candidates = originals.length > 0 ? originals : rows;
  return candidates.reduce((latest, row) => (row.createdAt > latest ? row.createdAt : latest), candidates[0]!.createdAt);
}

function maxSeq(head: bigint | null, newest: bigint): bigint {
  return head !== null && head > newest ? head : newest;
}
