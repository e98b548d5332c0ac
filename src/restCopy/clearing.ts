// Clearing a scene's Yjs log so that it seeds again from its REST copy (reliability plan 1.2):
// the targets, the plan, the refusals, and the one transaction that exports, deletes and resets.
//
// A scene that is open in an editor while it is cleared is the dangerous case; see README.md in
// this directory. In short: an instance that has the scene loaded keeps serving its in-memory
// state, and any editor that still holds the old Y.Doc sends the old items back when it next
// syncs, so the scene ends up with the old content next to the reseeded one. The plan refuses
// scenes updated within the last minutes unless told otherwise; editors must be closed first.
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { ExportedRow } from '../log/clear.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import { ClearConflictError, UnknownTargetError } from './errors.ts';

export interface ClearTarget {
  kind: 'scene' | 'script';
  id: string;
}

export interface SceneClearPlan {
  sceneId: string;
  scriptId: string;
  position: number;
  /** Rows that would be deleted. */
  storedRows: number;
  lastUpdateAt: Date | null;
  /** Blocks of the REST copy; null when `content_blocks` is not an array. */
  restBlocks: number | null;
  seeded: boolean;
}

export interface ClearPlan {
  target: ClearTarget;
  scenes: SceneClearPlan[];
  totalRows: number;
}

export interface ClearGuards {
  /** Clear even scenes whose REST copy is empty or invalid (they will stay blank). */
  force: boolean;
  /** Clear even scenes updated within `activeWindowMs` (probably open in an editor). */
  allowActive: boolean;
  activeWindowMs: number;
  now: Date;
}

export interface ClearRefusal {
  sceneId: string;
  reason: 'rest-empty' | 'rest-invalid' | 'recently-active';
  message: string;
}

export interface ClearResult {
  exportPath: string;
  deletedRows: number;
  scenes: SceneClearPlan[];
}

type Db = PrismaClient | Prisma.TransactionClient;

/** Whether `id` names a scene or a script (scenes first); `UnknownTargetError` when neither. */
export async function resolveClearTarget(prisma: PrismaClient, id: string): Promise<ClearTarget> {
  if (await prisma.scene.findUnique({ where: { sceneId: id }, select: { sceneId: true } })) return { kind: 'scene', id };
  if (await prisma.script.findUnique({ where: { scriptId: id }, select: { scriptId: true } })) return { kind: 'script', id };
  throw new UnknownTargetError('scene or script', id);
}

interface PlanRow {
  scene_id: string;
  script_id: string;
  position: number;
  rest_blocks: number | null;
  yjs_seeded_at: Date | null;
}

/**
 * What clearing `target` would delete. `sceneLog` is the log of the same client as `db` (inside
 * `executeClear`, both are the transaction's).
 */
export async function planClear(db: Db, sceneLog: SceneLog, target: ClearTarget): Promise<ClearPlan> {
  const byScene = target.kind === 'scene' ? target.id : null;
  const byScript = target.kind === 'script' ? target.id : null;
  const rows = await db.$queryRaw<PlanRow[]>`
    SELECT s.scene_id, s.script_id, s.position,
           CASE WHEN jsonb_typeof(s.content_blocks) = 'array' THEN jsonb_array_length(s.content_blocks) END AS rest_blocks,
           s.yjs_seeded_at
    FROM scenes s
    WHERE s.scene_id = ${byScene}::uuid OR s.script_id = ${byScript}::uuid
    ORDER BY s.position, s.scene_id`;
  const counts = await sceneLog.countsOf(rows.map((row) => row.scene_id));
  const scenes = rows.map((row) => ({
    sceneId: row.scene_id,
    scriptId: row.script_id,
    position: row.position,
    storedRows: counts.get(row.scene_id)?.stored ?? 0,
    lastUpdateAt: counts.get(row.scene_id)?.lastAt ?? null,
    restBlocks: row.rest_blocks === null ? null : Number(row.rest_blocks),
    seeded: row.yjs_seeded_at !== null,
  }));
  return { target, scenes, totalRows: scenes.reduce((sum, scene) => sum + scene.storedRows, 0) };
}

