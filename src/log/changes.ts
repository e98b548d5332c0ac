// The change rows of the log (`scene_changes`, `scene_change_floor`): one row per scene per
// committed append, written by the append statement itself (sceneLog.ts), and one per scene
// delete or restore, written in that transaction. The change feed (src/changes) and the webhooks
// (src/webhooks) read them here; nothing outside this folder names the tables.
import type { SqlExecutor } from '../db/sql.ts';
import type { Numeric } from './rows.ts';

/** What made a change. `restore` is both a history restore (content) and a deleted scene brought back. */
export const CHANGE_KINDS = ['edit', 'seed', 'import', 'restore', 'patch', 'delete'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/**
 * A place in the feed: the writing transaction's id and the row's id. Rows are read in this order,
 * and only below every running transaction's id, so nothing can appear behind a position once it
 * has been read (see `LogChanges.page`).
 */
export interface ChangePosition {
  xid: bigint;
  changeId: bigint;
}

/** Before every row: where a reader starts. */
export const FEED_START: ChangePosition = { xid: 0n, changeId: 0n };

export interface SceneChange {
  position: ChangePosition;
  sceneId: string;
  scriptId: string;
  /** The scene's log head after the change (for a delete or a restore, the head it had). */
  seq: bigint;
  kinds: ChangeKind[];
  createdBy: string | null;
  at: Date;
}

/** The position asked for is older than what the feed keeps: changes after it were deleted. */
export class ChangesExpiredError extends Error {
  readonly code = 'CURSOR_EXPIRED';
  constructor(
    /** The oldest position the feed can continue from (everything up to it was deleted). */
    readonly oldest: ChangePosition,
  ) {
    super('The cursor is older than the change feed keeps');
    this.name = 'ChangesExpiredError';
  }
}

export function comparePositions(a: ChangePosition, b: ChangePosition): number {
  if (a.xid !== b.xid) return a.xid < b.xid ? -1 : 1;
  return a.changeId === b.changeId ? 0 : a.changeId < b.changeId ? -1 : 1;
}

interface ChangeRow {
  xid: string;
  change_id: Numeric;
  scene_id: string;
  script_id: string;
  seq: Numeric;
  kinds: string[] | null;
  created_by: string | null;
  created_at: Date;
}

function toChange(row: ChangeRow): SceneChange {
  return {
    position: { xid: BigInt(row.xid), changeId: BigInt(row.change_id) },
    sceneId: row.scene_id,
    scriptId: row.script_id,
    seq: BigInt(row.seq),
    kinds: (row.kinds ?? []) as ChangeKind[],
    createdBy: row.created_by,
    at: row.created_at,
  };
}

/**
 * Why the horizon: an identity id is handed out when a row is inserted, not when its transaction
 * commits, so a transaction holding id 10 can commit after one holding id 11, and a reader that
 * has read 11 would never see 10. `pg_snapshot_xmin(pg_current_snapshot())` is the oldest
 * transaction still running; every transaction below it has finished, and any that writes later
 * gets a larger id. Rows below it, in (xid, change_id) order, are therefore a prefix that never
 * grows in the middle. The price: a long transaction anywhere in the cluster holds the feed back
 * until it ends (the log's own transactions are short; nothing in this codebase holds one open
 * across a network call).
 */
const visible = (column = 'xid') => `${column} < pg_snapshot_xmin(pg_current_snapshot())`;

/**
 * The change rows: the feed's reads, the retention of the rows, and the one write that is not part
 * of an append (a scene deleted or restored). `sceneLog.changes`; bound to a transaction through
 * `sceneLog.withTransaction(tx).changes`.
 */
export class LogChanges {
  constructor(private readonly sql: SqlExecutor) {}

  /**
   * Up to `limit` changes after `after`, in feed order, of the scripts `scriptIds` (null: every
   * script). Throws `ChangesExpiredError` when retention deleted changes after `after`.
   */
  async page(options: { after: ChangePosition; scriptIds: readonly string[] | null; limit: number }): Promise<SceneChange[]> {
    const { after, scriptIds, limit } = options;
    await this.assertRetained(after);
    if (scriptIds !== null && scriptIds.length === 0) return [];
    const rows = await this.sql.query<ChangeRow>(
      scriptIds === null ? 'scene_changes_page_all' : 'scene_changes_page_scripts',
      `SELECT xid::text AS xid, change_id, scene_id, script_id, seq, kinds, created_by, created_at
       FROM scene_changes
       WHERE ${visible()} AND (xid, change_id) > ($1::text::xid8, $2::bigint)
       ${scriptIds === null ? '' : 'AND script_id = ANY($4::uuid[])'}
       ORDER BY xid, change_id
       LIMIT $3`,
      scriptIds === null ? [after.xid.toString(), after.changeId.toString(), limit] : [after.xid.toString(), after.changeId.toString(), limit, scriptIds],
    );
    return rows.map(toChange);
  }

  /** The newest position readers can see now (FEED_START when there is no row). */
  async tip(): Promise<ChangePosition> {
    const [row] = await this.sql.query<{ xid: string; change_id: Numeric }>(
      'scene_changes_tip',
      `SELECT xid::text AS xid, change_id FROM scene_changes WHERE ${visible()} ORDER BY xid DESC, change_id DESC LIMIT 1`,
      [],
    );
    return row ? { xid: BigInt(row.xid), changeId: BigInt(row.change_id) } : FEED_START;
  }

  /** Everything up to this position was deleted by retention; FEED_START when nothing was. */
  async floor(): Promise<ChangePosition> {
    const [row] = await this.sql.query<{ purged_xid: Numeric; purged_change_id: Numeric }>(
      'scene_change_floor',
      'SELECT purged_xid, purged_change_id FROM scene_change_floor WHERE singleton',
      [],
    );
    return row ? { xid: BigInt(row.purged_xid), changeId: BigInt(row.purged_change_id) } : FEED_START;
  }

  /** Throws `ChangesExpiredError` when changes after `position` were deleted. */
  async assertRetained(position: ChangePosition): Promise<void> {
    const floor = await this.floor();
    if (comparePositions(position, floor) < 0) throw new ChangesExpiredError(floor);
  }

  /**
   * Records that a scene was deleted or brought back, at its current log head. Meant for the
   * transaction that deletes or restores it (`withTransaction`), so the change exists exactly when
   * the deletion does.
   */
  async recordLifecycle(sceneId: string, kind: 'delete' | 'restore', createdBy: string | null): Promise<void> {
    await this.sql.query(
      'scene_changes_record_lifecycle',
      `INSERT INTO scene_changes (scene_id, script_id, seq, kinds, created_by)
       SELECT s.scene_id, s.script_id, COALESCE(h.last_seq, 0), ARRAY[$2::text], u.user_id
       FROM scenes s
       LEFT JOIN scene_log_heads h ON h.scene_id = s.scene_id
       LEFT JOIN users u ON u.user_id = $3::uuid
       WHERE s.scene_id = $1::uuid`,
      [sceneId, kind, createdBy],
    );
  }
}

export interface ChangeRetentionSummary {
  deleted: number;
  floor: ChangePosition;
}

/**
 * Deletes change rows older than `cutoff`, oldest first, in batches, and moves the floor up to the
 * newest deleted one. Only a prefix of the feed is ever deleted (rows up to the first one that is
 * younger than the cutoff, or not visible yet), so "everything up to the floor is gone, everything
 * after it is kept" holds and a cursor at the floor misses nothing. Compaction and the log's own
 * retention never touch these rows.
 */
export async function purgeExpiredChanges(sql: SqlExecutor, options: { cutoff: Date; batchSize: number; signal?: AbortSignal }): Promise<ChangeRetentionSummary> {
  let deleted = 0;
  for (;;) {
    if (options.signal?.aborted) break;
    const [row] = await sql.query<{ deleted: Numeric }>(
      'scene_changes_purge',
      `WITH first_kept AS (
         SELECT xid, change_id FROM scene_changes
         WHERE created_at >= $1 OR NOT (${visible()})
         ORDER BY xid, change_id LIMIT 1
       ),
       doomed AS (
         SELECT c.change_id FROM scene_changes c
         WHERE ${visible('c.xid')}
           AND NOT EXISTS (SELECT 1 FROM first_kept k WHERE (c.xid, c.change_id) >= (k.xid, k.change_id))
         ORDER BY c.xid, c.change_id LIMIT $2
       ),
       gone AS (
         DELETE FROM scene_changes c USING doomed d WHERE c.change_id = d.change_id
         RETURNING c.xid, c.change_id
       ),
       top AS (
         SELECT xid, change_id FROM gone ORDER BY xid DESC, change_id DESC LIMIT 1
       ),
       floor AS (
         INSERT INTO scene_change_floor AS f (singleton, purged_xid, purged_change_id)
         SELECT true, xid::text::bigint, change_id FROM top
         ON CONFLICT (singleton) DO UPDATE SET purged_xid = excluded.purged_xid, purged_change_id = excluded.purged_change_id, purged_at = now()
         WHERE (f.purged_xid, f.purged_change_id) < (excluded.purged_xid, excluded.purged_change_id)
       )
       SELECT count(*) AS deleted FROM gone`,
      [options.cutoff, options.batchSize],
    );
    const n = Number(row?.deleted ?? 0);
    deleted += n;
    if (n < options.batchSize) break;
  }
  return { deleted, floor: await new LogChanges(sql).floor() };
}
