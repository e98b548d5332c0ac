import { commitWithoutFlushWait, type SqlExecutor } from '../db/sql.ts';
import { replayOnThisThread, type Replayer } from './replay.ts';
import { unpackUpdates } from './packed.ts';
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
// and the compaction rolls back. Everything travels packed, nothing as a row or an array: 10,000
// rows parsed one by one held the event loop for tens of milliseconds, and so did four text
// arrays of 10,000 elements (postgres-array parses each element in JavaScript). `packed` is the
// updates as src/log/packed.ts packs them, and goes to the replay as it is; `facts` is
// `ROW_FACTS_BYTES` per row, in the same order: the version id (16 bytes, as `uuid_send`), the seq
// (8, big-endian) and the compacted count (4).
const SELECT_LIVE_SQL = `
  SELECT string_agg(int4send(length(yjs_update)) || yjs_update, ''::bytea ORDER BY ord) AS packed,
         string_agg(uuid_send(version_id) || int8send(seq) || int4send(compacted_count), ''::bytea ORDER BY ord) AS facts
  FROM (
    SELECT version_id, seq, yjs_update, compacted_count, row_number() OVER (ORDER BY seq, is_compacted DESC) AS ord
    FROM scene_versions
    WHERE scene_id = $1::uuid AND compacted_by IS NULL AND ($2::bigint IS NULL OR seq <= $2::bigint)
    ORDER BY seq, is_compacted DESC
    LIMIT $3
  ) AS live`;

interface SelectedLive {
  packed: Uint8Array | null;
  facts: Uint8Array | null;
}

const ROW_FACTS_BYTES = 16 + 8 + 4;

/** One selected row, as `facts` describes it; `id` is the version id's 16 bytes. */
interface LiveRow {
  id: Uint8Array;
  seq: bigint;
  count: number;
  /** Bytes of its update. */
  length: number;
}

function liveRows(selected: SelectedLive | undefined): LiveRow[] {
  const facts = selected?.facts ?? new Uint8Array(0);
  const updates = unpackUpdates(selected?.packed ?? new Uint8Array(0));
  if (facts.byteLength !== updates.length * ROW_FACTS_BYTES) throw new Error(`compaction read ${updates.length} updates but ${facts.byteLength} bytes of row facts`);
  const view = new DataView(facts.buffer, facts.byteOffset, facts.byteLength);
  return updates.map((update, index) => {
    const at = index * ROW_FACTS_BYTES;
    return { id: facts.subarray(at, at + 16), seq: view.getBigInt64(at + 16), count: view.getInt32(at + 24), length: update.byteLength };
  });
}

const INSERT_COMPACTED_SQL = `
  INSERT INTO scene_versions (scene_id, seq, yjs_update, is_compacted, compacted_count, created_by)
  VALUES ($1::uuid, $2::bigint, $3::bytea, true, $4::int, NULL)
  RETURNING version_id`;

/** Rows marked per statement; a compaction's marks are several statements of one transaction. */
export const MARK_CHUNK = 1000;

// By id, never by a range: a row that is not in the list is never touched. The ids arrive packed,
// 16 bytes each (as the select read them), and are taken apart here. Counted in the database:
// returning the ids would parse a row per mark.
const MARK_MERGED_SQL = `
  WITH merged AS (
    SELECT encode(substring($3::bytea FROM i * 16 + 1 FOR 16), 'hex')::uuid AS version_id
    FROM generate_series(0, length($3::bytea) / 16 - 1) AS i
  ),
  marked AS (
    UPDATE scene_versions AS v SET compacted_by = $2::uuid
    FROM merged
    WHERE v.version_id = merged.version_id AND v.scene_id = $1::uuid AND v.compacted_by IS NULL
    RETURNING 1
  )
  SELECT count(*) AS marked FROM marked`;

/** The 16-byte ids of these rows, one after another, as `MARK_MERGED_SQL` takes them. */
function packedIds(rows: readonly LiveRow[]): Uint8Array {
  const ids = new Uint8Array(rows.length * 16);
  rows.forEach((row, index) => ids.set(row.id, index * 16));
  return ids;
}

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
    await commitWithoutFlushWait(tx);
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

    const [selected] = await tx.query<SelectedLive>('compaction_select_live_packed', SELECT_LIVE_SQL, [
      sceneId,
      bound === null ? null : bound.toString(),
      maxRows,
    ]);
    const rows = liveRows(selected);
    await step('selected');

    const replay = await (options.replayer ?? replayOnThisThread).replayPacked(selected?.packed ?? new Uint8Array(0));
    const undecodable = new Set(replay.undecodable.map(({ index }) => index));
    // The merged rows, in seq order.
    const merged = rows.filter((_, index) => !undecodable.has(index));
    if (!worthMerging(merged)) return skipped('nothing_to_compact', undecodable.size);
    await step('built');

    // Rows come in seq order, so the last merged row has the highest merged seq.
    const seq = merged[merged.length - 1]!.seq;
    const mergedUpdates = merged.reduce((sum, row) => sum + row.count, 0);
    const [inserted] = await tx.query<{ version_id: string }>('compaction_insert', INSERT_COMPACTED_SQL, [
      sceneId,
      seq.toString(),
      toBuffer(replay.state),
      mergedUpdates,
    ]);
    const versionId = inserted!.version_id;
    await step('inserted');

    let marked = 0;
    for (let from = 0; from < merged.length; from += MARK_CHUNK) {
      if (from > 0) await options.pace?.();
      const [marks] = await tx.query<{ marked: Numeric }>('compaction_mark_merged_packed', MARK_MERGED_SQL, [
        sceneId,
        versionId,
        toBuffer(packedIds(merged.slice(from, from + MARK_CHUNK))),
      ]);
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
      bytesBefore: merged.reduce((sum, row) => sum + row.length, 0),
      bytesAfter: replay.state.byteLength,
      undecodable: undecodable.size,
      truncated: rows.length === maxRows,
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
