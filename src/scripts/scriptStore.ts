// The owner of what a script is made of: the `scripts` rows, the order and life of their `scenes`
// rows (created, moved, renamed, deleted, restored, purged) and `script_collaborators`. The REST
// copy's content after creation, the log and the snapshots belong to src/restCopy and src/log.
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';
import { prismaExecutor, type SqlExecutor } from '../db/sql.ts';
import { SceneLog } from '../log/sceneLog.ts';
import { prepareSeed } from '../restCopy/restContent.ts';
import type { CanonicalRestBlock } from '../screenplay/restBlocks.ts';
import {
  CollaboratorNotFoundError,
  InvalidSceneContentError,
  InvalidScriptFieldsError,
  OwnerIsNotACollaboratorError,
  PositionOutOfRangeError,
  SceneDeletedError,
  SceneNotDeletedError,
  SceneNotInScriptError,
  SceneNotRestorableError,
  ScriptNotFoundError,
} from './errors.ts';
import { sceneHeadingSchema, scriptTitleSchema, titlePageSchema, type TitlePage } from './fields.ts';

export type CollaboratorRole = 'editor' | 'viewer';
/** Where a created scene's REST copy came from (`scenes.snapshot_source`): the API, an import, a hand-made script. */
export type InitialContentSource = 'rest' | 'import' | 'manual';

export interface ScriptRow {
  scriptId: string;
  ownerId: string;
  title: string;
  titlePage: TitlePage | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ScriptListing extends ScriptRow {
  /** What the user asked about is to the script. */
  role: 'owner' | CollaboratorRole;
  /** Live scenes (deleted ones are not counted). */
  sceneCount: number;
}

/** A scene's place in its script. */
export interface SceneEntry {
  sceneId: string;
  position: number;
  sceneHeading: string | null;
  deletedAt: Date | null;
}

/** What a change to the order leaves: the scene it was about, and every live scene by position. */
export interface SceneOrderChange {
  scene: SceneEntry;
  scenes: SceneEntry[];
}

export interface CollaboratorRow {
  userId: string;
  email: string;
  role: CollaboratorRole;
  createdAt: Date;
}

export interface NewScene {
  heading: string | null;
  blocks: CanonicalRestBlock[];
}

export interface ScriptStoreConfiguration {
  prisma: PrismaClient;
  /**
   * The log, whose change feed records a scene's deletion and restoration in the transaction that
   * makes it (default: one on `prisma`; only its change rows are written through it).
   */
  sceneLog?: SceneLog;
  /**
   * How long a write waits for a connection, and how long its transaction may stay open (it waits
   * on the script row's lock behind every other change to the same script's scenes).
   */
  transactionMaxWaitMs?: number;
  transactionTimeoutMs?: number;
}

const defaults = { transactionMaxWaitMs: 10_000, transactionTimeoutMs: 20_000 };

/** Deleted scenes purged per statement: each one's log goes with it (ON DELETE CASCADE), so batches stay small. */
const PURGE_BATCH_SCENES = 20;

type Tx = Prisma.TransactionClient;

/**
 * Scripts, their scenes' order and life, and their collaborators.
 *
 * **Positions.** The live scenes of a script hold the positions 0..n-1, once each (the partial
 * unique index `uq_scenes_live_position` proves it; a deleted scene keeps its last position and is
 * outside the index). Every change to the order (add, move, delete, restore) runs in one
 * transaction that first locks the script row (FOR NO KEY UPDATE, which does not block the key-share
 * locks of rows that merely reference the script): changes to one script queue there, on PostgreSQL
 * across instances and on PGlite's single connection alike, and each one reads the order the
 * previous one committed, computes the new order and writes the positions that differ. The writes
 * go in two statements, first to negative positions and then to the final ones, because a
 * non-deferrable unique index is checked row by row: moving scene 3 to 0 in one statement would
 * put two rows on one position half-way. A script whose positions have gaps (rows written by SQL)
 * is made dense by its next change.
 *
 * **Initial content.** A scene created with blocks gets them as its REST copy (canonical form,
 * after proving the REST -> Yjs -> REST round trip keeps them) with `yjs_seeded_at` unset, and no
 * log row. The first load of the scene seeds its log from that copy through the one seeding path
 * (src/restCopy/seeding.ts `SceneSeeder.seedIfEmpty`: under the scene row's lock, once, whichever
 * instance or connection comes first); seeding here as well would be a second path to keep in step
 * with that one.
 */
export class ScriptStore {
  private readonly configuration: Required<Omit<ScriptStoreConfiguration, 'sceneLog'>>;
  private readonly sceneLog: SceneLog;

