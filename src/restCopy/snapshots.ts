import { performance } from 'node:perf_hooks';
import { SceneNotFoundError } from '../errors.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { SceneNeedingSnapshot, SnapshotLagStats } from '../log/figures.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { checksumBlocks, ScreenplayConversionError, type CanonicalRestBlock } from '../screenplay/index.ts';
import { deriveFromLog, type DerivedScene } from '../scenes/sceneState.ts';
import { inlineYjsWork, type YjsWork } from '../workers/pool.ts';

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

/** Where a newest-first listing of snapshot rows stands: the instant in microseconds, then the id. */
export interface SnapshotListingPosition {
  atMicros: bigint;
  snapshotId: string;
}

/** One `scene_snapshot_metadata` row (`SnapshotService.snapshotHistory`). */
export interface SnapshotRecord {
  snapshotId: string;
  createdAt: Date;
  source: string;
  createdBy: string | null;
  yjsVersionCount: number;
  latestVersionId: string | null;
  latestSeq: bigint | null;
  checksum: string;
  generationTimeMs: number | null;
  sizeBytes: number | null;
  position: SnapshotListingPosition;
}

interface SnapshotRecordRow {
  snapshot_id: string;
  created_at: Date;
  snapshot_source: string;
  created_by: string | null;
  yjs_version_count: number | bigint;
  yjs_latest_version_id: string | null;
  yjs_latest_seq: bigint | number | string | null;
  yjs_checksum: string;
  generation_time_ms: number | null;
  snapshot_size_bytes: number | null;
  at_micros: bigint | number | string;
}

/** `derived.blocks` serialised (`JSON.stringify`) and hashed (`checksumBlocks`) already. */
export interface EncodedBlocks {
  json: string;
  checksum: string;
}

export interface SnapshotServiceConfiguration {
  prisma: PrismaClient;
  sceneLog: SceneLog;
  metrics: Metrics;
  logger: Logger;
  /** A snapshot younger than this is recent: the HTTP route refuses to replace it without `force`. */
  intervalMs: number;
  /** Where the log is replayed and converted (the server's worker pool); default: this thread. */
  work?: YjsWork;
}

/**
 * Builds a scene's REST copy (`scenes.content_blocks`) from its Yjs log, section 4.3 / 6.3.
 *
 * The write is guarded by `snapshot_seq`: a snapshot derived from log state N replaces the copy
 * only when the copy was derived from less than N. Two writers racing (the background job and a
 * manual snapshot, or two instances) can therefore finish in any order and the REST copy still
 * never goes back to an older state. The metadata row is inserted in the same transaction, so it
 * exists exactly when the copy was written.
 */
export class SnapshotService {
  private readonly configuration: Required<SnapshotServiceConfiguration>;

