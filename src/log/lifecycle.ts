// The facts a scene's lifecycle state is decided from (src/scenes/lifecycle.ts decides it), read
// from the log and from where the scene's REST copy records its place in the log. One statement for
// any number of scenes, and one grouped statement for the census the /metrics gauge shows.
import type { SqlExecutor } from '../db/sql.ts';
import type { Numeric } from './rows.ts';

/** Where the REST copy stands against the log, by what the snapshot writer records on the scene. */
export type RestCopyStanding =
  /** Never derived from the log (`yjs_derived` false or no `snapshot_seq`): the REST copy is the REST client's or an import's. */
  | 'not_derived'
  /** Derived from the log's head (`snapshot_seq` at or above the head's `last_seq`). */
  | 'current'
  /** Derived once, and the log has moved on since. */
  | 'behind';

export interface LifecycleFacts {
  /** At least one row is stored (a head without rows, after clear-yjs, has none). */
  hasUpdates: boolean;
  /** At least one compacted row is stored. */
  compacted: boolean;
  /** Rows compaction merged that retention has not deleted yet. */
  mergedRowsStored: boolean;
  restCopy: RestCopyStanding;
}

/** How many scenes share one combination of facts (`LogLifecycle.census`). */
export interface LifecycleFactsCount {
  facts: LifecycleFacts;
  scenes: number;
}

/**
 * The facts of each scene `s` (joined to its head `h`), as SQL columns. Every probe of
 * `scene_versions` is an EXISTS on an index that starts with `scene_id` (`idx_scene_versions_compacted`
 * for `is_compacted`, `idx_scene_versions_live` for `compacted_by`), so a scene costs three index
 * probes however long its log is; a scene without a head has no rows and is not probed (CASE
 * evaluates its branches in order).
 */
const FACT_COLUMNS = `
  CASE WHEN h.scene_id IS NULL THEN false
       ELSE EXISTS (SELECT 1 FROM scene_versions v WHERE v.scene_id = s.scene_id) END AS has_updates,
  CASE WHEN h.scene_id IS NULL THEN false
       ELSE EXISTS (SELECT 1 FROM scene_versions v WHERE v.scene_id = s.scene_id AND v.is_compacted) END AS compacted,
  CASE WHEN h.scene_id IS NULL THEN false
       ELSE EXISTS (SELECT 1 FROM scene_versions v WHERE v.scene_id = s.scene_id AND v.compacted_by IS NOT NULL) END AS merged_rows_stored,
  CASE WHEN NOT s.yjs_derived OR s.snapshot_seq IS NULL THEN 'not_derived'
       WHEN s.snapshot_seq >= COALESCE(h.last_seq, 0) THEN 'current'
       ELSE 'behind' END AS rest_copy`;

interface FactRow {
  has_updates: boolean;
  compacted: boolean;
  merged_rows_stored: boolean;
  rest_copy: RestCopyStanding;
}

function toFacts(row: FactRow): LifecycleFacts {
  return { hasUpdates: row.has_updates, compacted: row.compacted, mergedRowsStored: row.merged_rows_stored, restCopy: row.rest_copy };
}

/** `sceneLog.lifecycle`: the lifecycle facts of scenes (the scenes route, diagnose, the /metrics gauge). */
export class LogLifecycle {
  constructor(private readonly sql: SqlExecutor) {}

  /** The facts of these scenes, deleted ones included; ids that name no scene are left out. */
  async factsOf(sceneIds: readonly string[]): Promise<Map<string, LifecycleFacts>> {
    const facts = new Map<string, LifecycleFacts>();
    if (sceneIds.length === 0) return facts;
    const rows = await this.sql.query<FactRow & { scene_id: string }>(
      'log_lifecycle_facts_of',
      `SELECT s.scene_id, ${FACT_COLUMNS}
       FROM scenes s LEFT JOIN scene_log_heads h ON h.scene_id = s.scene_id
       WHERE s.scene_id = ANY($1::uuid[])`,
      [sceneIds],
    );
    for (const row of rows) facts.set(row.scene_id, toFacts(row));
    return facts;
  }

  /**
   * The live (not deleted) scenes grouped by their facts: at most a few dozen rows whatever the
   * number of scenes, so a scrape carries no per-scene data.
   */
  async census(): Promise<LifecycleFactsCount[]> {
    const rows = await this.sql.query<FactRow & { scenes: Numeric }>(
      'log_lifecycle_census',
      `SELECT has_updates, compacted, merged_rows_stored, rest_copy, count(*) AS scenes
       FROM (
         SELECT ${FACT_COLUMNS}
         FROM scenes s LEFT JOIN scene_log_heads h ON h.scene_id = s.scene_id
         WHERE s.deleted_at IS NULL
       ) f
       GROUP BY has_updates, compacted, merged_rows_stored, rest_copy`,
      [],
    );
    return rows.map((row) => ({ facts: toFacts(row), scenes: Number(row.scenes) }));
  }
}
