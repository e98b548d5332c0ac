-- AlterTable
ALTER TABLE "scenes" ADD COLUMN     "deleted_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "scripts" ADD COLUMN     "title_page" JSONB;

-- CreateIndex
CREATE INDEX "idx_scenes_deleted" ON "scenes"("deleted_at") WHERE (deleted_at IS NOT NULL);

-- Written by hand: scenes written by SQL before this migration may share a position or leave gaps.
-- Each script's scenes (all live here: deleted_at is new) are numbered 0..n-1 in their current order
-- first, so the unique index below can be built on any existing data.
UPDATE "scenes" AS s SET "position" = r.rn - 1
FROM (SELECT "scene_id", row_number() OVER (PARTITION BY "script_id" ORDER BY "position", "scene_id") AS rn FROM "scenes") AS r
WHERE s."scene_id" = r."scene_id" AND s."position" <> r.rn - 1;

-- CreateIndex
CREATE UNIQUE INDEX "uq_scenes_live_position" ON "scenes"("script_id", "position") WHERE (deleted_at IS NULL);

-- Written by hand (Prisma does not model CHECK constraints): a title page is an object of fields.
ALTER TABLE "scripts" ADD CONSTRAINT "title_page_is_object" CHECK ("title_page" IS NULL OR jsonb_typeof("title_page") = 'object');
