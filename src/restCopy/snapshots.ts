import { performance } from 'node:perf_hooks';
import { SceneNotFoundError } from '../errors.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { checksumBlocks, ScreenplayConversionError, type CanonicalRestBlock } from '../screenplay/index.ts';
import { deriveFromLog, type DerivedScene } from '../scenes/sceneState.ts';

/** The Yjs state cannot be turned into REST blocks without loss; the REST copy is left alone. */
export class SnapshotConversionError extends Error {
  readonly code = 'YJS_CONTENT_UNCONVERTIBLE';
  constructor(
    readonly sceneId: string,
    cause: ScreenplayConversionError,
  ) {
    super(`Scene ${sceneId}: the Yjs state cannot be converted to REST blocks (${cause.code}: ${cause.message})`, { cause });
    this.name = 'SnapshotConversionError';
  }
}

/** Who asked for a snapshot, recorded in `scene_snapshot_metadata.snapshot_source`. */
export type SnapshotTrigger = 'yjs' | 'manual' | 'compacted';

export interface SnapshotOptions {
  /** `users.user_id` of the person who asked (manual snapshots); null for the background job. */
  createdBy?: string | null;
  trigger?: SnapshotTrigger;
  /**
   * Also rewrite a REST copy that claims the same sequence number (a repair of a copy modified
   * behind the snapshot's back). Never lets an older state replace a newer one.
   */
  allowSameSeq?: boolean;
}

export interface WrittenSnapshot {
  status: 'written';
  sceneId: string;
  snapshotId: string;
  createdAt: Date;
  seq: bigint;
  latestVersionId: string;
  updateCount: number;
  checksum: string;
  generationTimeMs: number;
  sizeBytes: number;
  blocks: CanonicalRestBlock[];
}

export type SnapshotOutcome =
  | WrittenSnapshot
  /** A snapshot of the same or a newer state was already there; nothing was written. */
  | { status: 'superseded'; sceneId: string; seq: bigint; currentSeq: bigint | null }
  /** The scene has no Yjs log: its REST copy is still the source, there is nothing to derive. */
  | { status: 'no_versions'; sceneId: string };

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

export interface SnapshotServiceConfiguration {
  prisma: PrismaClient;
  sceneLog: SceneLog;
  metrics: Metrics;
  logger: Logger;
  /** A snapshot younger than this is recent: the HTTP route refuses to replace it without `force`. */
  intervalMs: number;
}

/**
 * Builds a scene's REST copy (`scenes.content_blocks`) from its Yjs log, section 4.3 / 6.3.
 *
 * The write is guarded by `snapshot_seq`: a snapshot derived from log state N replaces the copy
 * only when the copy was derived from less than N. Two writers racing (the background job and a
 * manual snapshot, or two instances) can therefore finish in any order and the REST copy still
 * never goes back to an older state. The metadata row is inserted by the same statement, so it
 * exists exactly when the copy was written.
 */
export class SnapshotService {
  private readonly configuration: SnapshotServiceConfiguration;

  constructor(configuration: SnapshotServiceConfiguration) {
    this.configuration = { ...configuration };
  }

  get intervalMs(): number {
    return this.configuration.intervalMs;
  }

  /** Replays the log and writes the REST copy if it is newer than the stored one. */
  async snapshotScene(sceneId: string, options: SnapshotOptions = {}): Promise<SnapshotOutcome> {
    const { prisma, sceneLog } = this.configuration;
    const started = performance.now();
    let derived: DerivedScene | null;
    try {
      derived = await deriveFromLog(prisma, sceneLog, sceneId);
    } catch (error) {
      if (error instanceof ScreenplayConversionError) throw new SnapshotConversionError(sceneId, error);
      throw error;
    }
    if (derived === null) {
      if (!(await this.sceneExists(sceneId))) throw new SceneNotFoundError(sceneId);
      return { status: 'no_versions', sceneId };
    }
    return this.writeSnapshot(sceneId, derived, { ...options, startedAt: started });
  }