  constructor(configuration: ScriptStoreConfiguration) {
    this.configuration = { ...defaults, ...configuration };
    this.sceneLog = configuration.sceneLog ?? new SceneLog(prismaExecutor(configuration.prisma));
  }

  /** A script with no scene yet; the title and title page are checked by the rules of fields.ts (`InvalidScriptFieldsError`). */
  async createScript(input: { ownerId: string; title: string; titlePage?: TitlePage | null }): Promise<ScriptRow> {
    const title = parseField(scriptTitleSchema, input.title, 'title');
    const titlePage = input.titlePage == null ? null : parseField(titlePageSchema, input.titlePage, 'titlePage');
    const created = await this.configuration.prisma.script.create({ data: { ownerId: input.ownerId, title, titlePage: jsonOrDbNull(titlePage) } });
    return scriptRow(created);
  }

  /**
   * A script with its scenes in one transaction: all of it, or (on any failure) nothing. For an
   * import. Every field is checked before anything is written (`InvalidScriptFieldsError`,
   * `InvalidSceneContentError` with the scene's index), the scenes get the positions 0..n-1 in the
   * order given, and their REST copies are seeded into their logs exactly once, on first load (see
   * the class comment). `snapshotSource` is what `scenes.snapshot_source` records about the copies.
   */
  async createScriptWithScenes(
    input: { ownerId: string; title: string; titlePage?: TitlePage | null; scenes: NewScene[] },
    options: { snapshotSource: 'import' | 'manual' },
  ): Promise<{ scriptId: string; sceneIds: string[] }> {
    const title = parseField(scriptTitleSchema, input.title, 'title');
    const titlePage = input.titlePage == null ? null : parseField(titlePageSchema, input.titlePage, 'titlePage');
    const scenes = input.scenes.map((scene, index) => ({
      sceneId: randomUUID(),
      heading: parseField(sceneHeadingSchema, scene.heading, `scenes[${index}].heading`),
      blocks: prepareInitialContent(scene.blocks, index),
    }));
    const scriptId = randomUUID();
    await this.transaction(async (tx) => {
      await tx.script.create({ data: { scriptId, ownerId: input.ownerId, title, titlePage: jsonOrDbNull(titlePage) } });
      if (scenes.length > 0) {
        await tx.scene.createMany({
          data: scenes.map((scene, position) => ({
            sceneId: scene.sceneId,
            scriptId,
            position,
            sceneHeading: scene.heading,
            contentBlocks: scene.blocks as Prisma.InputJsonValue,
            snapshotSource: options.snapshotSource,
          })),
        });
      }
    });
    return { scriptId, sceneIds: scenes.map((scene) => scene.sceneId) };
  }

  async script(scriptId: string): Promise<ScriptRow | null> {
    const row = await this.configuration.prisma.script.findUnique({ where: { scriptId } });
    return row ? scriptRow(row) : null;
  }

  /** The scripts the user owns or collaborates on, with the user's role, most recently changed first. */
  async scriptsOf(userId: string): Promise<ScriptListing[]> {
    const rows = await this.configuration.prisma.script.findMany({
      where: { OR: [{ ownerId: userId }, { collaborators: { some: { userId } } }] },
      include: {
        collaborators: { where: { userId }, select: { role: true } },
        _count: { select: { scenes: { where: { deletedAt: null } } } },
      },
      orderBy: [{ updatedAt: 'desc' }, { scriptId: 'asc' }],
    });
    return rows.map((row) => ({
      ...scriptRow(row),
      role: row.ownerId === userId ? 'owner' : row.collaborators[0]!.role,
      sceneCount: row._count.scenes,
    }));
  }

