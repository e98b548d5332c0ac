-- Coverage replaces the marks (src/log/coverage.ts): a compacted row stands for every row of its
-- scene up to its seq, and compaction no longer writes `compacted_by` on the rows it merged.

-- DropForeignKey
ALTER TABLE "scene_versions" DROP CONSTRAINT "scene_versions_compacted_by_fkey";

-- A row that compaction left live below a newer compacted row (it did not decode) would now be
-- covered unread: it moves to quarantined_updates, as a load or a compaction moves such rows, and
-- its scene's committed clocks are forgotten until the next load records them.
WITH covered AS (
  SELECT scene_id, max(seq) AS up_to FROM "scene_versions" WHERE is_compacted GROUP BY scene_id
),
moved AS (
  DELETE FROM "scene_versions" v USING covered
  WHERE v.scene_id = covered.scene_id AND v.compacted_by IS NULL
    AND ((NOT v.is_compacted AND v.seq <= covered.up_to) OR (v.is_compacted AND v.seq < covered.up_to))
  RETURNING v.version_id, v.scene_id, v.seq, v.yjs_update, v.is_compacted, v.created_at, v.created_by
),
forgotten AS (
  UPDATE "scene_log_heads" h SET committed_clocks = NULL
  WHERE h.scene_id IN (SELECT scene_id FROM moved)
)
INSERT INTO "quarantined_updates" (scene_id, version_id, seq, yjs_update, is_compacted, created_at, created_by, reason)
SELECT scene_id, version_id, seq, yjs_update, is_compacted, created_at, created_by,
       'left live by compaction (did not decode) below a newer compacted row; moved out when compacted rows came to cover every row up to their seq'
FROM moved;

-- DropIndex
DROP INDEX "idx_scene_versions_live";

-- AlterTable
ALTER TABLE "scene_versions" DROP COLUMN "compacted_by";
