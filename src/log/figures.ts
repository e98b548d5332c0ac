import type { SqlExecutor } from '../db/sql.ts';
import { toSeq, type Numeric } from './rows.ts';

/** What compaction has done and what retention will free, read from the log itself. */
export interface CompactionFigures {
  /** When the newest compacted row was written; null when nothing was ever compacted. */
  lastRunAt: Date | null;
  /** Scenes with at least one compacted row. */
  scenesCompacted: number;
  /** Updates the compacted rows stand for. */
  updatesMerged: number;
  /** Rows compaction merged that retention has not deleted yet. */
  rowsAwaitingRetention: number;
  bytesAwaitingRetention: number;
}

/** A scene whose REST copy is behind its log (the snapshot job's work list). */
export interface SceneNeedingSnapshot {
  sceneId: string;
  snapshotSeq: bigint | null;
  latestSeq: bigint;
  snapshotAt: Date | null;
}

export interface SnapshotLagStats {
  /** Scenes with at least one stored update. */
  scenesWithUpdates: number;
  /** Scenes whose REST copy is older than their log. */
  scenesBehind: number;
  /** Of those, the ones whose snapshot is also older than the interval (or missing): the job's backlog. */
  scenesBehindThreshold: number;
  /** Scenes with updates whose REST copy was never derived from Yjs. */
  neverSnapshotted: number;
  /** Age in minutes of the oldest REST copy among scenes that are behind (0 when none is). */
  oldestLagMinutes: number;
  /** Mean snapshot age over scenes with updates that have one; null when none has. */
  avgSnapshotAgeMinutes: number | null;
}

/**
 * Figures across every scene's log, one statement each: what health reports, the snapshot job's
 * work list and the divergence sweep's order of scenes.
 *
 * Where a REST copy stands against its log is read from what the snapshot writer records on the
 * scene (`snapshot_seq`, the highest seq the copy was derived from, `snapshot_at`, `yjs_derived`);
 * the copy's content is none of the log's business.
 */
export class LogFigures {
  constructor(private readonly sql: SqlExecutor) {}

  /**
   * Compaction's figures. Bytes that compaction saved and retention already deleted are gone
   * without a trace, so only what retention will still free is known.
   */
  async compaction(): Promise<CompactionFigures> {
    // Per scene through the (scene_id, is_compacted, ...) and (scene_id, compacted_by, ...) indexes:
    // the log itself can hold millions of rows, and a health route must not scan them.
    const [row] = await this.sql.query<{
      last_run: Date | null;
      scenes_compacted: Numeric;
      updates_merged: Numeric | null;
      awaiting_retention: Numeric | null;
      awaiting_bytes: Numeric | null;
    }>(
      'log_figures_compaction',
      `SELECT max(c.last_run) AS last_run,
              count(*) FILTER (WHERE c.last_run IS NOT NULL) AS scenes_compacted,
              sum(c.updates_merged) AS updates_merged,
              sum(r.rows) AS awaiting_retention,
              sum(r.bytes) AS awaiting_bytes
       FROM scene_log_heads h
       CROSS JOIN LATERAL (
         SELECT max(v.created_at) AS last_run, sum(v.compacted_count) AS updates_merged
         FROM scene_versions v WHERE v.scene_id = h.scene_id AND v.is_compacted
       ) c
       CROSS JOIN LATERAL (
         SELECT count(*) AS rows, sum(octet_length(v.yjs_update)) AS bytes
         FROM scene_versions v WHERE v.scene_id = h.scene_id AND v.compacted_by IS NOT NULL
       ) r`,
      [],
    );
    return {
      lastRunAt: row?.last_run ?? null,
      scenesCompacted: Number(row?.scenes_compacted ?? 0),
      updatesMerged: Number(row?.updates_merged ?? 0),
      rowsAwaitingRetention: Number(row?.awaiting_retention ?? 0),
      bytesAwaitingRetention: Number(row?.awaiting_bytes ?? 0),
    };
  }