  /** A new title and/or title page (null clears it); fields left undefined are kept. */
  async updateScript(scriptId: string, change: { title?: string; titlePage?: TitlePage | null }): Promise<ScriptRow> {
    try {
      const row = await this.configuration.prisma.script.update({
        where: { scriptId },
        data: {
          ...(change.title !== undefined ? { title: change.title } : {}),
          ...(change.titlePage !== undefined ? { titlePage: jsonOrDbNull(change.titlePage) } : {}),
        },
      });
      return scriptRow(row);
    } catch (error) {
      if (isRecordNotFound(error)) throw new ScriptNotFoundError(scriptId);
      throw error;
    }
  }

  /** The script's live scenes by position (the order only; content is the scene reader's). */
  async sceneOrder(scriptId: string): Promise<SceneEntry[]> {
    return liveScenes(this.configuration.prisma, scriptId);
  }

  /** The script's deleted scenes not purged yet, most recently deleted first. */
  async deletedScenes(scriptId: string): Promise<SceneEntry[]> {
    const rows = await this.configuration.prisma.$queryRaw<SceneEntryRow[]>`
      SELECT scene_id, position, scene_heading, deleted_at FROM scenes
      WHERE script_id = ${scriptId}::uuid AND deleted_at IS NOT NULL
      ORDER BY deleted_at DESC, scene_id`;
    return rows.map(entryOf);
  }

  /**
   * A new scene at `position` (default: at the end; 0..n), the scenes from there on moving down
   * one. `blocks` (REST blocks, any input: they are validated and put in canonical form here) become
   * its REST copy, seeded into its log on first load.
   */
  async addScene(
    scriptId: string,
    scene: { heading: string | null; blocks: unknown; position?: number; /** Keep this id (import-scene brings a scene from another database); default: a new one. */ sceneId?: string },
    snapshotSource: InitialContentSource = 'rest',
  ): Promise<SceneOrderChange> {
    const blocks = prepareInitialContent(scene.blocks, null);
    const sceneId = scene.sceneId ?? randomUUID();
    return this.transaction(async (tx) => {
      await lockScript(tx, scriptId);
      const live = await liveScenes(tx, scriptId);
      const position = scene.position ?? live.length;
      if (position > live.length) throw new PositionOutOfRangeError(position, live.length);
      const order = live.map((entry) => entry.sceneId);
      await writePositions(tx, live, withInserted(order, position, null));
      await tx.scene.create({
        data: { sceneId, scriptId, position, sceneHeading: scene.heading, contentBlocks: blocks as Prisma.InputJsonValue, snapshotSource },
      });
      await touchScript(tx, scriptId);
      return orderChange(await liveScenes(tx, scriptId), sceneId);
    });
  }

  /** Moves a live scene to `position` (0..n-1) and/or renames its heading. */
  async updateScene(scriptId: string, sceneId: string, change: { position?: number; heading?: string | null }): Promise<SceneOrderChange> {
    return this.transaction(async (tx) => {
      await lockScript(tx, scriptId);
      const target = await sceneOfScript(tx, scriptId, sceneId);
      if (target.deletedAt !== null) throw new SceneDeletedError(sceneId);
      const live = await liveScenes(tx, scriptId);
      if (change.position !== undefined) {
        if (change.position > live.length - 1) throw new PositionOutOfRangeError(change.position, live.length - 1);
        const rest = live.map((entry) => entry.sceneId).filter((id) => id !== sceneId);
        await writePositions(tx, live, withInserted(rest, change.position, sceneId));
      } else {
        await writePositions(tx, live, live.map((entry) => entry.sceneId));
      }
      if (change.heading !== undefined) {
        await tx.$executeRaw`UPDATE scenes SET scene_heading = ${change.heading}, updated_at = now() WHERE scene_id = ${sceneId}::uuid`;
      }
      await touchScript(tx, scriptId);
      return orderChange(await liveScenes(tx, scriptId), sceneId);
    });
  }

