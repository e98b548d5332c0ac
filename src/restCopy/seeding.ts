// Seeding a scene's Yjs log from its REST copy, exactly once, decided by the database
// (reliability plan 2.1, architecture document 11.2). The load-time extension and the
// migrate-rest-to-yjs job both go through `SceneSeeder.seedIfEmpty`, so a scene an editor opens
// while the migration runs is seeded by one of them, not both.
import * as Y from 'yjs';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { replayUpdates } from '../log/replay.ts';
import { SceneNotFoundError } from '../errors.ts';
import { AlreadyInLog, type AppendedVersion, type SceneLog } from '../log/sceneLog.ts';
import { getScreenplayConverter, seedClientIdFor, yDocBlockCount, type ScreenplayConverter } from '../screenplay/convert.ts';
import { canonicalBlocksJSON } from '../screenplay/restBlocks.ts';
import { decideUnderLock, pickSeedClientId, type CorruptionKind, type CorruptionPolicy } from './decisions.ts';
import { prepareSeed, type RestContentProblem, type SeedPreparation } from './restContent.ts';

export interface SceneSeederConfiguration {
  prisma: PrismaClient;
  sceneLog: SceneLog;
  converter?: ScreenplayConverter;
  /** Longest the seeding transaction may stay open (it replays the log when it is not empty). */
  transactionTimeoutMs?: number;
}

export interface SeedOptions {
  corruptionPolicy: CorruptionPolicy;
  /**
   * Replay the rows when the log is not empty (the load path needs the state and must tell
   * "someone else seeded" from "the rows replay empty"); the migration only needs to know that
   * rows exist.
   */
  replayExistingLog: boolean;
  /** Decide and prepare everything, including the seed update, but store nothing. */
  dryRun?: boolean;
  /** How the seed reads in the change feed: `seed` (default), or `import` for a script imported from a file. */
  changeKind?: 'seed' | 'import';
}

/** A seed appended to the log. */
export interface AppendedSeed {
  version: AppendedVersion;
  update: Uint8Array;
  clientId: number;
}

interface Common {
  sceneId: string;
  /** Rows stored for the scene when the lock was taken. */
  storedRows: number;
  /** The replayed log (an update for an empty document), when it was replayed. */
  state: Uint8Array | null;
}

export type SeedResult =
  | { outcome: 'scene-not-found'; sceneId: string }
  | (Common & { outcome: 'seeded'; seed: AppendedSeed; blockCount: number; checksum: string })
  | (Common & { outcome: 'would-seed'; update: Uint8Array; blockCount: number; checksum: string })
  /** The log already has content (another instance or connection seeded or edited first). */
  | (Common & { outcome: 'log-has-content'; replayedBlockCount: number })
  /** The log has rows that were not replayed (`replayExistingLog: false`). */
  | (Common & { outcome: 'has-log' })
  | (Common & { outcome: 'nothing-to-seed' })
  | (Common & {
      outcome: 'invalid-rest';
      problem: RestContentProblem;
      restBlockCount: number | null;
      corruption: CorruptionKind | null;
    })
  | (Common & {
      outcome: 'corrupt';
      kind: CorruptionKind;
      restBlockCount: number;
      /** The seed appended under the `reseed` policy (null under `log`, or in a dry run). */
      reseed: AppendedSeed | null;
      /** True when the policy asked for a reseed (appended unless this was a dry run). */
      reseedRequested: boolean;
    });

interface LockedSceneRow {
  content_blocks: unknown;
  yjs_seeded_at: Date | null;
}

const DEFAULT_TRANSACTION_TIMEOUT_MS = 30_000;

export class SceneSeeder {
  private readonly configuration: Required<SceneSeederConfiguration>;

  constructor(configuration: SceneSeederConfiguration) {
    this.configuration = {
      converter: getScreenplayConverter(),
      transactionTimeoutMs: DEFAULT_TRANSACTION_TIMEOUT_MS,
      ...configuration,
    };
  }