  /**
   * Scenes something was appended to, by id after `after`: the divergence sweep goes through them
   * a page at a time.
   */
  async scenesWithLog(after: string, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const rows = await this.sql.query<{ scene_id: string }>(
      'log_figures_scenes_with_log',
      `SELECT scene_id FROM scene_log_heads
       WHERE last_seq > 0 AND scene_id > $1::uuid
       ORDER BY scene_id
       LIMIT $2`,
      [after, limit],
    );
    return rows.map((row) => row.scene_id);
  }

  /**
   * Scenes with updates newer than their REST copy whose snapshot is older than `olderThan` (or
   * missing), those waiting longest first.
   */
  async scenesNeedingSnapshot(olderThan: Date, limit: number): Promise<SceneNeedingSnapshot[]> {
    const rows = await this.sql.query<{ scene_id: string; snapshot_seq: Numeric | null; last_seq: Numeric; snapshot_at: Date | null }>(
      'log_figures_scenes_needing_snapshot',
      `SELECT s.scene_id, s.snapshot_seq, h.last_seq, s.snapshot_at
       FROM scene_log_heads h
       JOIN scenes s ON s.scene_id = h.scene_id
       WHERE h.last_seq > 0
         AND (s.snapshot_seq IS NULL OR s.snapshot_seq < h.last_seq)
         AND (s.snapshot_at IS NULL OR s.snapshot_at < $1)
       ORDER BY s.snapshot_at ASC NULLS FIRST, s.scene_id
       LIMIT $2`,
      [olderThan, limit],
    );
    return rows.map((row) => ({
      sceneId: row.scene_id,
      snapshotSeq: toSeq(row.snapshot_seq),
      latestSeq: BigInt(row.last_seq),
      snapshotAt: row.snapshot_at,
    }));
  }

  /** How far the REST copies trail their logs; a copy older than `intervalMs` counts as overdue. */
  async snapshotLag(intervalMs: number): Promise<SnapshotLagStats> {
    // For a scene never snapshotted, its REST copy has been behind since its first update.
    const [row] = await this.sql.query<{
      with_updates: Numeric;
      behind: Numeric;
      behind_threshold: Numeric;
      never: Numeric;
      oldest_lag_seconds: number | null;
      avg_age_seconds: number | null;
    }>(
      'log_figures_snapshot_lag',
      `WITH scene_lag AS (
         SELECT s.snapshot_at, s.yjs_derived,
                (s.snapshot_seq IS NULL OR s.snapshot_seq < h.last_seq) AS behind,
                COALESCE(s.snapshot_at,
                         (SELECT min(v.created_at) FROM scene_versions v WHERE v.scene_id = s.scene_id)) AS behind_since
         FROM scene_log_heads h JOIN scenes s ON s.scene_id = h.scene_id
         WHERE h.last_seq > 0
       )
       SELECT count(*) AS with_updates,
              count(*) FILTER (WHERE behind) AS behind,
              count(*) FILTER (WHERE behind AND (snapshot_at IS NULL OR snapshot_at < now() - make_interval(secs => $1::float8))) AS behind_threshold,
              count(*) FILTER (WHERE snapshot_at IS NULL OR NOT yjs_derived) AS never,
              EXTRACT(EPOCH FROM (now() - min(behind_since) FILTER (WHERE behind)))::float8 AS oldest_lag_seconds,
              EXTRACT(EPOCH FROM avg(now() - snapshot_at) FILTER (WHERE snapshot_at IS NOT NULL))::float8 AS avg_age_seconds
       FROM scene_lag`,
      [intervalMs / 1000],
    );
    return {
      scenesWithUpdates: Number(row?.with_updates ?? 0),
      scenesBehind: Number(row?.behind ?? 0),
      scenesBehindThreshold: Number(row?.behind_threshold ?? 0),
      neverSnapshotted: Number(row?.never ?? 0),
      oldestLagMinutes: Math.max(0, Number(row?.oldest_lag_seconds ?? 0) / 60),
      avgSnapshotAgeMinutes: row?.avg_age_seconds == null ? null : Math.max(0, Number(row.avg_age_seconds) / 60),
    };
  }
}