  /**
   * Soft-deletes a live scene: `deleted_at` is set, the scenes after it move up one. From then on
   * access decisions refuse it (`scene-deleted`), listings leave it out, and the retention job
   * purges it after the retention period unless it is restored first.
   */
  async deleteScene(scriptId: string, sceneId: string, options: { by?: string | null } = {}): Promise<SceneOrderChange> {
    return this.transaction(async (tx) => {
      await lockScript(tx, scriptId);
      const target = await sceneOfScript(tx, scriptId, sceneId);
      if (target.deletedAt !== null) throw new SceneDeletedError(sceneId);
      await tx.$executeRaw`UPDATE scenes SET deleted_at = now() WHERE scene_id = ${sceneId}::uuid`;
      await this.sceneLog.withTransaction(tx).changes.recordLifecycle(sceneId, 'delete', options.by ?? null);
      const live = await liveScenes(tx, scriptId);
      await writePositions(tx, live, live.map((entry) => entry.sceneId));
      await touchScript(tx, scriptId);
      const deleted = await sceneOfScript(tx, scriptId, sceneId);
      return { scene: deleted, scenes: await liveScenes(tx, scriptId) };
    });
  }

  /**
   * Brings a deleted scene back at `position` (default: at the end; 0..n) while it is younger than
   * `retentionMs` (`SCENE_DELETE_RETENTION_DAYS`); its log was never touched, so it opens as it was.
   * An older one is `SceneNotRestorableError`, even when the retention job has not purged it yet.
   */
  async restoreScene(scriptId: string, sceneId: string, options: { position?: number; retentionMs: number; by?: string | null }): Promise<SceneOrderChange> {
    return this.transaction(async (tx) => {
      await lockScript(tx, scriptId);
      const target = await sceneOfScript(tx, scriptId, sceneId);
      if (target.deletedAt === null) throw new SceneNotDeletedError(sceneId);
      const [{ expired }] = await tx.$queryRaw<[{ expired: boolean }]>`
        SELECT deleted_at < now() - make_interval(secs => ${options.retentionMs / 1000}::double precision) AS expired
        FROM scenes WHERE scene_id = ${sceneId}::uuid`;
      if (expired) throw new SceneNotRestorableError(sceneId, target.deletedAt);
      const live = await liveScenes(tx, scriptId);
      const position = options.position ?? live.length;
      if (position > live.length) throw new PositionOutOfRangeError(position, live.length);
      await writePositions(tx, live, withInserted(live.map((entry) => entry.sceneId), position, null));
      await tx.$executeRaw`UPDATE scenes SET deleted_at = NULL, position = ${position} WHERE scene_id = ${sceneId}::uuid`;
      await this.sceneLog.withTransaction(tx).changes.recordLifecycle(sceneId, 'restore', options.by ?? null);
      await touchScript(tx, scriptId);
      return orderChange(await liveScenes(tx, scriptId), sceneId);
    });
  }

  async collaborators(scriptId: string): Promise<CollaboratorRow[]> {
    const rows = await this.configuration.prisma.scriptCollaborator.findMany({
      where: { scriptId },
      select: { userId: true, role: true, createdAt: true, user: { select: { email: true } } },
      orderBy: [{ createdAt: 'asc' }, { userId: 'asc' }],
    });
    return rows.map((row) => ({ userId: row.userId, email: row.user.email, role: row.role, createdAt: row.createdAt }));
  }

  /**
   * Adds the user as a collaborator with `role`, or changes the role they have. `created` tells
   * the two apart. Open connections of a user whose role changed are ended by the open-connection
   * recheck (`access-changed`), not here: it reads the database, so this row is all it needs.
   */
  async setCollaborator(scriptId: string, user: { userId: string; email: string }, role: CollaboratorRole): Promise<{ collaborator: CollaboratorRow; created: boolean }> {
    const { prisma } = this.configuration;
    const script = await prisma.script.findUnique({ where: { scriptId }, select: { ownerId: true } });
    if (!script) throw new ScriptNotFoundError(scriptId);
    if (script.ownerId === user.userId) throw new OwnerIsNotACollaboratorError();
    // xmax = 0 only on a row this statement inserted: one statement says whether it was new.
    const [row] = await prisma.$queryRaw<[{ created_at: Date; created: boolean }]>`
      INSERT INTO script_collaborators (script_id, user_id, role)
      VALUES (${scriptId}::uuid, ${user.userId}::uuid, ${role}::"CollaboratorRole")
      ON CONFLICT (script_id, user_id) DO UPDATE SET role = EXCLUDED.role
      RETURNING created_at, (xmax = 0) AS created`;
    return { collaborator: { userId: user.userId, email: user.email, role, createdAt: row.created_at }, created: row.created };
  }