  constructor(configuration: SnapshotServiceConfiguration) {
    this.configuration = { ...configuration, work: configuration.work ?? inlineYjsWork };
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
      derived = await deriveFromLog(sceneLog, sceneId, this.configuration.work);
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
    options: SnapshotOptions & { startedAt?: number; encoded?: EncodedBlocks } = {},
  ): Promise<SnapshotOutcome> {
    const { prisma, sceneLog, logger } = this.configuration;
    // `encoded` comes from where the blocks were made (a worker thread), so that a scene's JSON and
    // hash need not be computed again on the thread serving editors.
    const json = options.encoded?.json ?? JSON.stringify(derived.blocks);
    const checksum = options.encoded?.checksum ?? checksumBlocks(derived.blocks);
    const sizeBytes = Buffer.byteLength(json, 'utf8');
    const trigger = options.trigger ?? 'yjs';
    const allowSameSeq = options.allowSameSeq ?? false;
    const generationTimeMs = Math.round(performance.now() - (options.startedAt ?? performance.now()));
    const rows = await prisma.$transaction(async (tx) => {
      // A copy derived from the log (the scheduled job, the follower) that a crash loses is derived
      // again by the next pass, so its commit need not wait for the WAL flush, and the editors'
      // commits do not queue behind 120 of them in a pass. It is still all or nothing.
      if (trigger === 'yjs') await tx.$executeRaw`SET LOCAL synchronous_commit TO off`;
      // The scene row first (the lock order of `SceneLog`), then the log row the metadata names.
      // `now()` is the transaction's start, so the metadata's time is the copy's `snapshot_at`.
      const updated = await tx.$queryRaw<Array<{ scene_id: string }>>`
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
        RETURNING scene_id`;
      if (updated.length === 0) return [];
      // Retention or clear-yjs may have deleted the newest row read since; the snapshot itself is
      // still right, so the reference is left empty, as an unknown author is, instead of failing
      // the foreign key.
      const latestVersionId = (await sceneLog.withTransaction(tx).holdRow(derived.latestVersionId)) ? derived.latestVersionId : null;
      return tx.$queryRaw<Array<{ snapshot_id: string; created_at: Date }>>`
        INSERT INTO scene_snapshot_metadata (
          scene_id, snapshot_source, created_at, created_by, yjs_version_count, yjs_latest_version_id,
          yjs_latest_seq, yjs_checksum, generation_time_ms, snapshot_size_bytes)
        VALUES (${sceneId}::uuid, ${trigger}::"SnapshotSource", now(),
                (SELECT user_id FROM users WHERE user_id = ${options.createdBy ?? null}::uuid),
                ${derived.updateCount}::int, ${latestVersionId}::uuid,
                ${derived.seq}, ${checksum}, ${generationTimeMs}::int, ${sizeBytes}::int)
        RETURNING snapshot_id, created_at`;
    });
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

  /**
   * The sequence number the scene's REST copy was derived from (null: none, or an unknown scene): a
   * cheap look before deriving one that could only be superseded.
   */
  async snapshotSeq(sceneId: string): Promise<bigint | null> {
    const rows = await this.configuration.prisma.$queryRaw<Array<{ snapshot_seq: bigint | number | string | null }>>`
      SELECT snapshot_seq FROM scenes WHERE scene_id = ${sceneId}::uuid`;
    const seq = rows[0]?.snapshot_seq;
    return seq == null ? null : BigInt(seq);
  }

  /** When the scene's REST copy was last written by a snapshot (null: never). Throws for an unknown scene. */
  async lastSnapshotAt(sceneId: string): Promise<Date | null> {
    const rows = await this.configuration.prisma.$queryRaw<Array<{ snapshot_at: Date | null }>>`
      SELECT snapshot_at FROM scenes WHERE scene_id = ${sceneId}::uuid`;
    if (rows.length === 0) throw new SceneNotFoundError(sceneId);
    return rows[0]!.snapshot_at;
  }

  /**
   * The scene's `scene_snapshot_metadata` rows newest first (architecture document 13.3), a page
   * after `after` (keyset on the instant in microseconds and the id, through the
   * (scene_id, created_at DESC) index).
   */
  async snapshotHistory(sceneId: string, after: SnapshotListingPosition | null, limit: number): Promise<SnapshotRecord[]> {
    const rows = await this.configuration.prisma.$queryRaw<SnapshotRecordRow[]>`
      SELECT snapshot_id, created_at, snapshot_source::text AS snapshot_source, created_by, yjs_version_count,
             yjs_latest_version_id, yjs_latest_seq, yjs_checksum, generation_time_ms, snapshot_size_bytes,
             (extract(epoch FROM created_at) * 1000000)::bigint AS at_micros
      FROM scene_snapshot_metadata
      WHERE scene_id = ${sceneId}::uuid
        AND (${after?.atMicros.toString() ?? null}::bigint IS NULL
             OR (created_at, snapshot_id) < (timestamptz 'epoch' + ${after?.atMicros.toString() ?? null}::bigint * interval '1 microsecond',
                                            ${after?.snapshotId ?? null}::uuid))
      ORDER BY created_at DESC, snapshot_id DESC
      LIMIT ${limit}::int`;
    return rows.map((row) => ({
      snapshotId: row.snapshot_id,
      createdAt: row.created_at,
      source: row.snapshot_source,
      createdBy: row.created_by,
      yjsVersionCount: Number(row.yjs_version_count),
      latestVersionId: row.yjs_latest_version_id,
      latestSeq: row.yjs_latest_seq == null ? null : BigInt(row.yjs_latest_seq),
      checksum: row.yjs_checksum,
      generationTimeMs: row.generation_time_ms == null ? null : Number(row.generation_time_ms),
      sizeBytes: row.snapshot_size_bytes == null ? null : Number(row.snapshot_size_bytes),
      position: { atMicros: BigInt(row.at_micros), snapshotId: row.snapshot_id },
    }));
  }

  /**
   * The background job's work list (section 6.3): scenes with updates newer than their REST copy
   * whose snapshot is older than `olderThan` (or missing), those waiting longest first. A scene
   * whose copy is already current is skipped however old it is: rewriting it would change nothing.
   */
  async scenesNeedingSnapshot(olderThan: Date, limit = 100): Promise<SceneNeedingSnapshot[]> {
    return this.configuration.sceneLog.figures.scenesNeedingSnapshot(olderThan, limit);
  }

  /** Snapshot lag across all scenes; also sets the `snapshot_lag_minutes` gauge. */
  async lagStats(): Promise<SnapshotLagStats> {
    const { sceneLog, metrics, intervalMs } = this.configuration;
    const stats = await sceneLog.figures.snapshotLag(intervalMs);
    metrics.snapshotLagMinutes.set(stats.oldestLagMinutes);
    return stats;
  }

  private async sceneExists(sceneId: string): Promise<boolean> {
    const rows = await this.configuration.prisma.$queryRaw<Array<{ one: number }>>`
      SELECT 1 AS one FROM scenes WHERE scene_id = ${sceneId}::uuid`;
    return rows.length > 0;
  }
}
