import * as Y from 'yjs';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { hasMissingDependencies, replayUpdates } from '../log/replay.ts';
import type { SceneLog, StoredUpdate } from '../log/sceneLog.ts';
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

/**
 * The highest sequence number ever handed out for the scene, or null when nothing was appended.
 *
 * Read BEFORE the rows: the head is bumped in the statement that inserts, so once it says N every
 * row up to N is committed, and a later read of the log sees all of them that still exist. That
 * lets a derivation claim `max(head, newest row)` even when the newest row was quarantined, so a
 * scene whose last update is in quarantine does not look permanently behind its snapshot.
 */
export async function readLogHead(db: PrismaClient, sceneId: string): Promise<bigint | null> {
  const rows = await db.$queryRaw<Array<{ last_seq: bigint }>>`
    SELECT last_seq FROM scene_log_heads WHERE scene_id = ${sceneId}::uuid`;
  return rows.length === 0 ? null : BigInt(rows[0]!.last_seq);
}

/** Replays the scene's whole live log; null when the scene has no stored update. */
export async function deriveFromLog(db: PrismaClient, log: SceneLog, sceneId: string): Promise<DerivedScene | null> {
  const head = await readLogHead(db, sceneId);
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

interface WindowRow {
  version_id: string;
  seq: bigint;
  yjs_update: Uint8Array;
}

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
  db: PrismaClient,
  log: SceneLog,
  sceneId: string,
  doc: Y.Doc,
  window = LIVE_CHECK_WINDOW,
): Promise<DerivedScene | null> {
  // Snapshot and content in one synchronous step: they describe the same state.
  if (hasMissingDependencies(doc)) return null;
  const snapshot = Y.snapshot(doc);
  const blocks = yDocToRestBlocks(doc);
  const rows = await db.$queryRaw<WindowRow[]>`
    SELECT version_id, seq, yjs_update FROM scene_versions
    WHERE scene_id = ${sceneId}::uuid AND compacted_by IS NULL
    ORDER BY seq DESC LIMIT ${window}::int`;
  const contained = rows.map((row) =>
    Y.snapshotContainsUpdate(snapshot, row.yjs_update instanceof Uint8Array ? row.yjs_update : new Uint8Array(row.yjs_update as ArrayBuffer)),
  );
  const newestContained = liveDocumentPosition(contained);
  if (newestContained === null) return null;
  const newest = rows[newestContained]!;
  const counts = await log.counts(sceneId);
  return {
    blocks,
    seq: BigInt(newest.seq),
    // Rows committed after the document was read are not in it.
    updateCount: counts.updates - newestContained,
    latestVersionId: newest.version_id,
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

/** Thrown when the log no longer holds what is needed to rebuild an older state. */
export class StateNotRetainedError extends Error {
  readonly code = 'STATE_NOT_RETAINED';
  constructor(
    readonly sceneId: string,
    readonly seq: bigint,
  ) {
    super(`The log of scene ${sceneId} no longer holds every update up to seq ${seq} (compacted, and the originals deleted by retention)`);
    this.name = 'StateNotRetainedError';
  }
}

/**
 * The scene's Yjs state after exactly the updates up to `seq`: the base a PATCH made against an
 * older read is applied to. Uses the live rows when the newest compacted row is at or below `seq`,
 * else the retained originals; throws `StateNotRetainedError` when retention deleted some of them.
 */
export async function stateAtSeq(db: PrismaClient, log: SceneLog, sceneId: string, seq: bigint): Promise<Uint8Array> {
  const live = await log.load(sceneId);
  const compacted = live.filter((row) => row.isCompacted);
  const newestCompacted = compacted.reduce<bigint | null>((max, row) => (max === null || row.seq > max ? row.seq : max), null);
  if (newestCompacted === null || newestCompacted <= seq) {
    return replayUpdates(live.filter((row) => row.seq <= seq)).state;
  }
  const originals = await db.$queryRaw<Array<{ version_id: string; seq: bigint; yjs_update: Uint8Array; created_at: Date }>>`
    SELECT version_id, seq, yjs_update, created_at FROM scene_versions
    WHERE scene_id = ${sceneId}::uuid AND NOT is_compacted AND seq <= ${seq}
    ORDER BY seq`;
  const quarantined = await db.$queryRaw<Array<{ seq: bigint }>>`
    SELECT seq FROM quarantined_updates WHERE scene_id = ${sceneId}::uuid AND seq <= ${seq}`;
  const rows: StoredUpdate[] = originals.map((row) => ({
    versionId: row.version_id,
    seq: BigInt(row.seq),
    update: row.yjs_update instanceof Uint8Array ? row.yjs_update : new Uint8Array(row.yjs_update as ArrayBuffer),
    isCompacted: false,
    compactedCount: 1,
    createdAt: row.created_at,
  }));
  const missing = missingSeqs(seq, new Set(rows.map((row) => row.seq)), new Set(quarantined.map((row) => BigInt(row.seq))));
  if (missing.length > 0) throw new StateNotRetainedError(sceneId, seq);
  return replayUpdates(rows).state;
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

export async function deriveAt(db: PrismaClient, log: SceneLog, sceneId: string, at: Date): Promise<HistoricScene> {
  const rows = await log.loadUntil(sceneId, at);
  const quarantined = await db.$queryRaw<Array<{ seq: bigint }>>`
    SELECT seq FROM quarantined_updates WHERE scene_id = ${sceneId}::uuid`;
  const quarantinedSeqs = new Set(quarantined.map((row) => BigInt(row.seq)));

  if (rows.length === 0) {
    // Nothing retained up to `at`: either the scene had no edit yet, or retention deleted the
    // beginning of its history. The earliest retained original tells them apart.
    const [first] = await db.$queryRaw<Array<{ seq: bigint | null }>>`
      SELECT min(seq) AS seq FROM scene_versions WHERE scene_id = ${sceneId}::uuid AND NOT is_compacted`;
    const firstSeq = first?.seq == null ? null : BigInt(first.seq);
    const beginningDeleted =
      firstSeq !== null ? missingSeqs(firstSeq - 1n, new Set(), quarantinedSeqs).length > 0 : await hasCompactedRow(db, sceneId, 1n);
    return { blocks: [], seq: null, updateCount: 0, complete: !beginningDeleted, hasGap: false };
  }

  const replay = replayUpdates(rows);
  const newest = newestRow(rows);
  // A compacted row at the start of the rows stands for every update up to its seq.
  const coveredThrough = rows.filter((row) => row.isCompacted).reduce((max, row) => (row.seq > max ? row.seq : max), 0n);
  const missing = missingSeqs(newest.seq, new Set(rows.map((row) => row.seq)), quarantinedSeqs, 16, coveredThrough);
  // A missing original is one that retention deleted after compaction (then a compacted row covers
  // it), or one committed after `at` by another instance that took its number first (the number
  // follows commit order, the timestamp the start of the transaction): only the first is a hole.
  const complete = missing.length === 0 || !(await hasCompactedRow(db, sceneId, missing[0]!));
  return {
    blocks: blocksFromState(replay.state),
    seq: newest.seq,
    updateCount: rows.length,
    complete,
    hasGap: replay.hasGap,
  };
}

async function hasCompactedRow(db: PrismaClient, sceneId: string, coveringSeq: bigint): Promise<boolean> {
  const rows = await db.$queryRaw<Array<{ one: number }>>`
    SELECT 1 AS one FROM scene_versions
    WHERE scene_id = ${sceneId}::uuid AND is_compacted AND seq >= ${coveringSeq} LIMIT 1`;
  return rows.length > 0;
}

/**
 * Sequence numbers in 1..upTo that are neither present nor known to be quarantined, ascending and
 * at most `limit` of them (the caller only needs the first).
 */
export function missingSeqs(
  upTo: bigint,
  present: ReadonlySet<bigint>,
  quarantined: ReadonlySet<bigint>,
  limit = 16,
  /** Everything up to this sequence number is covered (by a compacted row). */
  coveredThrough = 0n,
): bigint[] {
  const missing: bigint[] = [];
  for (let seq = coveredThrough + 1n; seq <= upTo && missing.length < limit; seq += 1n) {
    if (!present.has(seq) && !quarantined.has(seq)) missing.push(seq);
  }
  return missing;
}

function newestRow(rows: readonly StoredUpdate[]): StoredUpdate {
  return rows.reduce((newest, row) => (row.seq > newest.seq ? row : newest));
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
