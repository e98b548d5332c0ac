// Validation of a scene right after the append log has been replayed into its live document
// (reliability plan 1.3 and 2.1): seed an empty scene from REST once, detect a log that replays
// empty, and report divergence. Returns what the live document must apply; it never touches the
// document itself, so the Hocuspocus extension decides how (with an "already stored" origin).
import * as Y from 'yjs';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { yDocBlockCount } from '../screenplay/convert.ts';
import { ScreenplayConversionError } from '../screenplay/index.ts';
import { inlineYjsWork, type YjsWork } from '../workers/pool.ts';
import { decideOnLoad, type CorruptionKind, type CorruptionPolicy } from './decisions.ts';
import { compareSceneContent, describeUnconvertible, firstDifferentBlock, type DivergenceCause, type DivergenceReport, type DivergenceFacts } from './divergence.ts';
import { SceneSeedingError } from './errors.ts';
import { readRestContent } from './restContent.ts';
import type { SceneSeeder, SeedResult } from './seeding.ts';

/** The `scene_load_checks_total{result}` label of a load, part of the metric's observable contract. */
export type LoadCheckResult =
  // The document had content and was compared with REST (never overwritten from it): the
  // comparison's cause, as `loadCheckResultOf` labels it.
  | 'in-sync'
  | 'diverged'
  | 'yjs-unreadable'
  | 'rest-invalid'
  // The REST copy could not be read; the document (which has content) is served unchecked.
  | 'unchecked'
  // The document was empty.
  | 'empty-scene'
  | 'seeded'
  | 'loaded-existing'
  | 'invalid-rest'
  | 'corrupt'
  | 'reseeded'
  | 'scene-not-found';

export interface CorruptionReport {
  kind: CorruptionKind;
  storedRows: number;
  restBlockCount: number | null;
  policy: CorruptionPolicy;
  reseeded: boolean;
}

export interface SceneLoadCheck {
  sceneId: string;
  result: LoadCheckResult;
  /**
   * Updates the live document must apply, all already in the log: the seed, a reseed, or the log
   * as another instance left it. Applying one the document already has is a no-op.
   */
  updates: Uint8Array[];
  /** For a document that had content: how it compares with REST (the divergence detector's report). */
  divergence: DivergenceReport | null;
  corruption: CorruptionReport | null;
  /** The version appended by this load (seed or reseed). */
  appended: { versionId: string; seq: bigint } | null;
}

export interface SceneLoadValidatorConfiguration {
  prisma: PrismaClient;
  sceneLog: SceneLog;
  seeder: SceneSeeder;
  corruptionPolicy: CorruptionPolicy;
  metrics: Metrics;
  logger: Logger;
  /** Where the loaded document is converted for the comparison (the server's worker pool): not the thread that serves the editors. */
  work?: Pick<YjsWork, 'blocksFromState'>;
  now?: () => Date;
}

/** A scene's REST copy and what its last snapshot recorded about it. */
interface RestCopyRow {
  contentBlocks: unknown;
  snapshotSeq: bigint | null;
  yjsChecksum: string | null;
  yjsDerived: boolean;
}

export class SceneLoadValidator {
  private readonly configuration: Required<SceneLoadValidatorConfiguration>;

  constructor(configuration: SceneLoadValidatorConfiguration) {
    this.configuration = { work: inlineYjsWork, now: () => new Date(), ...configuration };
  }

  /**
   * Checks the freshly loaded `document` of `sceneId`. Throws `SceneSeedingError` only when the
   * document is empty and the database could not be asked whether to seed it: serving it then
   * would let editors type into a blank scene whose REST content would never be seeded.
   */
  async check(document: Y.Doc, sceneId: string): Promise<SceneLoadCheck> {
    const documentBlockCount = yDocBlockCount(document);
    if (documentBlockCount > 0) return this.compareWithRest(document, sceneId);
    let scene: RestCopyRow | null;
    try {
      scene = await this.readRestCopy(sceneId);
    } catch (error) {
      this.configuration.logger.error({ err: error, sceneId }, 'could not read the REST copy of an empty scene; connection refused');
      throw new SceneSeedingError(sceneId, { cause: error });
    }
    if (!scene) return this.finish({ ...blank(sceneId), result: 'scene-not-found' });

    const rest = readRestContent(scene.contentBlocks);
    const decision = decideOnLoad({ documentBlockCount, rest: rest.kind });
    switch (decision.action) {
      case 'compare':
        return this.finish(await this.compare(Y.encodeStateAsUpdate(document), sceneId, scene));
      case 'serve-empty':
        return this.finish({ ...blank(sceneId), result: 'empty-scene' });
      case 'check-under-lock':
        return this.finish(await this.seedUnderLock(sceneId));
    }
  }

