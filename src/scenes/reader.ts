import { performance } from 'node:perf_hooks';
import type * as Y from 'yjs';
import { mapWithConcurrency } from '../concurrency.ts';
import { SceneNotFoundError } from '../errors.ts';
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';
import type { LogHead, SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import {
  checksumBlocks,
  InvalidRestBlocksError,
  parseRestBlocks,
  restBlockFromParsed,
  ScreenplayConversionError,
  type CanonicalRestBlock,
} from '../screenplay/index.ts';
import { snapshotFreshness, type FreshnessThresholds, type SnapshotFreshness } from './freshness.ts';
import { inlineYjsWork, type YjsWork } from '../workers/pool.ts';
import { sceneLifecycle, type SceneLifecycleState } from './lifecycle.ts';
import { deriveAt, deriveFromLiveDocument, deriveFromLog, type DerivedScene, type HistoricScene } from './sceneState.ts';

/** Where a scene's content came from on this read. */
export type ContentOrigin =
  /** The stored REST copy, current with the log (`snapshot_seq` equals the log's latest seq). */
  | 'snapshot'
  /** The in-memory document of this instance, checked against the newest rows of the log. */
  | 'live_document'
  /** A replay of the log. */
  | 'replay'
  /** The REST copy of a scene without a Yjs log (or whose Yjs state could not be read). */
  | 'rest_copy';

export interface SceneView {
  sceneId: string;
  scriptId: string;
  position: number;
  sceneHeading: string | null;
  version: number;
  blocks: unknown[];
  /** `yjs` when derived from the log; otherwise the REST copy's own `snapshot_source`. */
  source: string;
  origin: ContentOrigin;
  /** Every update up to this sequence number is in `blocks`; null for a scene without a Yjs log. */
  seq: bigint | null;
  updateCount: number;
  snapshotAt: Date | null;
  snapshotSeq: bigint | null;
  freshness: SnapshotFreshness;
  lastModified: Date;
  /** Why the Yjs state was not used although the scene has one (the REST copy was served instead). */
  yjsError: string | null;
  /** Where the scene is in section 8.1's lifecycle (src/scenes/lifecycle.ts). */
  lifecycle: SceneLifecycleState;
}

export interface SceneReaderConfiguration {
  prisma: PrismaClient;
  sceneLog: SceneLog;
  metrics: Metrics;
  logger: Logger;
  /** The scene's document if it is loaded on this instance (Hocuspocus's `documents`). */
  liveDocument: (sceneId: string) => Y.Doc | undefined;
  /** Scenes derived at the same time; each replay is CPU-bound, so a few at once is enough. */
  concurrency: number;
  /** Where replays and conversions run (the server's worker pool); default: this thread. */
  work: YjsWork;
  /** How a snapshot's age reads (`config.snapshots.freshness`). */
  freshness: FreshnessThresholds;
  now: () => Date;
}

const defaults = { concurrency: 4, now: () => new Date(), work: inlineYjsWork };

/** A `scenes` row, with the metadata of the snapshot that wrote its copy. */
interface SceneRow {
  scene_id: string;
  script_id: string;
  position: number;
  scene_heading: string | null;
  content_blocks: unknown;
  version: number;
  snapshot_source: string;
  snapshot_at: Date | null;
  yjs_derived: boolean;
  yjs_checksum: string | null;
  snapshot_seq: bigint | null;
  updated_at: Date;
  snapshot_update_count: number | null;
  snapshot_latest_version_id: string | null;
}

/** A scene's row and where its log stands. */
interface SceneFacts {
  row: SceneRow;
  head: LogHead;
  /** When the newest row the snapshot read was written; null when unknown (no snapshot, or the row was deleted). */
  snapshotLatestAt: Date | null;
  lifecycle: SceneLifecycleState;
}

/**
 * Reads scenes for the HTTP API (section 6.2): content from the Yjs log when the scene has one,
 * else the REST copy. Listing a long script must not replay every log, so each scene takes the
 * cheapest source that is provably up to date: the stored snapshot when it is current and intact,
 * then a document loaded on this instance, and only then a replay.
 */
export class SceneReader {
  private readonly configuration: SceneReaderConfiguration;

  constructor(configuration: Omit<SceneReaderConfiguration, keyof typeof defaults> & Partial<Pick<SceneReaderConfiguration, keyof typeof defaults>>) {
    this.configuration = { ...defaults, ...configuration };
  }

  /**
   * Every live scene of the script by position (deleted ones are left out); an unknown script
   * yields an empty list (the caller checked access).
   */
  async scenesOfScript(scriptId: string): Promise<SceneView[]> {
    const scenes = await this.sceneFacts(Prisma.sql`s.script_id = ${scriptId}::uuid AND s.deleted_at IS NULL`);
    return mapWithConcurrency(scenes, this.configuration.concurrency, (scene) => this.view(scene));
  }

  async scene(sceneId: string): Promise<SceneView> {
    const [scene] = await this.sceneFacts(Prisma.sql`s.scene_id = ${sceneId}::uuid`);
    if (!scene) throw new SceneNotFoundError(sceneId);
    return this.view(scene);
  }

  /** The scene as it was at `at`, from the retained original rows of the log. */
  async sceneAt(sceneId: string, at: Date): Promise<HistoricScene> {
    return deriveAt(this.configuration.sceneLog, sceneId, at, this.configuration.work);
  }

  /**
   * The scenes, then the heads of all their logs in one statement: the same round trips for one
   * scene or a hundred. The order matters: a head read after the copy can only be newer, so a copy
   * it calls current was current when it was read.
   */
  private async sceneFacts(where: Prisma.Sql): Promise<SceneFacts[]> {
    const { prisma, sceneLog } = this.configuration;
    // The snapshot metadata row matching the stored copy gives its update count and its newest
    // update, so a current snapshot needs no replay.
    const rows = await prisma.$queryRaw<SceneRow[]>`
      SELECT s.scene_id, s.script_id, s.position, s.scene_heading, s.content_blocks, s.version,
             s.snapshot_source::text AS snapshot_source, s.snapshot_at, s.yjs_derived, s.yjs_checksum,
             s.snapshot_seq, s.updated_at,
             m.yjs_version_count AS snapshot_update_count, m.yjs_latest_version_id AS snapshot_latest_version_id
      FROM scenes s
      LEFT JOIN LATERAL (
        SELECT md.yjs_version_count, md.yjs_latest_version_id
        FROM scene_snapshot_metadata md
        WHERE md.scene_id = s.scene_id AND md.yjs_latest_seq = s.snapshot_seq
        ORDER BY md.created_at DESC
        LIMIT 1
      ) m ON true
      WHERE ${where}
      ORDER BY s.position, s.scene_id`;
    const [heads, createdAt, lifecycles] = await Promise.all([
      sceneLog.heads(rows.map((row) => row.scene_id)),
      sceneLog.createdAt(rows.flatMap((row) => (row.snapshot_latest_version_id === null ? [] : [row.snapshot_latest_version_id]))),
      sceneLog.lifecycle.factsOf(rows.map((row) => row.scene_id)),
    ]);
    return rows.map((row) => {
      const facts = lifecycles.get(row.scene_id);
      return {
        row,
        head: heads.get(row.scene_id)!,
        snapshotLatestAt: row.snapshot_latest_version_id === null ? null : (createdAt.get(row.snapshot_latest_version_id) ?? null),
        // A scene deleted between the two reads has no facts: it had a row a moment ago, and no log is implied.
        lifecycle: facts ? sceneLifecycle(facts) : 'CREATED',
      };
    });
  }

  private async view({ row, head, snapshotLatestAt, lifecycle }: SceneFacts): Promise<SceneView> {
    const { now, freshness } = this.configuration;
    const snapshotSeq = row.snapshot_seq == null ? null : BigInt(row.snapshot_seq);
    const base = {
      lifecycle,
      sceneId: row.scene_id,
      scriptId: row.script_id,
      position: row.position,
      sceneHeading: row.scene_heading,
      version: row.version,
      snapshotAt: row.snapshot_at,
      snapshotSeq,
      freshness: snapshotFreshness(row.snapshot_at, now(), freshness),
    };
    const restCopy = (yjsError: string | null): SceneView => ({
      ...base,
      blocks: Array.isArray(row.content_blocks) ? row.content_blocks : [],
      source: row.snapshot_source,
      origin: 'rest_copy',
      seq: null,
      updateCount: 0,
      lastModified: row.updated_at,
      yjsError,
    });

    if (!head.hasUpdates) return restCopy(null);

    const snapshotBlocks = currentSnapshotBlocks(row, snapshotSeq, head.lastSeq);
    if (snapshotBlocks !== null) {
      const updateCount = row.snapshot_update_count ?? (await this.configuration.sceneLog.counts(row.scene_id)).updates;
      return {
        ...base,
        blocks: snapshotBlocks,
        source: 'yjs',
        origin: 'snapshot',
        seq: snapshotSeq,
        updateCount,
        lastModified: snapshotLatestAt ?? row.snapshot_at ?? row.updated_at,
        yjsError: null,
      };
    }

    try {
      const { derived, origin } = await this.derive(row.scene_id);
      if (derived === null) return restCopy(null);
      return {
        ...base,
        blocks: derived.blocks,
        source: 'yjs',
        origin,
        seq: derived.seq,
        updateCount: derived.updateCount,
        lastModified: derived.lastModifiedAt,
        yjsError: null,
      };
    } catch (error) {
      if (!(error instanceof ScreenplayConversionError)) throw error;
      // Graceful degradation (section 3.4): a scene whose Yjs state cannot be shown losslessly is
      // served from its REST copy, and says so, rather than failing the whole script's list.
      this.configuration.logger.error({ err: error, sceneId: row.scene_id }, 'Yjs state not convertible; served the REST copy');
      return restCopy(`${error.code}: ${error.message}`);
    }
  }

  private async derive(sceneId: string): Promise<{ derived: DerivedScene | null; origin: ContentOrigin }> {
    const { sceneLog, metrics, liveDocument, work } = this.configuration;
    const live = liveDocument(sceneId);
    if (live) {
      const derived = await deriveFromLiveDocument(sceneLog, sceneId, live, work);
      if (derived) return { derived, origin: 'live_document' };
    }
    const started = performance.now();
    const derived = await deriveFromLog(sceneLog, sceneId, this.configuration.work);
    metrics.sceneLoadTime.observe((performance.now() - started) / 1000);
    return { derived, origin: 'replay' };
  }
}

/**
 * The stored copy, in the converters' output form, when it may stand in for the log: derived from
 * the log's latest state and still what the snapshot wrote. The checksum catches a copy rewritten
 * behind the snapshot's back (the divergence detector reports those), which must never be served
 * as the Yjs state. Null when the log has to be read instead.
 */
function currentSnapshotBlocks(row: SceneRow, snapshotSeq: bigint | null, lastSeq: bigint | null): CanonicalRestBlock[] | null {
  if (!row.yjs_derived || snapshotSeq === null || lastSeq === null || row.yjs_checksum === null) return null;
  if (snapshotSeq < lastSeq) return null;
  try {
    if (checksumBlocks(row.content_blocks) !== row.yjs_checksum) return null;
    // A copy written by seeding keeps the REST client's key order and `null`s; readers get the same
    // shape whichever path served the scene.
    return parseRestBlocks(row.content_blocks).map(restBlockFromParsed);
  } catch (error) {
    if (error instanceof InvalidRestBlocksError) return null;
    throw error;
  }
}
