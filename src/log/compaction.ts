import type { SqlExecutor } from '../db/sql.ts';
import { replayOnThisThread, type Replayer } from './replay.ts';
import { toBuffer, type Numeric } from './rows.ts';
import { advisoryXactLock, LOCK_NAMESPACES, tryAdvisoryXactLock } from '../db/locks.ts';

/**
 * Compaction (architecture 4.6 / 6.4): merges a prefix of a scene's live rows into one compacted
 * row and marks exactly the merged rows `compacted_by`, so a load reads the compacted row and the
 * tail after it. The originals stay until retention deletes them.
 *
 * Why it is safe while editors type and other instances run:
 * - A scene's `seq` is its commit order (see `SceneLog`): every statement sees a prefix of the
 *   log. Rows are selected by seq in one statement, so an append that commits during the
 *   compaction has a higher seq than anything selected and stays live, untouched.
 * - Everything happens in one transaction: the compacted row and the marks become visible
 *   together or not at all. A compaction interrupted at any point leaves the log as it was, and
 *   running it again merges the same prefix (plus whatever was appended since).
 * - The merged rows are marked by id and only while still unmarked; if any of them was marked or
 *   removed meanwhile the transaction fails instead of half-merging.
 * - A per-scene advisory lock keeps two instances from compacting the same scene at once.
 * - Rows that fail to decode are left live, unmerged, for the load path to quarantine.
 * - The merged update is built by applying the rows to a document and encoding its state (never
 *   `Y.mergeUpdates`, which is super-linear); updates waiting for missing dependencies are kept in
 *   the encoded state, so even a log with a gap compacts without losing them.
 */

/** The points between the statements of a compaction, in order (observers and fault tests). */
export type CompactionStep = 'locked' | 'selected' | 'built' | 'inserted' | 'marked';

export interface CompactSceneOptions {
  /** Merge only up to the newest live update created before this time (the age trigger). */
  createdBefore?: Date;
  /** Merge only rows with a sequence number up to this one. */
  upToSeq?: bigint;
  /**
   * Rows merged at most (`config.jobs.compaction.maxRowsPerCompaction`); the oldest rows go first,
   * and a longer live tail is merged over several compactions.
   */
  maxRows: number;
  /** Wait for a concurrent compaction of the scene to finish instead of skipping the scene. */
  wait?: boolean;
  /**
   * Where the rows are merged (a worker pool, src/workers; default: this thread). The lock and the
   * transaction stay here, held while the merge runs elsewhere.
   */
  replayer?: Replayer;
  /**
   * Called between the chunks of marks (`MARK_CHUNK` rows each), inside the transaction: a pacing
   * wait (jobs/pacing.ts). Marking 10,000 rows in one statement kept a database backend busy for
   * most of a second and wrote megabytes of WAL that the editors' next commits had to flush first.
   */
  pace?: () => Promise<void>;
  /**
   * Called after each step inside the transaction; a throw rolls the whole compaction back. For
   * progress reporting, and for tests that crash a compaction at a chosen step.
   */
  onStep?: (step: CompactionStep) => void | Promise<void>;
}

export interface CompactedScene {
  status: 'compacted';
  sceneId: string;
  /** The new compacted row. */
  versionId: string;
  /** Its sequence number: the highest one it merged. */
  seq: bigint;
  /** Rows merged (originals and an older compacted row). */
  mergedRows: number;
  /** Updates those rows stand for (the new row's `compacted_count`). */
  mergedUpdates: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Rows left live because they do not decode. */
  undecodable: number;
  /** More live rows up to the bound remained than `maxRows` allowed: run it again. */
  truncated: boolean;
  /** The merged rows wait for updates the log does not have (kept in the compacted row). */
  hasGap: boolean;
}

export interface SkippedCompaction {
  status: 'skipped';
  sceneId: string;
  /** `busy`: another compaction of the scene holds the lock; `nothing_to_compact`: fewer than two mergeable rows. */
  reason: 'busy' | 'nothing_to_compact';
  undecodable: number;
}

export type CompactionResult = CompactedScene | SkippedCompaction;

/** The rows marked were not exactly the rows merged: something changed them concurrently. */
export class CompactionConflictError extends Error {
  readonly code = 'COMPACTION_CONFLICT';
  constructor(
    readonly sceneId: string,
    readonly expected: number,
    readonly marked: number,
  ) {
    super(`Compaction of scene ${sceneId} rolled back: ${expected} rows merged but ${marked} could be marked (changed concurrently)`);
    this.name = 'CompactionConflictError';
  }
}

const NEWEST_OLD_UPDATE_SQL = `
  SELECT max(seq) AS seq FROM scene_versions
  WHERE scene_id = $1::uuid AND compacted_by IS NULL AND is_compacted = false AND created_at < $2`;

// One statement, so it sees a prefix of the log (seq is commit order). No row locks: if a selected
// row is changed before the marks are written (a quarantine moved it out), the marks come up short
// and the compaction rolls back. Packed (src/log/packed.ts), with one array per row fact: 10,000
// rows parsed one by one held the event loop for tens of milliseconds; one buffer and four arrays
// do not, and the buffer goes to the replay as it is.
const SELECT_LIVE_SQL = `
  SELECT string_agg(int4send(length(yjs_update)) || yjs_update, ''::bytea ORDER BY ord) AS packed,
         array_agg(version_id ORDER BY ord) AS version_ids,
         array_agg(seq ORDER BY ord) AS seqs,
         array_agg(compacted_count ORDER BY ord) AS counts,
         array_agg(length(yjs_update) ORDER BY ord) AS lengths
  FROM (
    SELECT version_id, seq, yjs_update, compacted_count, row_number() OVER (ORDER BY seq, is_compacted DESC) AS ord
    FROM scene_versions
    WHERE scene_id = $1::uuid AND compacted_by IS NULL AND ($2::bigint IS NULL OR seq <= $2::bigint)
    ORDER BY seq, is_compacted DESC
    LIMIT $3
  ) AS live`;