  /**
   * Seeds the scene from its REST copy if, and only if, its log is empty and it was never seeded,
   * checked inside one transaction that holds the scene row (FOR NO KEY UPDATE) and the log head
   * row (see `SceneLog.lockHead`). Concurrent callers on any instance queue on those locks; the
   * first appends the seed and marks the scene, the others find the log no longer empty. Holding
   * the head row also keeps client appends out between the check and the seed.
   *
   * The seed is appended with `created_by` NULL (the system). The scene is marked seeded
   * (`yjs_seeded_at`) and, since its REST copy now equals the log at the seed's seq, migrated
   * (`snapshot_source = 'migrated'`, `yjs_derived`, `snapshot_seq`, `yjs_checksum`); a scene made
   * by an import keeps `snapshot_source = 'import'`, where its content came from.
   */
  async seedIfEmpty(sceneId: string, options: SeedOptions): Promise<SeedResult> {
    try {
      return await this.configuration.prisma.$transaction(
        async (tx) => {
          const result = await this.seedInTransaction(tx, sceneId, options);
          // A dry run takes the same locks and makes the same decision, then rolls back: even the
          // head row `lockHead` creates for a scene never appended to is not kept.
          if (options.dryRun) throw new DryRunRollback(result);
          return result;
        },
        { timeout: this.configuration.transactionTimeoutMs },
      );
    } catch (error) {
      if (error instanceof DryRunRollback) return error.result;
      throw error;
    }
  }

  private async seedInTransaction(tx: Prisma.TransactionClient, sceneId: string, options: SeedOptions): Promise<SeedResult> {
    const { sceneLog, converter } = this.configuration;
    const log = sceneLog.withTransaction(tx);
    const scene = await lockSceneRow(tx, sceneId);
    if (!scene) return { outcome: 'scene-not-found', sceneId };
    await log.lockHead(sceneId);
    const { stored: storedRows } = await log.counts(sceneId);

    let state: Uint8Array | null = null;
    let replayedBlockCount: number | null = null;
    let taken = new Set<number>();
    if (storedRows === 0) {
      replayedBlockCount = options.replayExistingLog ? 0 : null;
    } else if (options.replayExistingLog) {
      state = replayUpdates(await log.load(sceneId)).state;
      const replayed = new Y.Doc();
      try {
        Y.applyUpdate(replayed, state);
        replayedBlockCount = yDocBlockCount(replayed);
        taken = new Set(Y.decodeStateVector(Y.encodeStateVector(replayed)).keys());
      } finally {
        replayed.destroy();
      }
    }

    // When the log already decides (it has rows that were not replayed, or that replay to
    // content), the REST copy is irrelevant: skip its round trip, the costly part of a
    // migration pass over scenes that are already migrated.
    const logDecides = storedRows > 0 && replayedBlockCount !== 0;
    const seed: SeedPreparation = logDecides ? { kind: 'empty' } : prepareSeed(scene.content_blocks, converter);
    const common: Common = { sceneId, storedRows, state };
    const decision = decideUnderLock(
      { storedRows, replayedBlockCount, seeded: scene.yjs_seeded_at !== null, rest: seed.kind },
      options.corruptionPolicy,
    );
    switch (decision.action) {
      case 'serve-log':
        return { ...common, outcome: 'log-has-content', replayedBlockCount: replayedBlockCount ?? 0 };
      case 'skip-has-log':
        return { ...common, outcome: 'has-log' };
      case 'nothing-to-seed':
        return { ...common, outcome: 'nothing-to-seed' };
      case 'refuse-invalid-rest': {
        const invalid = seed as Extract<typeof seed, { kind: 'invalid' }>;
        return {
          ...common,
          outcome: 'invalid-rest',
          problem: invalid.problem,
          restBlockCount: invalid.blockCount,
          corruption: decision.corruption,
        };
      }
      case 'seed': {
        const valid = seed as Extract<typeof seed, { kind: 'valid' }>;
        if (options.dryRun) {
          return { ...common, outcome: 'would-seed', update: valid.update, blockCount: valid.blockCount, checksum: valid.checksum };
        }
        const clientId = seedClientIdFor(canonicalBlocksJSON(valid.blocks));
        const version = await appendSystemUpdate(log, sceneId, valid.update, options.changeKind);
        await tx.$executeRaw`
          UPDATE scenes
          SET yjs_seeded_at = now(),
              snapshot_source = CASE WHEN snapshot_source = 'import' THEN 'import'::"SnapshotSource" ELSE 'migrated'::"SnapshotSource" END,
              yjs_derived = true,
              snapshot_at = now(),
              yjs_checksum = ${valid.checksum},
              snapshot_seq = GREATEST(COALESCE(snapshot_seq, 0), ${version.seq})
          WHERE scene_id = ${sceneId}::uuid`;
        return {
          ...common,
          outcome: 'seeded',
          seed: { version, update: valid.update, clientId },
          blockCount: valid.blockCount,
          checksum: valid.checksum,
        };
      }
      case 'corrupt': {
        const valid = seed as Extract<typeof seed, { kind: 'valid' }>;
        const result = {
          ...common,
          outcome: 'corrupt' as const,
          kind: decision.kind,
          restBlockCount: valid.blockCount,
          reseedRequested: decision.reseed,
        };
        if (!decision.reseed || options.dryRun) return { ...result, reseed: null };
        // Never deletes: the rows that replay empty stay for whoever investigates; the seed
        // goes on top as a new version, under an id the document has no items from.
        const clientId = pickSeedClientId(seedClientIdFor(canonicalBlocksJSON(valid.blocks)), taken);
        const update = converter.encodeRestBlocksAsUpdate(valid.blocks, { clientId });
        const version = await appendSystemUpdate(log, sceneId, update, options.changeKind);
        await tx.$executeRaw`
          UPDATE scenes SET yjs_seeded_at = COALESCE(yjs_seeded_at, now()) WHERE scene_id = ${sceneId}::uuid`;
        return { ...result, reseed: { version, update, clientId } };
      }
    }
  }
}

