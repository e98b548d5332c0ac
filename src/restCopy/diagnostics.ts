// The state of every scene's Yjs log next to its REST copy (reliability plan 1.1), for the
// `diagnose` job: which scenes have updates, whose REST copy is newer than their newest update,
// and which have REST content but no updates at all.
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { SceneLog } from '../log/sceneLog.ts';

export interface SceneWithUpdates {
  sceneId: string;
  scriptId: string;
  scriptTitle: string;
  position: number;
  /** Every stored row, including rows compaction merged that retention has not deleted yet. */
  storedRows: number;
  /** Rows a load replays. */
  liveRows: number;
  firstUpdateAt: Date;
  lastUpdateAt: Date;
  latestSeq: bigint;
  restUpdatedAt: Date;
  snapshotSource: string;
  snapshotSeq: bigint | null;
  seededAt: Date | null;
  /**
   * The REST copy was derived from the log's latest state (a snapshot or a seed at the newest seq):
   * its `updated_at` being later than the newest update is then the snapshot's own write.
   */
  restDerivedFromLog: boolean;
  /** REST_NEWER: the REST copy changed after the newest update and is not derived from it. */
  state: 'REST_NEWER' | 'YJS_CURRENT';
}

export interface SceneWithoutUpdates {
  sceneId: string;
  scriptId: string;
  scriptTitle: string;
  position: number;
  /** Blocks in `content_blocks`; null when it is not an array (invalid, never seeded). */
  restBlocks: number | null;
  restUpdatedAt: Date;
  /** Set while there are no rows: the log was lost after seeding (the loader reports corruption). */
  seededAt: Date | null;
}

export interface Diagnosis {
  scenesWithUpdates: SceneWithUpdates[];
  restNewer: SceneWithUpdates[];
  restWithoutUpdates: SceneWithoutUpdates[];
}

interface SceneRow {
  scene_id: string;
  script_id: string;
  title: string;
  position: number;
  rest_blocks: number | null;
  rest_updated_at: Date;
  snapshot_source: string;
  snapshot_seq: bigint | string | null;
  yjs_seeded_at: Date | null;
}

/** A REST copy whose `snapshot_seq` covers the newest update was written from the log itself. */
export function classifySceneState(row: { restUpdatedAt: Date; lastUpdateAt: Date; latestSeq: bigint; snapshotSeq: bigint | null }): {
  restDerivedFromLog: boolean;
  state: 'REST_NEWER' | 'YJS_CURRENT';
} {
  const restDerivedFromLog = row.snapshotSeq !== null && row.snapshotSeq >= row.latestSeq;
  const state = row.restUpdatedAt > row.lastUpdateAt && !restDerivedFromLog ? 'REST_NEWER' : 'YJS_CURRENT';
  return { restDerivedFromLog, state };
}

/**
 * The scenes (of one script, or all), then the log counts of all of them in one statement; the
 * report is put together from the two.
 */
export async function diagnoseScenes(prisma: PrismaClient, sceneLog: SceneLog, options: { scriptId?: string } = {}): Promise<Diagnosis> {
  const scriptId = options.scriptId ?? null;
  // jsonb_array_length fails on a non-array, and SQL does not promise evaluation order: CASE does.
  const scenes = await prisma.$queryRaw<SceneRow[]>`
    SELECT s.scene_id, s.script_id, sc.title, s.position,
           CASE WHEN jsonb_typeof(s.content_blocks) = 'array' THEN jsonb_array_length(s.content_blocks) END AS rest_blocks,
           s.updated_at AS rest_updated_at,
           s.snapshot_source::text AS snapshot_source,
           s.snapshot_seq,
           s.yjs_seeded_at
    FROM scenes s
    JOIN scripts sc ON sc.script_id = s.script_id
    WHERE ${scriptId}::uuid IS NULL OR s.script_id = ${scriptId}::uuid
    ORDER BY sc.title, s.script_id, s.position, s.scene_id`;
  const counts = await sceneLog.countsOf(scenes.map((scene) => scene.scene_id));

  // The report lists the longest logs first.
  const withUpdates = scenes
    .flatMap((row) => {
      const log = counts.get(row.scene_id);
      return log ? [{ row, log }] : [];
    })
    .sort((a, b) => b.log.stored - a.log.stored || (a.row.scene_id < b.row.scene_id ? -1 : a.row.scene_id > b.row.scene_id ? 1 : 0));
  const withoutUpdates = scenes.filter((row) => !counts.has(row.scene_id) && (row.rest_blocks === null || Number(row.rest_blocks) > 0));

  const scenesWithUpdates = withUpdates.map(({ row, log }): SceneWithUpdates => {
    // A scene with a stored row has all of these.
    const latestSeq = log.latestSeq!;
    const lastUpdateAt = log.lastAt!;
    const snapshotSeq = row.snapshot_seq === null ? null : BigInt(row.snapshot_seq);
    return {
      sceneId: row.scene_id,
      scriptId: row.script_id,
      scriptTitle: row.title,
      position: row.position,
      storedRows: log.stored,
      liveRows: log.live,
      firstUpdateAt: log.firstAt!,
      lastUpdateAt,
      latestSeq,
      restUpdatedAt: row.rest_updated_at,
      snapshotSource: row.snapshot_source,
      snapshotSeq,
      seededAt: row.yjs_seeded_at,
      ...classifySceneState({ restUpdatedAt: row.rest_updated_at, lastUpdateAt, latestSeq, snapshotSeq }),
    };
  });
  return {
    scenesWithUpdates,
    restNewer: scenesWithUpdates.filter((scene) => scene.state === 'REST_NEWER'),
    restWithoutUpdates: withoutUpdates.map((row) => ({
      sceneId: row.scene_id,
      scriptId: row.script_id,
      scriptTitle: row.title,
      position: row.position,
      restBlocks: row.rest_blocks === null ? null : Number(row.rest_blocks),
      restUpdatedAt: row.rest_updated_at,
      seededAt: row.yjs_seeded_at,
    })),
  };
}
