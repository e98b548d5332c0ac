import type { SqlExecutor } from '../db/sql.ts';
import { replayOnThisThread, type Replayer } from './replay.ts';
import { coveredUpTo, isLive } from './coverage.ts';
import { unpackUpdates } from './packed.ts';
import { SceneLog } from './sceneLog.ts';
import { toBuffer, type Numeric } from './rows.ts';
import { advisoryXactLock, LOCK_NAMESPACES, tryAdvisoryXactLock } from '../db/locks.ts';

/**
 * Compaction (architecture 4.6 / 6.4): merges a prefix of a scene's live rows into one compacted
 * row that carries the prefix's highest seq. That row stands for every row up to its seq
 * (src/log/coverage.ts), so a load reads it and the tail after it; nothing is written to the
 * merged rows, which stay until retention deletes them.
 *
 * Why it is safe while editors type and other instances run:
 * - A scene's `seq` is its commit order (see `SceneLog`): every statement sees a prefix of the
 *   log. Rows are selected by seq in one statement, so an append that commits during the
 *   compaction has a higher seq than anything selected and stays live, untouched.
 * - Everything happens in one transaction: the compacted row and the quarantined rows become
 *   visible together or not at all. A compaction interrupted at any point leaves the log as it
 *   was, and running it again merges the same prefix (plus whatever was appended since).
 * - The per-scene compaction lock is the log rewriters' lock: compaction, quarantine and
 *   clear-yjs take it, so the prefix cannot change under a compaction. Before it commits, the
 *   rows its seq covers are counted anyway: any row it did not merge fails the compaction instead
 *   of being covered unread.
 * - Rows that fail to decode cannot be merged, and the new row would cover them: they move to
 *   `quarantined_updates` in the same transaction, as a load would have moved them.
 * - The merged update is built by applying the rows to a document and encoding its state (never
 *   `Y.mergeUpdates`, which is super-linear); updates waiting for missing dependencies are kept in
 *   the encoded state, so even a log with a gap compacts without losing them.
 */

/** The points between the statements of a compaction, in order (observers and fault tests). */
export type CompactionStep = 'locked' | 'selected' | 'built' | 'inserted' | 'quarantined';

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
  /** Rows that do not decode: each one the new row covers is quarantined (`quarantined`), the rest stay live. */
  undecodable: number;
  /** Undecodable rows moved to `quarantined_updates`, as a load would have moved them. */
  quarantined: number;
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

/** The rows the new compacted row covers are not exactly the rows merged: something changed the log concurrently. */
export class CompactionConflictError extends Error {
  readonly code = 'COMPACTION_CONFLICT';
  constructor(
    readonly sceneId: string,
    readonly expected: number,
    readonly covered: number,
  ) {
    super(`Compaction of scene ${sceneId} rolled back: ${expected} rows merged but the new row would cover ${covered} (changed concurrently)`);
    this.name = 'CompactionConflictError';
  }
}

const NEWEST_OLD_UPDATE_SQL = `
  SELECT max(v.seq) AS seq
  FROM scene_versions v CROSS JOIN (SELECT ${coveredUpTo('$1::uuid')} AS up_to) AS u
  WHERE v.scene_id = $1::uuid AND NOT v.is_compacted AND v.seq > u.up_to AND v.created_at < $2`;

// One statement, so it sees a prefix of the log (seq is commit order). Everything travels packed,
// nothing as a row or an array: 10,000 rows parsed one by one held the event loop for tens of
// milliseconds, and so did four text arrays of 10,000 elements (postgres-array parses each element
// in JavaScript). `packed` is the updates as src/log/packed.ts packs them, and goes to the replay
// as it is; `facts` is `ROW_FACTS_BYTES` per row, in the same order: the version id (16 bytes, as
// `uuid_send`), the seq (8, big-endian) and the compacted count (4). `up_to` is the seq the log
// was covered up to before this compaction.
const SELECT_LIVE_SQL = `
  SELECT string_agg(int4send(length(yjs_update)) || yjs_update, ''::bytea ORDER BY ord) AS packed,
         string_agg(uuid_send(version_id) || int8send(seq) || int4send(compacted_count), ''::bytea ORDER BY ord) AS facts,
         (SELECT ${coveredUpTo('$1::uuid')}) AS up_to
  FROM (
    SELECT v.version_id, v.seq, v.yjs_update, v.compacted_count, row_number() OVER (ORDER BY v.seq, v.is_compacted DESC) AS ord
    FROM scene_versions v CROSS JOIN (SELECT ${coveredUpTo('$1::uuid')} AS up_to) AS u
    WHERE v.scene_id = $1::uuid AND ${isLive('v', 'u.up_to')} AND ($2::bigint IS NULL OR v.seq <= $2::bigint)
    ORDER BY v.seq, v.is_compacted DESC
    LIMIT $3
  ) AS live`;

interface SelectedLive {
  packed: Uint8Array | null;
  facts: Uint8Array | null;
  up_to: Numeric;
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

/** The version id as text, from its 16 bytes. */
function uuidText(id: Uint8Array): string {
  const hex = Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const INSERT_COMPACTED_SQL = `
  INSERT INTO scene_versions (scene_id, seq, yjs_update, is_compacted, compacted_count, created_by)
  VALUES ($1::uuid, $2::bigint, $3::bytea, true, $4::int, NULL)
  RETURNING version_id`;

// What the new row (seq $3) covers that the log's previous cover (seq $2) did not: the previous
// compacted row and the originals after it, up to $3. Read through the unique index, no row locks.
const NEWLY_COVERED_SQL = `
  SELECT count(*) AS covered FROM scene_versions
  WHERE scene_id = $1::uuid
    AND ((NOT is_compacted AND seq > $2::bigint AND seq <= $3::bigint) OR (is_compacted AND seq >= $2::bigint AND seq < $3::bigint))`;

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

    const [selected] = await tx.query<SelectedLive>('compaction_select_live_packed', SELECT_LIVE_SQL, [
      sceneId,
      bound === null ? null : bound.toString(),
      maxRows,
    ]);
    const rows = liveRows(selected);
    const coveredBefore = BigInt(selected?.up_to ?? 0);
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

    // An undecodable row after the last merged one stays live; one before it would be covered.
    const log = new SceneLog(tx);
    const failures = new Map(replay.undecodable.map(({ index, reason }) => [index, reason]));
    let quarantined = 0;
    for (const [index, row] of rows.entries()) {
      if (!failures.has(index) || row.seq > seq) continue;
      await log.quarantineLocked(sceneId, uuidText(row.id), `found by compaction: ${failures.get(index)}`);
      quarantined += 1;
    }
    const [covered] = await tx.query<{ covered: Numeric }>('compaction_newly_covered', NEWLY_COVERED_SQL, [sceneId, coveredBefore.toString(), seq.toString()]);
    if (Number(covered?.covered ?? -1) !== merged.length) throw new CompactionConflictError(sceneId, merged.length, Number(covered?.covered ?? -1));
    await step('quarantined');

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
      quarantined,
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