/**
 * Why a clear must not go ahead, per scene; empty when it may. Only scenes with rows can lose
 * anything: clearing a log whose REST copy is empty (or invalid, which is never seeded) leaves
 * the scene blank, and clearing a log that is still being written to cuts it out from under an
 * editor (see the module comment).
 */
export function clearRefusals(plan: ClearPlan, guards: ClearGuards): ClearRefusal[] {
  const refusals: ClearRefusal[] = [];
  for (const scene of plan.scenes) {
    if (scene.storedRows === 0) continue;
    if (!guards.force && scene.restBlocks === null) {
      refusals.push({ sceneId: scene.sceneId, reason: 'rest-invalid', message: 'REST copy is not a block list; the scene would not be reseeded and would load blank' });
    } else if (!guards.force && scene.restBlocks === 0) {
      refusals.push({ sceneId: scene.sceneId, reason: 'rest-empty', message: 'REST copy is empty; the scene would load blank' });
    }
    if (!guards.allowActive && scene.lastUpdateAt && guards.now.getTime() - scene.lastUpdateAt.getTime() < guards.activeWindowMs) {
      refusals.push({
        sceneId: scene.sceneId,
        reason: 'recently-active',
        message: `updated ${Math.max(0, Math.round((guards.now.getTime() - scene.lastUpdateAt.getTime()) / 1000))} s ago; probably open in an editor`,
      });
    }
  }
  return refusals;
}

export interface ExecuteClearOptions {
  sceneLog: SceneLog;
  /** The plan and refusals are computed again under the locks; a refusal then aborts. */
  guards: ClearGuards;
  /** Writes the rows durably and returns where; called before anything is deleted. */
  writeExport(plan: ClearPlan, rows: readonly ExportedRow[]): Promise<string>;
  /** Called when the plan under the locks refuses (the caller throws its own error). */
  onRefused(plan: ClearPlan, refusals: ClearRefusal[]): never;
  transactionTimeoutMs?: number;
}

/**
 * In one transaction: locks the scenes (scene rows, then log heads, the order seeding uses),
 * plans again, exports every row, deletes exactly the exported rows, and resets `yjs_seeded_at`
 * so the next load seeds from REST. If the export fails nothing is deleted; if a row appears that
 * was not exported (a writer that does not take the head lock, e.g. compaction), the transaction
 * rolls back with `ClearConflictError`.
 *
 * The log head's `last_seq` is kept on purpose: sequence numbers stay unique per scene across a
 * clear, so the export, `scenes.snapshot_seq` (which a snapshot write never lowers) and the new
 * log never disagree about which state is newer.
 */
export async function executeClear(prisma: PrismaClient, target: ClearTarget, options: ExecuteClearOptions): Promise<ClearResult> {
  return prisma.$transaction(
    async (tx) => {
      const log = options.sceneLog.withTransaction(tx);
      const locked = await tx.$queryRaw<Array<{ scene_id: string }>>`
        SELECT scene_id FROM scenes
        WHERE scene_id = ${target.kind === 'scene' ? target.id : null}::uuid OR script_id = ${target.kind === 'script' ? target.id : null}::uuid
        ORDER BY scene_id
        FOR NO KEY UPDATE`;
      const sceneIds = locked.map((row) => row.scene_id);
      for (const sceneId of sceneIds) await log.lockHead(sceneId);

      const plan = await planClear(tx, log, target);
      const refusals = clearRefusals(plan, options.guards);
      if (refusals.length > 0) options.onRefused(plan, refusals);

      const rows = await log.clear.exportRows(sceneIds);
      const exportPath = await options.writeExport(plan, rows);

      const { deletedRows, rowsLeft } = await log.clear.deleteExported(sceneIds, rows);
      if (deletedRows !== rows.length || rowsLeft !== 0) {
        throw new ClearConflictError(
          `the log changed while it was being cleared (${rowsLeft} rows not in the export); nothing was deleted, run clear-yjs again`,
        );
      }
      await tx.$executeRaw`UPDATE scenes SET yjs_seeded_at = NULL WHERE scene_id = ANY(${sceneIds}::uuid[])`;
      return { exportPath, deletedRows, scenes: plan.scenes };
    },
    { timeout: options.transactionTimeoutMs ?? 10 * 60_000 },
  );
}
