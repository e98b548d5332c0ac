-- CreateTable
CREATE TABLE "scene_changes" (
    "change_id" BIGSERIAL NOT NULL,
    "xid" xid8 NOT NULL DEFAULT pg_current_xact_id(),
    "scene_id" UUID NOT NULL,
    "script_id" UUID NOT NULL,
    "seq" BIGINT NOT NULL,
    "kinds" TEXT[],
    "created_by" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scene_changes_pkey" PRIMARY KEY ("change_id")
);

-- CreateTable
CREATE TABLE "scene_change_floor" (
    "singleton" BOOLEAN NOT NULL DEFAULT true,
    "purged_xid" BIGINT NOT NULL,
    "purged_change_id" BIGINT NOT NULL,
    "purged_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "scene_change_floor_pkey" PRIMARY KEY ("singleton")
);

-- CreateTable
CREATE TABLE "webhook_endpoints" (
    "endpoint_id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "script_id" UUID NOT NULL,
    "url" TEXT NOT NULL,
    "secret" TEXT NOT NULL,
    "event_kinds" TEXT[],
    "created_by" UUID,
    "created_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "disabled_at" TIMESTAMPTZ(6),
    "disabled_reason" TEXT,
    "consecutive_failures" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(6) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_error" TEXT,
    "last_success_at" TIMESTAMPTZ(6),
    "cursor_xid" BIGINT NOT NULL,
    "cursor_change_id" BIGINT NOT NULL,
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(6),

    CONSTRAINT "webhook_endpoints_pkey" PRIMARY KEY ("endpoint_id")
);

-- CreateTable
CREATE TABLE "webhook_scene_states" (
    "endpoint_id" UUID NOT NULL,
    "scene_id" UUID NOT NULL,
    "pending_seq" BIGINT,
    "pending_kinds" TEXT[],
    "pending_created_by" UUID,
    "pending_first_at" TIMESTAMPTZ(6),
    "pending_last_at" TIMESTAMPTZ(6),
    "pending_changes" INTEGER NOT NULL DEFAULT 0,
    "pending_version" INTEGER NOT NULL DEFAULT 0,
    "lifecycle" INTEGER NOT NULL DEFAULT 0,
    "deleted" BOOLEAN NOT NULL DEFAULT false,
    "delivered_seq" BIGINT,
    "delivered_at" TIMESTAMPTZ(6),
    "last_event_id" TEXT,

    CONSTRAINT "webhook_scene_states_pkey" PRIMARY KEY ("endpoint_id","scene_id")
);

-- CreateIndex
CREATE INDEX "idx_scene_changes_order" ON "scene_changes"("xid", "change_id");

-- CreateIndex
CREATE INDEX "idx_scene_changes_script" ON "scene_changes"("script_id", "xid", "change_id");

-- CreateIndex
CREATE INDEX "idx_scene_changes_created" ON "scene_changes"("created_at");

-- CreateIndex
CREATE INDEX "webhook_endpoints_script_id_idx" ON "webhook_endpoints"("script_id");

-- AddForeignKey
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_script_id_fkey" FOREIGN KEY ("script_id") REFERENCES "scripts"("script_id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_scene_states" ADD CONSTRAINT "webhook_scene_states_endpoint_id_fkey" FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints"("endpoint_id") ON DELETE CASCADE ON UPDATE CASCADE;
