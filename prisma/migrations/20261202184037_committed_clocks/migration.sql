-- AlterTable
ALTER TABLE "scene_log_heads" ADD COLUMN     "committed_clocks" JSONB DEFAULT '{}';

-- The rows already stored were appended without clocks: what they hold is not known until a load
-- replays them and records it (SceneLog.recordCommittedClocks). A head created from now on starts
-- with the empty log's '{}'.
UPDATE "scene_log_heads" SET "committed_clocks" = NULL;