/** Carries a dry run's result out of the transaction it rolls back. */
class DryRunRollback extends Error {
  constructor(readonly result: SeedResult) {
    super('dry run: rolled back');
    this.name = 'DryRunRollback';
  }
}

/** The scene row, locked against other seeders and clear-yjs until the transaction ends. */
async function lockSceneRow(tx: Prisma.TransactionClient, sceneId: string): Promise<LockedSceneRow | null> {
  // FOR NO KEY UPDATE, not FOR UPDATE: appends' foreign-key checks take KEY SHARE on this row, and
  // FOR UPDATE would make them wait for (and possibly deadlock with) the seeding transaction.
  const rows = await tx.$queryRaw<LockedSceneRow[]>`
    SELECT content_blocks, yjs_seeded_at FROM scenes WHERE scene_id = ${sceneId}::uuid FOR NO KEY UPDATE`;
  return rows[0] ?? null;
}

async function appendSystemUpdate(log: SceneLog, sceneId: string, update: Uint8Array, kind: 'seed' | 'import' = 'seed'): Promise<AppendedVersion> {
  const [appended] = await log.append([{ sceneId, update, createdBy: null, kind }]);
  // Cannot happen while the scene row is locked; if it does, the transaction must not commit.
  if (!appended || appended instanceof SceneNotFoundError) throw appended ?? new SceneNotFoundError(sceneId);
  // Nor this: a seed's items come from a client id the log holds nothing from (clear-yjs resets
  // the clocks with the rows). A seed that is not stored must not be reported as one.
  if (appended instanceof AlreadyInLog) throw new Error(`the seed of scene ${sceneId} is already in its log; nothing was seeded`);
  return appended;
}