  /** Removes the user from the script's collaborators; their open connections are ended by the recheck (`no-access`). */
  async removeCollaborator(scriptId: string, user: { userId: string; email: string }): Promise<CollaboratorRow> {
    const { prisma } = this.configuration;
    const rows = await prisma.$queryRaw<{ role: CollaboratorRole; created_at: Date }[]>`
      DELETE FROM script_collaborators WHERE script_id = ${scriptId}::uuid AND user_id = ${user.userId}::uuid
      RETURNING role::text AS role, created_at`;
    if (rows.length === 0) throw new CollaboratorNotFoundError(user.email);
    return { userId: user.userId, email: user.email, role: rows[0]!.role, createdAt: rows[0]!.created_at };
  }

  private transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const { prisma, transactionMaxWaitMs, transactionTimeoutMs } = this.configuration;
    return prisma.$transaction(fn, { maxWait: transactionMaxWaitMs, timeout: transactionTimeoutMs });
  }
}

/**
 * Deletes the scenes deleted before `cutoff`, with everything that hangs off them (their log, log
 * head, snapshot metadata, quarantine and labels go by ON DELETE CASCADE), a few scenes per
 * statement. For the retention job, which runs on the SQL executor rather than Prisma. A scene
 * being restored at that moment holds its row lock and is skipped (SKIP LOCKED), and a restored
 * scene no longer matches `deleted_at < cutoff` when the statement reads it again after the lock.
 */
export async function purgeDeletedScenes(
  sql: SqlExecutor,
  options: { cutoff: Date; signal?: AbortSignal; onPurged?: (sceneIds: string[]) => void },
): Promise<{ purgedScenes: number }> {
  let purgedScenes = 0;
  while (!options.signal?.aborted) {
    const rows = await sql.query<{ scene_id: string }>(
      'scene_purge_deleted',
      `WITH doomed AS (
         SELECT scene_id FROM scenes
         WHERE deleted_at IS NOT NULL AND deleted_at < $1
         ORDER BY deleted_at, scene_id
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       )
       DELETE FROM scenes s USING doomed WHERE s.scene_id = doomed.scene_id AND s.deleted_at < $1
       RETURNING s.scene_id`,
      [options.cutoff, PURGE_BATCH_SCENES],
    );
    purgedScenes += rows.length;
    if (rows.length > 0) options.onPurged?.(rows.map((row) => row.scene_id));
    if (rows.length < PURGE_BATCH_SCENES) break;
  }
  return { purgedScenes };
}

/** Validated, canonical REST blocks for a new scene, or `InvalidSceneContentError`; `[]` is an empty scene. */
function prepareInitialContent(blocks: unknown, sceneIndex: number | null): CanonicalRestBlock[] {
  const where = sceneIndex === null ? 'blocks' : `scenes[${sceneIndex}].blocks`;
  const prepared = prepareSeed(blocks);
  if (prepared.kind === 'empty') return [];
  if (prepared.kind === 'valid') {
    // jsonb stores no U+0000 (the insert would fail as a 500); Yjs would, so only the copy refuses it.
    if (containsNul(prepared.blocks)) {
      throw new InvalidSceneContentError(sceneIndex, 'INVALID_REST_BLOCKS', `${where}: text must not contain U+0000 (NUL)`);
    }
    return prepared.blocks;
  }
  const { problem } = prepared;
  throw new InvalidSceneContentError(
    sceneIndex,
    problem.code,
    `${where}: ${problem.message}`,
    problem.blockIndex !== undefined ? { block_index: problem.blockIndex } : undefined,
  );
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (typeof value === 'object' && value !== null) return Object.entries(value).some(([key, inner]) => key.includes('\u0000') || containsNul(inner));
  return false;
}

