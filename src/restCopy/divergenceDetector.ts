import { SceneNotFoundError } from '../errors.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { FIRST_SCENE } from '../log/rows.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { deriveFromLog, type DerivedScene } from '../scenes/sceneState.ts';
import { inlineYjsWork, type YjsWork } from '../workers/pool.ts';
import type { SnapshotOutcome, SnapshotService } from './snapshots.ts';
import {
  compareSceneContent,
  describeUnconvertible,
  DIVERGENT_CAUSES,
  divergenceRate,
  isLagging,
  type DiffOptions,
  type DivergenceCause,
  type DivergenceReport,
  type DivergenceSeverity,
  type RecommendedAction,
} from './divergence.ts';

export type RepairStrategy = 'PREFER_YJS';

export interface RepairResult {
  scene_id: string;
  strategy: RepairStrategy;
  /** True when the REST copy was rewritten. */
  repaired: boolean;
  before: DivergenceReport;
  after: DivergenceReport;
  /** The snapshot the repair wrote (or tried to); null when nothing needed repair or could be repaired. */
  snapshot: { status: SnapshotOutcome['status']; seq: number | null } | null;
}

export interface DivergedScene {
  scene_id: string;
  cause: DivergenceCause;
  severity: DivergenceSeverity | null;
  recommended_action: RecommendedAction;
}

export interface DivergenceSweep {
  checked_at: string;
  duration_ms: number;
  scenes_checked: number;
  /** Real divergence (counted in the rate). */
  scenes_diverged: number;
  /** REST copies that are only behind the log. */
  scenes_lagging: number;
  /** Scenes whose check failed with an error (database, ...): not counted either way. */
  scenes_failed: number;
  /** Fraction of checked scenes that diverge (0.002 = 0.2%). */
  divergence_rate: number;
  severity_counts: Record<DivergenceSeverity, number>;
  /** Diverged scenes, worst first, at most `MAX_LISTED`. */
  diverged: DivergedScene[];
}

export class UnsupportedRepairStrategyError extends Error {
  readonly code = 'UNSUPPORTED_REPAIR_STRATEGY';
  constructor(strategy: string) {
    super(`Repair strategy ${JSON.stringify(strategy)} is not supported: the REST copy is only ever rewritten from Yjs (PREFER_YJS)`);
    this.name = 'UnsupportedRepairStrategyError';
  }
}

export interface DivergenceDetectorConfiguration {
  prisma: PrismaClient;
  sceneLog: SceneLog;
  snapshots: SnapshotService;
  metrics: Metrics;
  logger: Logger;
  /** Scenes one sweep checks at most (the health route runs a bounded sweep on demand). */
  sweepLimit: number;
  diff?: Partial<DiffOptions>;
  now: () => Date;
  /** Where the log is replayed and converted (the server's worker pool); default: this thread. */
  work: YjsWork;
}

const defaults = { sweepLimit: 100, now: () => new Date(), work: inlineYjsWork };
const MAX_LISTED = 50;
const SEVERITY_ORDER: Record<DivergenceSeverity, number> = { critical: 0, moderate: 1, minor: 2 };

interface RestRow {
  content_blocks: unknown;
  snapshot_seq: bigint | null;
  yjs_checksum: string | null;
  yjs_derived: boolean;
}

/**
 * Compares each scene's Yjs-derived content with its REST copy (section 4.5) and repairs the REST
 * copy from Yjs when asked. The Yjs log is the source of truth, so there is no strategy that
 * writes REST content into the log.
 */
export class DivergenceDetector {
  private readonly configuration: DivergenceDetectorConfiguration;
  private last: DivergenceSweep | null = null;
  private running: Promise<DivergenceSweep> | null = null;
  /** Where the next bounded sweep starts, so successive sweeps cover every scene in turn. */
  private cursor = FIRST_SCENE;

  constructor(configuration: Omit<DivergenceDetectorConfiguration, keyof typeof defaults> & Partial<Pick<DivergenceDetectorConfiguration, keyof typeof defaults>>) {
    this.configuration = { ...defaults, ...configuration };
  }

  async checkScene(sceneId: string): Promise<DivergenceReport> {
    const { prisma, sceneLog, now, diff, work } = this.configuration;
    // The REST copy is read first and the log after it, so the Yjs side is never older than the
    // copy: a snapshot written in between shows up as lag, never as a copy ahead of the log.
    const rest = await prisma.$queryRaw<RestRow[]>`
      SELECT content_blocks, snapshot_seq, yjs_checksum, yjs_derived FROM scenes WHERE scene_id = ${sceneId}::uuid`;
    if (rest.length === 0) throw new SceneNotFoundError(sceneId);
    const row = rest[0]!;

    let derived: DerivedScene | null = null;
    let hasYjsLog: boolean;
    let yjsError: string | null = null;
    try {
      derived = await deriveFromLog(sceneLog, sceneId, work);
      hasYjsLog = derived !== null;
    } catch (error) {
      yjsError = describeUnconvertible(error);
      hasYjsLog = true;
    }
    return compareSceneContent(
      {
        sceneId,
        hasYjsLog,
        yjsBlocks: derived?.blocks ?? null,
        yjsError,
        yjsSeq: derived?.seq ?? null,
        restBlocks: row.content_blocks,
        restSnapshotSeq: row.snapshot_seq == null ? null : BigInt(row.snapshot_seq),
        restRecordedChecksum: row.yjs_checksum,
        restYjsDerived: row.yjs_derived,
        checkedAt: now(),
      },
      diff,
    );
  }