interface SelectedLive {
  packed: Uint8Array | null;
  version_ids: string[] | null;
  seqs: Numeric[] | null;
  counts: Numeric[] | null;
  lengths: Numeric[] | null;
}

const INSERT_COMPACTED_SQL = `
  INSERT INTO scene_versions (scene_id, seq, yjs_update, is_compacted, compacted_count, created_by)
  VALUES ($1::uuid, $2::bigint, $3::bytea, true, $4::int, NULL)
  RETURNING version_id`;

/** Rows marked per statement; a compaction's marks are several statements of one transaction. */
export const MARK_CHUNK = 1000;

// By id, never by a range: a row that is not in the list is never touched. Counted in the
// database: returning the ids would parse a row per mark.
const MARK_MERGED_SQL = `
  WITH marked AS (
    UPDATE scene_versions AS v SET compacted_by = $2::uuid
    FROM unnest($3::uuid[]) AS merged(version_id)
    WHERE v.version_id = merged.version_id AND v.scene_id = $1::uuid AND v.compacted_by IS NULL
    RETURNING 1
  )
  SELECT count(*) AS marked FROM marked`;

export async function compactScene(sql: SqlExecutor, sceneId: string, options: CompactSceneOptions): Promise<CompactionResult> {
  const { maxRows } = options;
  if (!Number.isInteger(maxRows) || maxRows < 2) throw new RangeError(`maxRows must be an integer of at least 2, not ${maxRows}`);
  const step = async (name: CompactionStep) => {
    await options.onStep?.(name);
  };
  const skipped = (reason: SkippedCompaction['reason'], undecodable = 0): SkippedCompaction => ({ status: 'skipped', sceneId, reason, undecodable });

  return sql.transaction(async (tx): Promise<CompactionResult> => {
    if (options.wait) {
      await advisoryXactLock(tx, LOCK_NAMESPACES.compaction, sceneId);
    } else if (!(await tryAdvisoryXactLock(tx, LOCK_NAMESPACES.compaction, sceneId))) {
      return skipped('busy');
    }
    // Losing a compaction in a crash loses nothing (the log is as before, the next pass redoes it),
    // so its commit need not wait for the WAL flush; it is still all or nothing.
    await tx.query('compaction_async_commit', 'SET LOCAL synchronous_commit TO off', []);
    await step('locked');

    let bound = options.upToSeq ?? null;
    if (options.createdBefore) {
      const [row] = await tx.query<{ seq: Numeric | null }>('compaction_newest_old_update', NEWEST_OLD_UPDATE_SQL, [
        sceneId,
        options.createdBefore,
      ]);
      if (row?.seq == null) return skipped('nothing_to_compact');
      const newestOld = BigInt(row.seq);
      bound = bound === null || newestOld < bound ? newestOld : bound;
    }

    const [live] = await tx.query<SelectedLive>('compaction_select_live_packed', SELECT_LIVE_SQL, [
      sceneId,
      bound === null ? null : bound.toString(),
      maxRows,
    ]);
    const ids = live?.version_ids ?? [];
    await step('selected');

    const replay = await (options.replayer ?? replayOnThisThread).replayPacked(live?.packed ?? new Uint8Array(0));
    const undecodable = new Set(replay.undecodable.map(({ index }) => index));
    // Indices of the merged rows, in seq order.
    const merged = ids.map((_, index) => index).filter((index) => !undecodable.has(index));
    if (!worthMerging(merged)) return skipped('nothing_to_compact', undecodable.size);
    await step('built');

    // Rows come in seq order, so the last merged row has the highest merged seq.
    const seq = BigInt(live!.seqs![merged[merged.length - 1]!]!);
    const mergedUpdates = merged.reduce((sum, index) => sum + Number(live!.counts![index]), 0);
    const [inserted] = await tx.query<{ version_id: string }>('compaction_insert', INSERT_COMPACTED_SQL, [
      sceneId,
      seq.toString(),
      toBuffer(replay.state),
      mergedUpdates,
    ]);
    const versionId = inserted!.version_id;
    await step('inserted');

    const mergedIds = merged.map((index) => ids[index]!);
    let marked = 0;
    for (let from = 0; from < mergedIds.length; from += MARK_CHUNK) {
      if (from > 0) await options.pace?.();
      const [marks] = await tx.query<{ marked: Numeric }>('compaction_mark_merged_count', MARK_MERGED_SQL, [sceneId, versionId, mergedIds.slice(from, from + MARK_CHUNK)]);
      marked += Number(marks?.marked ?? 0);
    }
    if (marked !== merged.length) throw new CompactionConflictError(sceneId, merged.length, marked);
    await step('marked');

    return {
      status: 'compacted',
      sceneId,
      versionId,
      seq,
      mergedRows: merged.length,
      mergedUpdates,
      bytesBefore: merged.reduce((sum, index) => sum + Number(live!.lengths![index]), 0),
      bytesAfter: replay.state.byteLength,
      undecodable: undecodable.size,
      truncated: ids.length === maxRows,
      hasGap: replay.hasGap,
    };
  });
}

/**
 * Merging pays only when it replaces at least two rows by one; a lone compacted row (or a lone
 * update) is already as small as the log gets.
 */
export function worthMerging(rows: readonly unknown[]): boolean {
  return rows.length >= 2;
}
