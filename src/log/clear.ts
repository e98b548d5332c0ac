import type { SqlExecutor } from '../db/sql.ts';
import { toStoredUpdate, type LoadedRow, type StoredUpdate } from './rows.ts';

/** A row of the log with every column, as an export file records it before it is deleted. */
export interface ExportedRow extends StoredUpdate {
  sceneId: string;
  compactedBy: string | null;
  createdBy: string | null;
}

/**
 * Exporting and deleting whole scenes' logs (clear-yjs). Meant for a transaction's log
 * (`SceneLog.withTransaction`) that holds the scenes' head locks (`SceneLog.lockHead`): no append
 * can commit meanwhile, so the rows exported are all the rows, and the delete removes exactly
 * them. A writer that does not take the head lock (compaction) can still add a row; `deleteExported`
 * reports it, and the caller rolls back.
 *
 * The heads themselves stay: sequence numbers remain unique per scene across a clear, so an
 * export, `scenes.snapshot_seq` and the new log never disagree about which state is newer.
 */
export class LogClear {
  constructor(private readonly sql: SqlExecutor) {}

  /** Every row of the scenes, by scene and seq. */
  async exportRows(sceneIds: readonly string[]): Promise<ExportedRow[]> {
    const rows = await this.sql.query<LoadedRow & { scene_id: string; compacted_by: string | null; created_by: string | null }>(
      'log_clear_export_rows',
      `SELECT version_id, scene_id, seq, is_compacted, compacted_count, compacted_by, created_at, created_by, yjs_update
       FROM scene_versions
       WHERE scene_id = ANY($1::uuid[])
       ORDER BY scene_id, seq, is_compacted DESC`,
      [sceneIds],
    );
    return rows.map((row) => ({ ...toStoredUpdate(row), sceneId: row.scene_id, compactedBy: row.compacted_by, createdBy: row.created_by }));
  }

  /**
   * Deletes exactly the exported rows, and counts the scenes' rows left: anything left was not in
   * the export.
   */
  async deleteExported(sceneIds: readonly string[], rows: readonly ExportedRow[]): Promise<{ deletedRows: number; rowsLeft: number }> {
    // The committed clocks go with the rows: kept, they would refuse a reseed whose items reuse a
    // client id and clocks of the old log (a seed's id follows from its content).
    const [deleted] = await this.sql.query<{ n: number }>(
      'log_clear_delete_rows',
      `WITH deleted AS (
         DELETE FROM scene_versions WHERE scene_id = ANY($1::uuid[]) AND version_id = ANY($2::uuid[])
         RETURNING 1
       ),
       reset AS (
         UPDATE scene_log_heads SET committed_clocks = '{}'::jsonb WHERE scene_id = ANY($1::uuid[])
       )
       SELECT count(*)::int AS n FROM deleted`,
      [sceneIds, rows.map((row) => row.versionId)],
    );
    // A statement of its own, so it sees what committed while the delete waited for row locks.
    const [left] = await this.sql.query<{ n: number }>(
      'log_clear_rows_left',
      'SELECT count(*)::int AS n FROM scene_versions WHERE scene_id = ANY($1::uuid[])',
      [sceneIds],
    );
    return { deletedRows: deleted?.n ?? 0, rowsLeft: left?.n ?? 0 };
  }
}