  /**
   * The guarded write on its own, for callers that already derived the scene (and for tests that
   * race two writers with states they choose).
   */
  async writeSnapshot(
    sceneId: string,
    derived: DerivedScene,
    options: SnapshotOptions & { startedAt?: number } = {},
  ): Promise<SnapshotOutcome> {
    const { prisma, logger } = this.configuration;
    const json = JSON.stringify(derived.blocks);
    const checksum = checksumBlocks(derived.blocks);
    const sizeBytes = Buffer.byteLength(json, 'utf8');
    const trigger = options.trigger ?? 'yjs';
    const allowSameSeq = options.allowSameSeq ?? false;
    const generationTimeMs = Math.round(performance.now() - (options.startedAt ?? performance.now()));
    // Unknown author or a version row deleted meanwhile (retention) become NULL instead of failing
    // the foreign key: the snapshot itself is still right.
    const rows = await prisma.$queryRaw<Array<{ snapshot_id: string; created_at: Date }>>`
      WITH updated AS (
        UPDATE scenes
        SET content_blocks = ${json}::jsonb,
            snapshot_source = 'yjs',
            snapshot_at = now(),
            yjs_derived = true,
            yjs_checksum = ${checksum},
            snapshot_seq = ${derived.seq},
            updated_at = now()
        WHERE scene_id = ${sceneId}::uuid
          AND (snapshot_seq IS NULL OR snapshot_seq < ${derived.seq} OR (${allowSameSeq} AND snapshot_seq = ${derived.seq}))
        RETURNING scene_id, snapshot_at
      )
      INSERT INTO scene_snapshot_metadata (
        scene_id, snapshot_source, created_at, created_by, yjs_version_count, yjs_latest_version_id,
        yjs_latest_seq, yjs_checksum, generation_time_ms, snapshot_size_bytes)
      SELECT updated.scene_id, ${trigger}::"SnapshotSource", updated.snapshot_at,
             (SELECT user_id FROM users WHERE user_id = ${options.createdBy ?? null}::uuid),
             ${derived.updateCount}::int,
             (SELECT version_id FROM scene_versions WHERE version_id = ${derived.latestVersionId}::uuid),
             ${derived.seq}, ${checksum}, ${generationTimeMs}::int, ${sizeBytes}::int
      FROM updated
      RETURNING snapshot_id, created_at`;
    if (rows.length === 0) {
      const current = await prisma.$queryRaw<Array<{ snapshot_seq: bigint | null }>>`
        SELECT snapshot_seq FROM scenes WHERE scene_id = ${sceneId}::uuid`;
      if (current.length === 0) throw new SceneNotFoundError(sceneId);
      const currentSeq = current[0]!.snapshot_seq == null ? null : BigInt(current[0]!.snapshot_seq);
      logger.debug({ sceneId, seq: derived.seq.toString(), currentSeq: currentSeq?.toString() }, 'snapshot superseded by a newer one');
      return { status: 'superseded', sceneId, seq: derived.seq, currentSeq };
    }
    const row = rows[0]!;
    logger.debug({ sceneId, seq: derived.seq.toString(), sizeBytes, generationTimeMs }, 'snapshot written');
    return {
      status: 'written',
      sceneId,
      snapshotId: row.snapshot_id,
      createdAt: row.created_at,
      seq: derived.seq,
      latestVersionId: derived.latestVersionId,
      updateCount: derived.updateCount,
      checksum,
      generationTimeMs,
      sizeBytes,
      blocks: derived.blocks,
    };
  }

  /** When the scene's REST copy was last written by a snapshot (null: never). Throws for an unknown scene. */
  async lastSnapshotAt(sceneId: string): Promise<Date | null> {
    const rows = await this.configuration.prisma.$queryRaw<Array<{ snapshot_at: Date | null }>>`
      SELECT snapshot_at FROM scenes WHERE scene_id = ${sceneId}::uuid`;
    if (rows.length === 0) throw new SceneNotFoundError(sceneId);
    return rows[0]!.snapshot_at;
  }