  /**
   * Whether the scene must be checked before anyone edits it: only an empty document can need a
   * seed or a repair. A document with content is served as it is and only compared with REST,
   * which `compareWithRest` can do once the editor already has it.
   */
  mustCheckBeforeServing(document: Y.Doc): boolean {
    return yDocBlockCount(document) === 0;
  }

  /** Compares a document that has content with the scene's REST copy. It never changes either, and never throws. */
  async compareWithRest(document: Y.Doc, sceneId: string): Promise<SceneLoadCheck> {
    let scene: RestCopyRow | null;
    try {
      scene = await this.readRestCopy(sceneId);
    } catch (error) {
      return this.unchecked(sceneId, error);
    }
    if (!scene) return this.finish({ ...blank(sceneId), result: 'scene-not-found' });
    // The row was read first; the document is read (encoded) now, before the log head. Returned,
    // not awaited: this call ends here and holds the document no longer, so a scene that unloads
    // while its conversion waits on the worker pool is freed.
    return this.compare(Y.encodeStateAsUpdate(document), sceneId, scene).then(
      (check) => this.finish(check),
      (error: unknown) => this.unchecked(sceneId, error),
    );
  }

  private unchecked(sceneId: string, error: unknown): SceneLoadCheck {
    this.configuration.logger.warn({ err: error, sceneId }, 'could not compare the scene with its REST copy; the Yjs content is served unchecked');
    return this.finish({ ...blank(sceneId), result: 'unchecked' });
  }

  private readRestCopy(sceneId: string): Promise<RestCopyRow | null> {
    return this.configuration.prisma.scene.findUnique({
      where: { sceneId },
      select: { contentBlocks: true, snapshotSeq: true, yjsChecksum: true, yjsDerived: true },
    });
  }

  /** The document's blocks, converted on the worker pool; content that does not convert is reported, not thrown. */
  private async yjsSide(state: Uint8Array): Promise<Pick<DivergenceFacts, 'yjsBlocks' | 'yjsError'>> {
    try {
      return { yjsBlocks: await this.configuration.work.blocksFromState(state), yjsError: null };
    } catch (error) {
      if (!(error instanceof ScreenplayConversionError)) throw error;
      return { yjsBlocks: null, yjsError: describeUnconvertible(error) };
    }
  }

  /**
   * Compares a document's `state` (encoded after its REST row was read) with that row. The log
   * head is read after the state, so it covers everything the document holds and a copy older than
   * the document shows up as lag.
   */
  private async compare(state: Uint8Array, sceneId: string, scene: RestCopyRow): Promise<SceneLoadCheck> {
    const { sceneLog, logger, now } = this.configuration;
    const logSeq = await sceneLog.head(sceneId);
    const yjs = await this.yjsSide(state);
    const divergence = compareSceneContent({
      sceneId,
      // The document has content, so there is a Yjs state to compare.
      hasYjsLog: true,
      ...yjs,
      yjsSeq: logSeq,
      restBlocks: scene.contentBlocks,
      restSnapshotSeq: scene.snapshotSeq,
      restRecordedChecksum: scene.yjsChecksum,
      restYjsDerived: scene.yjsDerived,
      checkedAt: now(),
    });
    const result = loadCheckResultOf(divergence.cause);
    const problem = divergence.yjs_error ?? divergence.rest_error;
    const fields = {
      sceneId,
      result,
      cause: divergence.cause,
      yjsBlocks: divergence.yjs_block_count,
      restBlocks: divergence.rest_block_count,
      firstDifferentBlock: firstDifferentBlock(divergence),
      problem: problem ?? undefined,
    };
    // The REST copy trails the log by up to a snapshot interval, so divergence on load is normal
    // and only informative; content either side cannot convert is a real problem.
    if (problem !== null) logger.warn(fields, 'scene loaded; Yjs and REST could not be compared');
    else if (divergence.cause === 'in_sync') logger.debug(fields, 'scene loaded; Yjs and REST agree');
    else logger.info(fields, 'scene loaded; Yjs differs from the REST copy (Yjs is served)');
    return { ...blank(sceneId), result, divergence };
  }

