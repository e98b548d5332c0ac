// Writing a scene's log exported from another database (import-scene): the rows as they were, with
// their ids, seqs, compaction facts, writers and times, so the scene's history, its labels' seqs
// and the REST copy's `snapshot_seq` mean the same here as there.
import type { SqlExecutor } from '../db/sql.ts';
import { toBuffer, toSeq, type Numeric } from './rows.ts';

/** A row of an exported log, as import-scene writes it back. */
export interface ImportedRow {
  versionId: string;
  seq: bigint;
  update: Uint8Array;
  isCompacted: boolean;
  compactedCount: number;
  /** The compacted row (of the same import) this row was merged into. */
  compactedBy: string | null;
  createdAt: Date;
  /** A user of this database, or null (the caller maps the exported writers). */
  createdBy: string | null;
}

/** The scene already has rows here: an import never mixes two logs. */
export class LogNotEmptyError extends Error {
  readonly code = 'LOG_NOT_EMPTY';
  constructor(readonly sceneId: string) {
    super(`scene ${sceneId} already has a Yjs log in this database`);
    this.name = 'LogNotEmptyError';
  }
}

export interface ImportedLog {
  rows: number;
  /** The scene's head after the import: the highest seq imported, or the head it had when that was higher. */
  head: bigint;
}

/**
 * `sceneLog.imports`. Meant for a transaction's log (`SceneLog.withTransaction`) that holds the
 * scene's head lock (`SceneLog.lockHead`), so no append can land between the emptiness check and
 * the rows.
 */
export class LogImport {
  constructor(private readonly sql: SqlExecutor) {}

  /**
   * Writes the rows into the scene's empty log in one statement, with one `scene_changes` row of
   * kind `import` (the change feed learns of it like of any append). `LogNotEmptyError` when the
   * scene has a row already.
   *
   * The head becomes the higher of its own `last_seq` and the highest imported seq: a head is never
   * lowered (clear-yjs keeps it), and the next append continues above both. The committed clocks
   * are set to NULL ("not recorded"): the next load records them from what it replayed, and until
   * then appends are stored without the check, as for a log older than the clocks.
   *
   * Writers unknown to `users` are stored as NULL, as appends do. `compacted_by` names rows of the
   * same statement; PostgreSQL checks the foreign key at the statement's end, when they all exist.
   */
  async importRows(sceneId: string, rows: readonly ImportedRow[]): Promise<ImportedLog> {
    const [row] = await this.sql.query<{ rows: Numeric; head: Numeric | null; refused: boolean }>(
      'log_import_rows',
      `WITH existing AS (
         SELECT EXISTS (SELECT 1 FROM scene_versions WHERE scene_id = $1::uuid) AS refused
       ),
       input AS (
         SELECT * FROM unnest($2::uuid[], $3::bigint[], $4::bytea[], $5::boolean[], $6::int[], $7::uuid[], $8::timestamptz[], $9::uuid[])
           AS t (version_id, seq, yjs_update, is_compacted, compacted_count, compacted_by, created_at, created_by)
       ),
       stored AS (
         INSERT INTO scene_versions (version_id, scene_id, seq, yjs_update, is_compacted, compacted_count, compacted_by, created_at, created_by)
         SELECT i.version_id, $1::uuid, i.seq, i.yjs_update, i.is_compacted, i.compacted_count, i.compacted_by, i.created_at, u.user_id
         FROM input i
         LEFT JOIN users u ON u.user_id = i.created_by
         WHERE NOT (SELECT refused FROM existing)
         RETURNING seq
       ),
       top AS (
         SELECT count(*) AS n, max(seq) AS seq FROM stored
       ),
       head AS (
         UPDATE scene_log_heads h
         SET last_seq = GREATEST(h.last_seq, top.seq), committed_clocks = NULL
         FROM top
         WHERE h.scene_id = $1::uuid AND top.n > 0
         RETURNING h.last_seq
       ),
       changed AS (
         INSERT INTO scene_changes (scene_id, script_id, seq, kinds, created_by)
         SELECT s.scene_id, s.script_id, head.last_seq, ARRAY['import'], NULL
         FROM head JOIN scenes s ON s.scene_id = $1::uuid
       )
       SELECT (SELECT n FROM top) AS rows, (SELECT last_seq FROM head) AS head, (SELECT refused FROM existing) AS refused`,
      [
        sceneId,
        rows.map((r) => r.versionId),
        rows.map((r) => r.seq.toString()),
        rows.map((r) => toBuffer(r.update)),
        rows.map((r) => r.isCompacted),
        rows.map((r) => r.compactedCount),
        rows.map((r) => r.compactedBy),
        rows.map((r) => r.createdAt),
        rows.map((r) => r.createdBy),
      ],
    );
    if (row?.refused) throw new LogNotEmptyError(sceneId);
    const head = toSeq(row?.head);
    if (rows.length > 0 && head === null) throw new Error(`import of scene ${sceneId}: its log head is missing (lock it with lockHead first)`);
    return { rows: Number(row?.rows ?? 0), head: head ?? 0n };
  }
}
