// A scene's lifecycle state (architecture document section 8.1), decided from the log's facts
// (src/log/lifecycle.ts). Pure: the facts are read elsewhere, for many scenes in one statement.
import type { LifecycleFacts, LifecycleFactsCount } from '../log/lifecycle.ts';

export const LIFECYCLE_STATES = ['CREATED', 'YJS_INITIAL', 'YJS_SYNCED', 'YJS_ACTIVE', 'YJS_COMPACTED', 'YJS_ARCHIVED'] as const;
export type SceneLifecycleState = (typeof LIFECYCLE_STATES)[number];

/**
 * The state, the furthest the scene has come along section 8.1's path:
 *
 * - `CREATED`: no stored update; the REST copy is all there is (a new or imported scene, or one
 *   whose log clear-yjs removed).
 * - `YJS_INITIAL`: the log has updates, and the REST copy was never derived from it.
 * - `YJS_SYNCED`: the REST copy was derived from the log's head (`snapshot_seq` at the head).
 * - `YJS_ACTIVE`: the REST copy was derived from the log, and edits have been appended since.
 * - `YJS_COMPACTED`: compaction merged rows into a compacted row, and the merged originals are
 *   still stored (retention has not run on them yet).
 * - `YJS_ARCHIVED`: a compacted row is stored and retention has deleted every original it merged:
 *   only the compacted history remains, later edits still append.
 *
 * Where ours differs from the document, and why:
 * - The document passes through `YJS_INITIAL` with exactly one row, then reaches `YJS_SYNCED` when
 *   the snapshot worker runs. Here seeding (first load, `migrate-rest-to-yjs`) writes its seed and
 *   marks the REST copy as derived from it in one transaction (the copy *is* the seed's content),
 *   so a seeded scene is `YJS_SYNCED` at once; `YJS_INITIAL` is a scene first written by editors
 *   (an empty scene typed into) whose copy no snapshot has derived yet, whatever its row count.
 * - `YJS_SYNCED` and `YJS_ACTIVE` are told apart by whether the copy is at the log's head, not by
 *   the number of rows: the REST copy follows the live document within seconds (the follower and
 *   the snapshot job), so a scene being written alternates between the two, and `YJS_ACTIVE` for
 *   long is a copy that is not following (the `snapshot_lag_minutes` alert's scenes).
 * - `YJS_ARCHIVED` is the document's "historical updates pruned", not a deleted scene or an idle
 *   one: a soft-deleted scene is out of every listing and of the census (it keeps the state its log
 *   had), and idleness is what compaction's age trigger already acts on.
 * - Compaction outranks the REST copy's standing: a compacted scene is `YJS_COMPACTED` or
 *   `YJS_ARCHIVED` whether or not its copy is current (the route's `snapshot_seq` and the freshness
 *   fields say that).
 */
export function sceneLifecycle(facts: LifecycleFacts): SceneLifecycleState {
  if (!facts.hasUpdates) return 'CREATED';
  if (facts.compacted) return facts.mergedRowsStored ? 'YJS_COMPACTED' : 'YJS_ARCHIVED';
  switch (facts.restCopy) {
    case 'not_derived':
      return 'YJS_INITIAL';
    case 'current':
      return 'YJS_SYNCED';
    case 'behind':
      return 'YJS_ACTIVE';
  }
}

/** Scenes per state from the grouped facts (`LogLifecycle.census`); every state is present, 0 when no scene is in it. */
export function countByLifecycle(census: readonly LifecycleFactsCount[]): Record<SceneLifecycleState, number> {
  const counts = Object.fromEntries(LIFECYCLE_STATES.map((state) => [state, 0])) as Record<SceneLifecycleState, number>;
  for (const { facts, scenes } of census) counts[sceneLifecycle(facts)] += scenes;
  return counts;
}

/** The census on the `writersroom_scenes_by_state` gauge: every state is set, so a state left empty reads 0, not its old value. */
export async function publishLifecycleCensus(
  lifecycle: { census(): Promise<LifecycleFactsCount[]> },
  gauge: { set(labels: { state: string }, value: number): void },
): Promise<Record<SceneLifecycleState, number>> {
  const counts = countByLifecycle(await lifecycle.census());
  for (const state of LIFECYCLE_STATES) gauge.set({ state }, counts[state]);
  return counts;
}
