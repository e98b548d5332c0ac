import type { SqlExecutor } from '../db/sql.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { LOCK_NAMESPACES, tryAdvisoryXactLock } from '../db/locks.ts';
import { FIRST_SCENE, type Numeric } from './rows.ts';

/**
 * Retention (architecture 6.4, step 7): deletes rows that compaction merged (`compacted_by` set)
 * once they are older than the retention period. Live rows are never touched: a row is only
 * deleted while the compacted row that contains it exists.
 *
 * Rows are deleted leaves first. `compacted_by` is a foreign key with ON DELETE SET NULL, so
 * deleting a merged compacted row before the rows it merged would turn those rows live again (a
 * load would replay them, harmless for the content but no longer "the compacted row and its
 * tail"). A row that still has merged rows pointing at it waits for a later batch.
 */

// SKIP LOCKED: a row another transaction holds (a quarantine restoring it) is left for next time.
const DELETE_BATCH_SQL = `
  WITH doomed AS (
    SELECT v.version_id FROM scene_versions v
    WHERE v.scene_id = $1::uuid AND v.compacted_by IS NOT NULL AND v.created_at < $2
      AND NOT EXISTS (SELECT 1 FROM scene_versions c WHERE c.scene_id = v.scene_id AND c.compacted_by = v.version_id)
    ORDER BY v.seq, v.is_compacted
    LIMIT $3
    FOR UPDATE SKIP LOCKED
  )
  DELETE FROM scene_versions d USING doomed WHERE d.version_id = doomed.version_id
  RETURNING d.version_id, octet_length(d.yjs_update) AS bytes`;

const SCENES_WITH_EXPIRED_SQL = `
  SELECT h.scene_id FROM scene_log_heads h
  WHERE h.scene_id > $1::uuid
    AND EXISTS (SELECT 1 FROM scene_versions v
                WHERE v.scene_id = h.scene_id AND v.compacted_by IS NOT NULL AND v.created_at < $2)
  ORDER BY h.scene_id
  LIMIT $3`;

export interface PurgeResult {
  sceneId: string;
  deletedRows: number;
  deletedBytes: number;
  /** Another instance was purging the scene; nothing was done. */
  busy: boolean;
}

/**
 * Deletes one scene's expired merged rows in batches of `batchSize`, each batch its own short
 * transaction, until none is left (or `maxBatches` ran).
 */
export async function purgeMergedRows(
  sql: SqlExecutor,
  sceneId: string,
  options: { cutoff: Date; batchSize: number; maxBatches?: number; signal?: AbortSignal },
): Promise<PurgeResult> {
  const { batchSize } = options;
  const maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
  const result: PurgeResult = { sceneId, deletedRows: 0, deletedBytes: 0, busy: false };
  for (let batch = 0; batch < maxBatches && !options.signal?.aborted; batch += 1) {
    const deleted = await sql.transaction(async (tx) => {
      if (!(await tryAdvisoryXactLock(tx, LOCK_NAMESPACES.retention, sceneId))) return null;
      return tx.query<{ version_id: string; bytes: Numeric }>('retention_delete_batch', DELETE_BATCH_SQL, [
        sceneId,
        options.cutoff,
        batchSize,
      ]);
    });
    if (deleted === null) {
      result.busy = true;
      break;
    }
    result.deletedRows += deleted.length;
    result.deletedBytes += deleted.reduce((sum, row) => sum + Number(row.bytes), 0);
    // A short batch can still leave parents whose last children it just deleted: go on while
    // something was deleted, stop when a batch finds nothing.
    if (deleted.length === 0) break;
  }
  return result;
}

export interface RetentionPassSummary {
  scenesScanned: number;
  scenesPurged: number;
  deletedRows: number;
  deletedBytes: number;
  scenesBusy: number;
  scenesFailed: number;
  durationMs: number;
  aborted: boolean;
}

export interface RetentionPassOptions {
  sql: SqlExecutor;
  logger: Logger;
  /** How long merged rows are kept after they were written (`config.jobs.retention.retentionMs`). */
  retentionMs: number;
  /** Rows deleted per transaction (`config.jobs.retention.batchSize`). */
  batchSize: number;
  metrics?: Pick<Metrics, 'retentionRowsDeleted'>;
  now?: () => Date;
  signal?: AbortSignal;
  onProgress?: (progress: { summary: RetentionPassSummary; sceneId: string; result: PurgeResult | Error }) => void;
}

/** One pass over every scene that has expired merged rows. Failures are logged; the pass goes on. */
export async function runRetentionPass(options: RetentionPassOptions): Promise<RetentionPassSummary> {
  const { sql, logger, metrics, signal } = options;
  const now = options.now ?? (() => new Date());
  const cutoff = new Date(now().getTime() - options.retentionMs);
  const started = Date.now();
  const summary: RetentionPassSummary = {
    scenesScanned: 0,
    scenesPurged: 0,
    deletedRows: 0,
    deletedBytes: 0,
    scenesBusy: 0,
    scenesFailed: 0,
    durationMs: 0,
    aborted: false,
  };
  const pageSize = 500;
  let after = FIRST_SCENE;
  pages: for (;;) {
    const scenes = await sql.query<{ scene_id: string }>('retention_scenes_with_expired', SCENES_WITH_EXPIRED_SQL, [after, cutoff, pageSize]);
    for (const { scene_id: sceneId } of scenes) {
      if (signal?.aborted) {
        summary.aborted = true;
        break pages;
      }
      summary.scenesScanned += 1;
      let result: PurgeResult | Error;
      try {
        result = await purgeMergedRows(sql, sceneId, { cutoff, batchSize: options.batchSize, signal });
        if (result.busy) summary.scenesBusy += 1;
        if (result.deletedRows > 0) summary.scenesPurged += 1;
        summary.deletedRows += result.deletedRows;
        summary.deletedBytes += result.deletedBytes;
        metrics?.retentionRowsDeleted.inc(result.deletedRows);
      } catch (error) {
        summary.scenesFailed += 1;
        logger.error({ err: error, sceneId }, 'retention of a scene failed; the pass goes on');
        result = error instanceof Error ? error : new Error(String(error));
      }
      options.onProgress?.({ summary, sceneId, result });
    }
    if (scenes.length < pageSize) break;
    after = scenes[scenes.length - 1]!.scene_id;
  }
  summary.durationMs = Date.now() - started;
  return summary;
}
