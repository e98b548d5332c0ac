-- AlterTable
ALTER TABLE "scenes" ADD COLUMN     "deleted_at" TIMESTAMPTZ(6);

-- AlterTable
ALTER TABLE "scripts" ADD COLUMN     "title_page" JSONB;

-- CreateIndex
CREATE INDEX "idx_scenes_deleted" ON "scenes"("deleted_at") WHERE (deleted_at IS NOT NULL);

-- CreateIndex
CREATE UNIQUE INDEX "uq_scenes_live_position" ON "scenes"("script_id", "position") WHERE (deleted_at IS NULL);

-- Written by hand (Prisma does not model CHECK constraints): a title page is an object of fields.
ALTER TABLE "scripts" ADD CONSTRAINT "title_page_is_object" CHECK ("title_page" IS NULL OR jsonb_typeof("title_page") = 'object');