  /**
   * The background job's work list (section 6.3): scenes with updates newer than their REST copy
   * whose snapshot is older than `olderThan` (or missing), those waiting longest first. A scene
   * whose copy is already current is skipped however old it is: rewriting it would change nothing.
   */
  async scenesNeedingSnapshot(olderThan: Date, limit = 100): Promise<SceneNeedingSnapshot[]> {
    const rows = await this.configuration.prisma.$queryRaw<
      Array<{ scene_id: string; snapshot_seq: bigint | null; last_seq: bigint; snapshot_at: Date | null }>
    >`
      SELECT s.scene_id, s.snapshot_seq, h.last_seq, s.snapshot_at
      FROM scene_log_heads h
      JOIN scenes s ON s.scene_id = h.scene_id
      WHERE h.last_seq > 0
        AND (s.snapshot_seq IS NULL OR s.snapshot_seq < h.last_seq)
        AND (s.snapshot_at IS NULL OR s.snapshot_at < ${olderThan})
      ORDER BY s.snapshot_at ASC NULLS FIRST, s.scene_id
      LIMIT ${limit}::int`;
    return rows.map((row) => ({
      sceneId: row.scene_id,
      snapshotSeq: row.snapshot_seq == null ? null : BigInt(row.snapshot_seq),
      latestSeq: BigInt(row.last_seq),
      snapshotAt: row.snapshot_at,
    }));
  }

  /** Snapshot lag across all scenes; also sets the `snapshot_lag_minutes` gauge. */
  async lagStats(): Promise<SnapshotLagStats> {
    const { prisma, metrics, intervalMs } = this.configuration;
    // For a scene never snapshotted, its REST copy has been behind since its first update.
    const [row] = await prisma.$queryRaw<
      Array<{
        with_updates: bigint;
        behind: bigint;
        behind_threshold: bigint;
        never: bigint;
        oldest_lag_seconds: number | null;
        avg_age_seconds: number | null;
      }>
    >`
      WITH scene_lag AS (
        SELECT s.snapshot_at, s.yjs_derived,
               (s.snapshot_seq IS NULL OR s.snapshot_seq < h.last_seq) AS behind,
               COALESCE(s.snapshot_at,
                        (SELECT min(v.created_at) FROM scene_versions v WHERE v.scene_id = s.scene_id)) AS behind_since
        FROM scene_log_heads h JOIN scenes s ON s.scene_id = h.scene_id
        WHERE h.last_seq > 0
      )
      SELECT count(*) AS with_updates,
             count(*) FILTER (WHERE behind) AS behind,
             count(*) FILTER (WHERE behind AND (snapshot_at IS NULL OR snapshot_at < now() - make_interval(secs => ${intervalMs / 1000}))) AS behind_threshold,
             count(*) FILTER (WHERE snapshot_at IS NULL OR NOT yjs_derived) AS never,
             EXTRACT(EPOCH FROM (now() - min(behind_since) FILTER (WHERE behind)))::float8 AS oldest_lag_seconds,
             EXTRACT(EPOCH FROM avg(now() - snapshot_at) FILTER (WHERE snapshot_at IS NOT NULL))::float8 AS avg_age_seconds
      FROM scene_lag`;
    const oldestLagMinutes = Math.max(0, Number(row?.oldest_lag_seconds ?? 0) / 60);
    metrics.snapshotLagMinutes.set(oldestLagMinutes);
    return {
      scenesWithUpdates: Number(row?.with_updates ?? 0),
      scenesBehind: Number(row?.behind ?? 0),
      scenesBehindThreshold: Number(row?.behind_threshold ?? 0),
      neverSnapshotted: Number(row?.never ?? 0),
      oldestLagMinutes,
      avgSnapshotAgeMinutes: row?.avg_age_seconds == null ? null : Math.max(0, Number(row.avg_age_seconds) / 60),
    };
  }

  private async sceneExists(sceneId: string): Promise<boolean> {
    const rows = await this.configuration.prisma.$queryRaw<Array<{ one: number }>>`
      SELECT 1 AS one FROM scenes WHERE scene_id = ${sceneId}::uuid`;
    return rows.length > 0;
  }
}
