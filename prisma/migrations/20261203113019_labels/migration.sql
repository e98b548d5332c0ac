-- CreateTable
CREATE TABLE "scene_labels" (
    "label_id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "scene_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "seq" BIGINT,
    "yjs_state" BYTEA,
    "labelled_at" TIMESTAMPTZ(6) NOT NULL,
    "script_label_id" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" UUID,

    CONSTRAINT "scene_labels_pkey" PRIMARY KEY ("label_id")
);

-- CreateTable
CREATE TABLE "script_labels" (
    "label_id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "script_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "labelled_at" TIMESTAMPTZ(6) NOT NULL,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_by" UUID,

    CONSTRAINT "script_labels_pkey" PRIMARY KEY ("label_id")
);

-- CreateIndex
CREATE INDEX "idx_scene_labels_script_label" ON "scene_labels"("script_label_id");

-- CreateIndex
CREATE UNIQUE INDEX "uq_scene_labels_scene_name" ON "scene_labels"("scene_id", "name");

-- CreateIndex
CREATE UNIQUE INDEX "uq_script_labels_script_name" ON "script_labels"("script_id", "name");

-- AddForeignKey
ALTER TABLE "scene_labels" ADD CONSTRAINT "scene_labels_scene_id_fkey" FOREIGN KEY ("scene_id") REFERENCES "scenes"("scene_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scene_labels" ADD CONSTRAINT "scene_labels_script_label_id_fkey" FOREIGN KEY ("script_label_id") REFERENCES "script_labels"("label_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "scene_labels" ADD CONSTRAINT "scene_labels_created_by_fkey" FOREIGN KEY ("created_by") REFERENCES "users"("user_id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "script_labels" ADD CONSTRAINT "script_labels_script_id_fkey" FOREIGN KEY ("script_id") REFERENCES "scripts"("script_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "script_labels" ADD CONSTRAINT "script_labels_created_by_fkey" FOREIGN KEY ("created_by") REFERENCES "users"("user_id") ON DELETE SET NULL ON UPDATE CASCADE;
