/**
 * Which rows of a scene's log a load replays (architecture 4.6), in SQL: the one place that says it.
 *
 * A compacted row stands for every row of its scene up to its seq. Compaction merges a prefix of
 * the live log (seq is commit order, so no row can join that prefix later) into one row carrying
 * the prefix's highest seq, and rows it could not merge (they do not decode) leave the log for
 * `quarantined_updates` in the same transaction. So the live rows are the newest compacted row
 * and every original after it; every other row is *covered*, kept only until retention deletes it.
 * Nothing is written to the merged rows: marking them one by one wrote about 1 KB of WAL and five
 * index entries per row (96 MB for a 100,000-row scene) that the editors' next commits had to
 * flush behind.
 *
 * Each condition keeps `is_compacted` equal to a constant beside its `seq` range, so the
 * (scene_id, is_compacted, seq) unique index serves it.
 */

/**
 * The seq a scene's log is covered up to: its newest compacted row's, 0 when it has none (seqs
 * start at 1). `scene` is the SQL expression of the scene id (`$1::uuid`, `h.scene_id`).
 */
export function coveredUpTo(scene: string): string {
  return `(SELECT coalesce(max(c.seq), 0) FROM scene_versions c WHERE c.scene_id = ${scene} AND c.is_compacted)`;
}

/**
 * True for a live row: `row` is the alias of a `scene_versions` row, `upTo` the SQL expression of
 * its scene's `coveredUpTo` (a column of a CTE or lateral join, so it is computed once).
 */
export function isLive(row: string, upTo: string): string {
  return `((NOT ${row}.is_compacted AND ${row}.seq > ${upTo}) OR (${row}.is_compacted AND ${row}.seq = ${upTo}))`;
}

/** True for a covered row (the negation of `isLive`): retention's to delete once old enough. */
export function isCovered(row: string, upTo: string): string {
  return `((NOT ${row}.is_compacted AND ${row}.seq <= ${upTo}) OR (${row}.is_compacted AND ${row}.seq < ${upTo}))`;
}

/**
 * The compacted row that merged `row`, or null for a live row: the first compaction whose seq
 * reaches it (each compaction merges the whole live prefix, so that one took it in). For the
 * history listing and tests; not for hot paths.
 */
export function mergedInto(row: string): string {
  return `(SELECT m.version_id FROM scene_versions m
           WHERE m.scene_id = ${row}.scene_id AND m.is_compacted
             AND (m.seq > ${row}.seq OR (m.seq = ${row}.seq AND NOT ${row}.is_compacted))
           ORDER BY m.seq LIMIT 1)`;
}