  private async seedUnderLock(sceneId: string): Promise<SceneLoadCheck> {
    const { seeder, corruptionPolicy, logger } = this.configuration;
    let seeded: SeedResult;
    try {
      seeded = await seeder.seedIfEmpty(sceneId, { corruptionPolicy, replayExistingLog: true });
    } catch (error) {
      logger.error({ err: error, sceneId }, 'seeding check failed; connection refused');
      throw new SceneSeedingError(sceneId, { cause: error });
    }
    if (seeded.outcome === 'scene-not-found') return { ...blank(sceneId), result: 'scene-not-found' };
    const existing = seeded.state ? [seeded.state] : [];

    switch (seeded.outcome) {
      case 'seeded':
        logger.info(
          {
            sceneId,
            versionId: seeded.seed.version.versionId,
            seq: seeded.seed.version.seq.toString(),
            blocks: seeded.blockCount,
            bytes: seeded.seed.update.byteLength,
          },
          'empty scene seeded from its REST copy',
        );
        return {
          ...blank(sceneId),
          result: 'seeded',
          updates: [seeded.seed.update],
          appended: { versionId: seeded.seed.version.versionId, seq: seeded.seed.version.seq },
        };
      case 'log-has-content':
        // Another instance (or an earlier load here) seeded or edited between our replay and our
        // lock: what is in the log now is the scene.
        logger.info({ sceneId, storedRows: seeded.storedRows }, 'scene was seeded elsewhere first; serving the log');
        return { ...blank(sceneId), result: 'loaded-existing', updates: existing };
      case 'nothing-to-seed':
        return { ...blank(sceneId), result: 'empty-scene', updates: existing };
      case 'invalid-rest': {
        const corruption: CorruptionReport | null = seeded.corruption
          ? { kind: seeded.corruption, storedRows: seeded.storedRows, restBlockCount: seeded.restBlockCount, policy: corruptionPolicy, reseeded: false }
          : null;
        if (corruption) this.reportCorruption(sceneId, corruption);
        // Decided: invalid REST content is never seeded, not even to repair corruption. A lossy
        // seed would become the source of truth; the log (possibly empty) is served instead and
        // the REST copy stays untouched for someone to repair.
        logger.error(
          {
            sceneId,
            code: seeded.problem.code,
            problem: seeded.problem.message,
            blockIndex: seeded.problem.blockIndex,
            restBlocks: seeded.restBlockCount,
            storedRows: seeded.storedRows,
          },
          'REST copy failed validation or the round trip; not seeded, serving what the log has',
        );
        return { ...blank(sceneId), result: 'invalid-rest', updates: existing, corruption };
      }
      case 'corrupt': {
        const corruption: CorruptionReport = {
          kind: seeded.kind,
          storedRows: seeded.storedRows,
          restBlockCount: seeded.restBlockCount,
          policy: corruptionPolicy,
          reseeded: seeded.reseed !== null,
        };
        this.reportCorruption(sceneId, corruption);
        if (!seeded.reseed) return { ...blank(sceneId), result: 'corrupt', updates: existing, corruption };
        logger.warn(
          { sceneId, versionId: seeded.reseed.version.versionId, seq: seeded.reseed.version.seq.toString(), blocks: seeded.restBlockCount },
          'corrupt scene reseeded from its REST copy as a new version (nothing deleted)',
        );
        return {
          ...blank(sceneId),
          result: 'reseeded',
          updates: [...existing, seeded.reseed.update],
          corruption,
          appended: { versionId: seeded.reseed.version.versionId, seq: seeded.reseed.version.seq },
        };
      }
      case 'would-seed':
      case 'has-log':
        // Only a dry run or a caller that does not replay gets these; this one does neither.
        throw new Error(`unexpected seeding outcome ${seeded.outcome} on load`);
    }
  }

  private reportCorruption(sceneId: string, corruption: CorruptionReport): void {
    this.configuration.metrics.corruptionDetected.inc();
    this.configuration.logger.warn(
      {
        event: 'YJS_CORRUPTION_DETECTED',
        sceneId,
        kind: corruption.kind,
        storedRows: corruption.storedRows,
        yjsBlocks: 0,
        restBlocks: corruption.restBlockCount,
        policy: corruption.policy,
      },
      'stored Yjs updates replay to an empty document while the REST copy has content',
    );
  }

  private finish(check: SceneLoadCheck): SceneLoadCheck {
    this.configuration.metrics.sceneLoadChecks.inc({ result: check.result });
    if (check.appended) this.configuration.metrics.updatesAppended.inc({ origin: 'server' });
    return check;
  }
}

/** The metric label of a comparison at load; the labels predate the detector's causes and stay. */
export function loadCheckResultOf(cause: DivergenceCause): LoadCheckResult {
  switch (cause) {
    case 'in_sync':
      return 'in-sync';
    case 'snapshot_lag':
    case 'rest_modified':
    case 'content_mismatch':
      return 'diverged';
    case 'yjs_unreadable':
      return 'yjs-unreadable';
    case 'invalid_rest':
      return 'rest-invalid';
    case 'no_yjs_log':
      // Not reached at load (a document with content is a Yjs state); nothing was compared.
      return 'unchecked';
  }
}

function blank(sceneId: string): SceneLoadCheck {
  return { sceneId, result: 'empty-scene', updates: [], divergence: null, corruption: null, appended: null };
}