  /**
   * Rewrites a diverged REST copy from the Yjs state through the snapshot service's guarded write.
   * A copy at the same sequence number may be rewritten (that is the repair of a copy modified
   * behind the snapshot's back); an older state never replaces a newer one.
   */
  async autoRepair(sceneId: string, strategy: RepairStrategy = 'PREFER_YJS', options: { createdBy?: string | null } = {}): Promise<RepairResult> {
    if (strategy !== 'PREFER_YJS') throw new UnsupportedRepairStrategyError(strategy);
    const { snapshots, logger } = this.configuration;
    const before = await this.checkScene(sceneId);
    if (!before.diverged || before.cause === 'yjs_unreadable') {
      return { scene_id: sceneId, strategy, repaired: false, before, after: before, snapshot: null };
    }
    const outcome = await snapshots.snapshotScene(sceneId, { allowSameSeq: true, createdBy: options.createdBy ?? null });
    const after = await this.checkScene(sceneId);
    const repaired = outcome.status === 'written';
    logger.info({ sceneId, cause: before.cause, severity: before.severity, repaired, afterCause: after.cause }, 'divergence auto-repair (PREFER_YJS)');
    return {
      scene_id: sceneId,
      strategy,
      repaired,
      before,
      after,
      snapshot: { status: outcome.status, seq: outcome.status === 'no_versions' ? null : Number(outcome.seq) },
    };
  }

  /**
   * Checks up to `limit` scenes with a Yjs log, continuing where the previous sweep stopped, and
   * publishes the divergence rate (`divergence_rate`, in percent as its help text says).
   */
  async sweep(options: { limit?: number } = {}): Promise<DivergenceSweep> {
    const { metrics, logger, now } = this.configuration;
    const limit = options.limit ?? this.configuration.sweepLimit;
    const started = Date.now();
    let ids = await this.sceneIdsAfter(this.cursor, limit);
    if (ids.length < limit && this.cursor !== FIRST_SCENE) {
      // Wrap around to the start of the id space, without checking a scene twice in one sweep.
      const seen = new Set(ids);
      ids = ids.concat((await this.sceneIdsAfter(FIRST_SCENE, limit - ids.length)).filter((id) => !seen.has(id)));
    }
    const reports: DivergenceReport[] = [];
    let failed = 0;
    for (const id of ids) {
      try {
        reports.push(await this.checkScene(id));
      } catch (error) {
        if (error instanceof SceneNotFoundError) continue; // deleted since it was listed
        failed += 1;
        logger.error({ err: error, sceneId: id }, 'divergence check failed; the sweep continues');
      }
    }
    this.cursor = ids.length > 0 ? ids[ids.length - 1]! : FIRST_SCENE;

    const causes = reports.map((report) => report.cause);
    const rate = divergenceRate(causes);
    metrics.divergenceRate.set(rate * 100);
    const divergedReports = reports.filter((report) => DIVERGENT_CAUSES.has(report.cause));
    const severityCounts: Record<DivergenceSeverity, number> = { minor: 0, moderate: 0, critical: 0 };
    for (const report of divergedReports) if (report.severity) severityCounts[report.severity] += 1;
    const sweep: DivergenceSweep = {
      checked_at: now().toISOString(),
      duration_ms: Date.now() - started,
      scenes_checked: reports.length,
      scenes_diverged: divergedReports.length,
      scenes_lagging: causes.filter(isLagging).length,
      scenes_failed: failed,
      divergence_rate: rate,
      severity_counts: severityCounts,
      diverged: divergedReports
        .sort((a, b) => SEVERITY_ORDER[a.severity ?? 'minor'] - SEVERITY_ORDER[b.severity ?? 'minor'])
        .slice(0, MAX_LISTED)
        .map((report) => ({
          scene_id: report.scene_id,
          cause: report.cause,
          severity: report.severity,
          recommended_action: report.recommended_action,
        })),
    };
    this.last = sweep;
    if (sweep.scenes_diverged > 0) {
      logger.warn({ diverged: sweep.scenes_diverged, checked: sweep.scenes_checked, rate }, 'REST copies diverge from the Yjs state');
    }
    return sweep;
  }

  /** The result of the last sweep of this process, or null before the first. */
  lastSweep(): DivergenceSweep | null {
    return this.last;
  }

  /**
   * The last sweep if it is younger than `maxAgeMs`, else a new bounded one. Concurrent callers
   * share one sweep, so polling the health route cannot pile up work.
   */
  async currentStatus(maxAgeMs: number): Promise<DivergenceSweep> {
    const { now } = this.configuration;
    if (this.last && now().getTime() - Date.parse(this.last.checked_at) < maxAgeMs) return this.last;
    this.running ??= this.sweep().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async sceneIdsAfter(cursor: string, limit: number): Promise<string[]> {
    return this.configuration.sceneLog.figures.scenesWithLog(cursor, limit);
  }
}
