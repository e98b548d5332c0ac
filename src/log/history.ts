import type { SqlExecutor } from '../db/sql.ts';
import type { Replayer } from './replay.ts';
import { newestRow, STORED_UPDATE_COLUMNS, toSeq, toStoredUpdate, type LoadedRow, type Numeric, type StoredUpdate } from './rows.ts';
import type { SceneLog } from './sceneLog.ts';

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

/** A scene's Yjs state as it was at an instant, from the rows retained of its log. */
export interface HistoricState {
  /** The state then (an update for an empty document); null when the scene had no update yet. */
  state: Uint8Array | null;
  /** The newest update included, or null when the scene had no update yet at that instant. */
  seq: bigint | null;
  /** Rows replayed. */
  updateCount: number;
  /** False when retention already deleted originals the state at that instant depends on. */
  complete: boolean;
  hasGap: boolean;
}

/**
 * Older states of a scene: the history view (the scene at an instant) and the base of a PATCH made
 * against an older read (the scene after exactly the updates up to a sequence number).
 *
 * Both rebuild from what the log still holds. Compaction merges originals into a compacted row
 * that carries the highest seq it merged and stands for every update up to it; retention deletes
 * the merged originals later. So a state after the newest compacted row is always there, and a
 * state before it only while its originals are. Quarantined rows are missing on purpose: no load
 * includes them, so a state without them is still the state every reader saw.
 */
export class LogHistory {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly log: Pick<SceneLog, 'load'>,
    private readonly replayer: Replayer,
  ) {}

  /**
   * The rows that rebuild the scene as it was at `at`: the newest compacted row created by then, if
   * any, and every original after it committed by then. A compacted row is created after every row
   * it merged, so all it stands for is older than `at`; starting from it keeps history working once
   * retention has deleted the merged originals.
   */
  async loadUntil(sceneId: string, at: Date): Promise<StoredUpdate[]> {
    const rows = await this.sql.query<LoadedRow>(
      'scene_log_load_until',
      `WITH base AS (
         SELECT ${STORED_UPDATE_COLUMNS}
         FROM scene_versions
         WHERE scene_id = $1::uuid AND is_compacted AND created_at <= $2
         ORDER BY seq DESC LIMIT 1
       )
       SELECT * FROM base
       UNION ALL
       SELECT ${STORED_UPDATE_COLUMNS}
       FROM scene_versions
       WHERE scene_id = $1::uuid AND NOT is_compacted AND created_at <= $2
         AND seq > COALESCE((SELECT seq FROM base), 0)
       ORDER BY seq, is_compacted DESC`,
      [sceneId, at],
    );
    return rows.map(toStoredUpdate);
  }

  /**
   * The scene's Yjs state after exactly the updates up to `seq`. Uses the live rows when the newest
   * compacted row is at or below `seq`, else the retained originals; throws `StateNotRetainedError`
   * when retention deleted some of them.
   */
  async stateAtSeq(sceneId: string, seq: bigint): Promise<Uint8Array> {
    const live = await this.log.load(sceneId);
    const newestCompacted = live.reduce<bigint | null>((max, row) => (row.isCompacted && (max === null || row.seq > max) ? row.seq : max), null);
    if (newestCompacted === null || newestCompacted <= seq) {
      return (await this.replayer.replay(live.filter((row) => row.seq <= seq))).state;
    }
    const originals = await this.originalsUpTo(sceneId, seq);
    const quarantined = await this.quarantinedSeqs(sceneId, seq);
    if (missingSeqs(seq, new Set(originals.map((row) => row.seq)), quarantined).length > 0) throw new StateNotRetainedError(sceneId, seq);
    return (await this.replayer.replay(originals)).state;
  }

  /** The scene as it was at `at`, replayed from the retained rows committed by then. */
  async stateAt(sceneId: string, at: Date): Promise<HistoricState> {
    const rows = await this.loadUntil(sceneId, at);
    const quarantined = await this.quarantinedSeqs(sceneId, null);

    if (rows.length === 0) {
      // Nothing retained up to `at`: either the scene had no edit yet, or retention deleted the
      // beginning of its history. The earliest retained original tells them apart.
      const firstSeq = await this.firstOriginalSeq(sceneId);
      const beginningDeleted =
        firstSeq !== null ? missingSeqs(firstSeq - 1n, new Set(), quarantined).length > 0 : await this.hasCompactedRowFrom(sceneId, 1n);
      return { state: null, seq: null, updateCount: 0, complete: !beginningDeleted, hasGap: false };
    }

    const replay = await this.replayer.replay(rows);
    const newest = newestRow(rows);
    // A compacted row at the start of the rows stands for every update up to its seq.
    const coveredThrough = rows.filter((row) => row.isCompacted).reduce((max, row) => (row.seq > max ? row.seq : max), 0n);
    const missing = missingSeqs(newest.seq, new Set(rows.map((row) => row.seq)), quarantined, 16, coveredThrough);
    // A missing original is one that retention deleted after compaction (then a compacted row covers
    // it), or one committed after `at` by another instance that took its number first (the number
    // follows commit order, the timestamp the start of the transaction): only the first is a hole.
    const complete = missing.length === 0 || !(await this.hasCompactedRowFrom(sceneId, missing[0]!));
    return { state: replay.state, seq: newest.seq, updateCount: rows.length, complete, hasGap: replay.hasGap };
  }

  /** The original (not compacted) rows up to `seq` that retention has not deleted, in seq order. */
  private async originalsUpTo(sceneId: string, seq: bigint): Promise<StoredUpdate[]> {
    const rows = await this.sql.query<LoadedRow>(
      'scene_log_originals_up_to',
      `SELECT ${STORED_UPDATE_COLUMNS}
       FROM scene_versions
       WHERE scene_id = $1::uuid AND NOT is_compacted AND seq <= $2::bigint
       ORDER BY seq`,
      [sceneId, seq.toString()],
    );
    return rows.map(toStoredUpdate);
  }

  /** Sequence numbers of the scene's quarantined rows, up to `upTo` (all of them when null). */
  private async quarantinedSeqs(sceneId: string, upTo: bigint | null): Promise<Set<bigint>> {
    const rows = await this.sql.query<{ seq: Numeric }>(
      'scene_log_quarantined_seqs',
      'SELECT seq FROM quarantined_updates WHERE scene_id = $1::uuid AND ($2::bigint IS NULL OR seq <= $2::bigint)',
      [sceneId, upTo === null ? null : upTo.toString()],
    );
    return new Set(rows.map((row) => BigInt(row.seq)));
  }

  private async firstOriginalSeq(sceneId: string): Promise<bigint | null> {
    const [row] = await this.sql.query<{ seq: Numeric | null }>(
      'scene_log_first_original_seq',
      'SELECT min(seq) AS seq FROM scene_versions WHERE scene_id = $1::uuid AND NOT is_compacted',
      [sceneId],
    );
    return toSeq(row?.seq);
  }

  /** True when a compacted row covers `seq` (it carries the highest seq it merged). */
  private async hasCompactedRowFrom(sceneId: string, seq: bigint): Promise<boolean> {
    const rows = await this.sql.query<{ one: number }>(
      'scene_log_has_compacted_from',
      'SELECT 1 AS one FROM scene_versions WHERE scene_id = $1::uuid AND is_compacted AND seq >= $2::bigint LIMIT 1',
      [sceneId, seq.toString()],
    );
    return rows.length > 0;
  }
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
