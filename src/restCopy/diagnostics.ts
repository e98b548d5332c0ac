// The state of every scene's Yjs log next to its REST copy (reliability plan 1.1), for the
// `diagnose` job: which scenes have updates, whose REST copy is newer than their newest update,
// and which have REST content but no updates at all.
import type { PrismaClient } from '../generated/prisma/client.ts';

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

interface UpdatesRow {
  scene_id: string;
  script_id: string;
  title: string;
  position: number;
  stored_rows: number;
  live_rows: number;
  first_at: Date;
  last_at: Date;
  latest_seq: bigint | string;
  rest_updated_at: Date;
  snapshot_source: string;
  snapshot_seq: bigint | string | null;
  yjs_seeded_at: Date | null;
}

interface NoUpdatesRow {
  scene_id: string;
  script_id: string;
  title: string;
  position: number;
  rest_blocks: number | null;
  rest_updated_at: Date;
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

export async function diagnoseScenes(prisma: PrismaClient, options: { scriptId?: string } = {}): Promise<Diagnosis> {
  const scriptId = options.scriptId ?? null;
  const withUpdates = await prisma.$queryRaw<UpdatesRow[]>`
    SELECT s.scene_id, s.script_id, sc.title, s.position,
           count(*)::int AS stored_rows,
           (count(*) FILTER (WHERE v.compacted_by IS NULL))::int AS live_rows,
           min(v.created_at) AS first_at,
           max(v.created_at) AS last_at,
           max(v.seq) AS latest_seq,
           s.updated_at AS rest_updated_at,
           s.snapshot_source::text AS snapshot_source,
           s.snapshot_seq,
           s.yjs_seeded_at
    FROM scenes s
    JOIN scripts sc ON sc.script_id = s.script_id
    JOIN scene_versions v ON v.scene_id = s.scene_id
    WHERE ${scriptId}::uuid IS NULL OR s.script_id = ${scriptId}::uuid
    GROUP BY s.scene_id, sc.script_id
    ORDER BY count(*) DESC, s.scene_id`;

  // jsonb_array_length fails on a non-array, and WHERE does not promise evaluation order: CASE does.
  const withoutUpdates = await prisma.$queryRaw<NoUpdatesRow[]>`
    SELECT s.scene_id, s.script_id, sc.title, s.position,
           CASE WHEN jsonb_typeof(s.content_blocks) = 'array' THEN jsonb_array_length(s.content_blocks) END AS rest_blocks,
           s.updated_at AS rest_updated_at,
           s.yjs_seeded_at
    FROM scenes s
    JOIN scripts sc ON sc.script_id = s.script_id
    WHERE NOT EXISTS (SELECT 1 FROM scene_versions v WHERE v.scene_id = s.scene_id)
      AND CASE WHEN jsonb_typeof(s.content_blocks) = 'array' THEN jsonb_array_length(s.content_blocks) > 0 ELSE true END
      AND (${scriptId}::uuid IS NULL OR s.script_id = ${scriptId}::uuid)
    ORDER BY sc.title, s.script_id, s.position, s.scene_id`;

  const scenesWithUpdates = withUpdates.map((row): SceneWithUpdates => {
    const latestSeq = BigInt(row.latest_seq);
    const snapshotSeq = row.snapshot_seq === null ? null : BigInt(row.snapshot_seq);
    return {
      sceneId: row.scene_id,
      scriptId: row.script_id,
      scriptTitle: row.title,
      position: row.position,
      storedRows: row.stored_rows,
      liveRows: row.live_rows,
      firstUpdateAt: row.first_at,
      lastUpdateAt: row.last_at,
      latestSeq,
      restUpdatedAt: row.rest_updated_at,
      snapshotSource: row.snapshot_source,
      snapshotSeq,
      seededAt: row.yjs_seeded_at,
      ...classifySceneState({ restUpdatedAt: row.rest_updated_at, lastUpdateAt: row.last_at, latestSeq, snapshotSeq }),
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