function parseField<T>(schema: z.ZodType<T, unknown>, value: unknown, where: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new InvalidScriptFieldsError(`${where}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
}

async function lockScript(tx: Tx, scriptId: string): Promise<void> {
  const rows = await tx.$queryRaw<{ script_id: string }[]>`SELECT script_id FROM scripts WHERE script_id = ${scriptId}::uuid FOR NO KEY UPDATE`;
  if (rows.length === 0) throw new ScriptNotFoundError(scriptId);
}

async function touchScript(tx: Tx, scriptId: string): Promise<void> {
  await tx.$executeRaw`UPDATE scripts SET updated_at = now() WHERE script_id = ${scriptId}::uuid`;
}

interface SceneEntryRow {
  scene_id: string;
  position: number;
  scene_heading: string | null;
  deleted_at: Date | null;
}

const entryOf = (row: SceneEntryRow): SceneEntry => ({ sceneId: row.scene_id, position: row.position, sceneHeading: row.scene_heading, deletedAt: row.deleted_at });

async function liveScenes(db: Tx | PrismaClient, scriptId: string): Promise<SceneEntry[]> {
  const rows = await db.$queryRaw<SceneEntryRow[]>`
    SELECT scene_id, position, scene_heading, deleted_at FROM scenes
    WHERE script_id = ${scriptId}::uuid AND deleted_at IS NULL
    ORDER BY position, scene_id`;
  return rows.map(entryOf);
}

async function sceneOfScript(tx: Tx, scriptId: string, sceneId: string): Promise<SceneEntry> {
  const rows = await tx.$queryRaw<SceneEntryRow[]>`
    SELECT scene_id, position, scene_heading, deleted_at FROM scenes
    WHERE scene_id = ${sceneId}::uuid AND script_id = ${scriptId}::uuid`;
  if (rows.length === 0) throw new SceneNotInScriptError(scriptId, sceneId);
  return entryOf(rows[0]!);
}

/** `order` with `id` inserted at `position` (null: a gap the caller fills afterwards). */
function withInserted(order: readonly string[], position: number, id: string | null): (string | null)[] {
  return [...order.slice(0, position), id, ...order.slice(position)];
}

/**
 * Gives each scene of `order` its index as position (a null entry is a position left free),
 * writing only the rows whose position changes: first to a negative position unique to the row,
 * then to the final one (see the class comment for why two statements).
 */
async function writePositions(tx: Tx, current: readonly SceneEntry[], order: readonly (string | null)[]): Promise<void> {
  const held = new Map(current.map((entry) => [entry.sceneId, entry.position]));
  const moves: { sceneId: string; position: number }[] = [];
  order.forEach((sceneId, position) => {
    if (sceneId !== null && held.get(sceneId) !== position) moves.push({ sceneId, position });
  });
  if (moves.length === 0) return;
  const ids = Prisma.join(moves.map((move) => Prisma.sql`${move.sceneId}::uuid`));
  await tx.$executeRaw`UPDATE scenes SET position = -1 - position WHERE scene_id IN (${ids})`;
  const values = Prisma.join(moves.map((move) => Prisma.sql`(${move.sceneId}::uuid, ${move.position}::int)`));
  await tx.$executeRaw`UPDATE scenes AS s SET position = v.position FROM (VALUES ${values}) AS v(scene_id, position) WHERE s.scene_id = v.scene_id`;
}

function orderChange(scenes: SceneEntry[], sceneId: string): SceneOrderChange {
  return { scene: scenes.find((entry) => entry.sceneId === sceneId)!, scenes };
}

function scriptRow(row: { scriptId: string; ownerId: string; title: string; titlePage: Prisma.JsonValue | null; createdAt: Date; updatedAt: Date }): ScriptRow {
  return {
    scriptId: row.scriptId,
    ownerId: row.ownerId,
    title: row.title,
    titlePage: (row.titlePage as TitlePage | null) ?? null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function jsonOrDbNull(value: TitlePage | null): Prisma.InputJsonValue | typeof Prisma.DbNull {
  return value === null ? Prisma.DbNull : value;
}

function isRecordNotFound(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2025';
}
