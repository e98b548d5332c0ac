import { runCompactionPass, type CompactionPassSummary, type CompactionThresholds } from '../src/log/compactionPass.ts';
import type { SqlExecutor } from '../src/db/sql.ts';
import type { DivergenceDetector, DivergenceSweep } from '../src/restCopy/divergenceDetector.ts';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';
import { runRetentionPass, type RetentionPassSummary } from '../src/log/retention.ts';
import type { SnapshotService } from '../src/restCopy/snapshots.ts';
import { LOCK_NAMESPACES, type JobLocks } from '../src/db/locks.ts';
import type { BackgroundJob, JobContext } from './scheduler.ts';

/**
 * The server's background jobs (architecture 4.3, 4.5, 4.6, 6.3, 6.4), each a pass over the work
 * that is due, guarded per scene (or per sweep) by an advisory lock so that several instances
 * never do the same scene at the same time. The scheduler runs them on their intervals;
 * `npm run job -- <name>` runs one pass.
 */

export type BackgroundJobName = 'snapshot' | 'compaction' | 'retention' | 'divergence';

export function compactionJob(deps: {
  sql: SqlExecutor;
  logger: Logger;
  metrics?: Metrics;
  intervalMs: number;
  thresholds: CompactionThresholds;
}): BackgroundJob<CompactionPassSummary> {
  return {
    name: 'compaction',
    intervalMs: deps.intervalMs,
    run: ({ signal, progress }) => {
      let done = 0;
      return runCompactionPass({
        sql: deps.sql,
        logger: deps.logger,
        metrics: deps.metrics,
        thresholds: deps.thresholds,
        signal,
        onProgress: ({ sceneId, result, summary }) => {
          done += 1;
          const detail =
            result instanceof Error
              ? `failed: ${result.message}`
              : result.status === 'compacted'
                ? `compacted (${summary.rowsMerged} rows merged so far)`
                : `skipped: ${result.reason}`;
          progress({ done, sceneId, detail });
        },
      });
    },
  };
}

export function retentionJob(deps: {
  sql: SqlExecutor;
  logger: Logger;
  metrics?: Metrics;
  intervalMs: number;
  retentionMs: number;
  batchSize: number;
}): BackgroundJob<RetentionPassSummary> {
  return {
    name: 'retention',
    intervalMs: deps.intervalMs,
    run: ({ signal, progress }) => {
      let done = 0;
      return runRetentionPass({
        sql: deps.sql,
        logger: deps.logger,
        metrics: deps.metrics,
        retentionMs: deps.retentionMs,
        batchSize: deps.batchSize,
        signal,
        onProgress: ({ sceneId, result }) => {
          done += 1;
          progress({ done, sceneId, detail: result instanceof Error ? `failed: ${result.message}` : `deleted ${result.deletedRows} rows${result.busy ? ' (busy)' : ''}` });
        },
      });
    },
  };
}

export interface SnapshotPassSummary {
  scenesDue: number;
  written: number;
  /** Another writer had already stored the same or a newer state. */
  superseded: number;
  /** Another instance was snapshotting the scene at that moment. */
  busy: number;
  failed: number;
  aborted: boolean;
}

/** Scenes listed per query; the pass continues until no scene it has not tried is due. */
const SNAPSHOT_PAGE = 100;

/**
 * Section 6.3: every `intervalMs`, scenes whose REST copy is older than the interval and behind
 * their log get a new snapshot. The snapshot write is itself guarded by `snapshot_seq` (it never
 * goes backwards); the lock only keeps two instances from deriving the same scene twice.
 */
export function snapshotJob(deps: { snapshots: SnapshotService; locks: JobLocks; logger: Logger; intervalMs: number; now?: () => Date }): BackgroundJob<SnapshotPassSummary> {
  const now = deps.now ?? (() => new Date());
  return {
    name: 'snapshot',
    intervalMs: deps.intervalMs,
    async run({ signal, progress }: JobContext) {
      const summary: SnapshotPassSummary = { scenesDue: 0, written: 0, superseded: 0, busy: 0, failed: 0, aborted: false };
      const olderThan = new Date(now().getTime() - deps.snapshots.intervalMs);
      const tried = new Set<string>();
      for (;;) {
        // Scenes that failed or were busy come back in the next page; `tried` keeps the pass finite.
        const due = (await deps.snapshots.scenesNeedingSnapshot(olderThan, SNAPSHOT_PAGE)).filter((scene) => !tried.has(scene.sceneId));
        if (due.length === 0) break;
        for (const scene of due) {
          if (signal.aborted) {
            summary.aborted = true;
            return summary;
          }
          tried.add(scene.sceneId);
          summary.scenesDue += 1;
          let detail: string;
          try {
            const run = await deps.locks.withLock(LOCK_NAMESPACES.snapshot, scene.sceneId, () => deps.snapshots.snapshotScene(scene.sceneId, { trigger: 'yjs' }));
            if (!run.acquired) {
              summary.busy += 1;
              detail = 'busy';
            } else if (run.value.status === 'written') {
              summary.written += 1;
              detail = `written at seq ${run.value.seq}`;
            } else {
              summary.superseded += 1;
              detail = run.value.status;
            }
          } catch (error) {
            summary.failed += 1;
            detail = `failed: ${error instanceof Error ? error.message : String(error)}`;
            deps.logger.error({ err: error, sceneId: scene.sceneId }, 'snapshot of a scene failed; the pass goes on');
          }
          progress({ done: summary.scenesDue, sceneId: scene.sceneId, detail });
        }
      }
      return summary;
    },
  };
}

export type DivergencePassSummary = Omit<DivergenceSweep, 'diverged' | 'severity_counts'> & { skipped: boolean };

/**
 * Section 4.5: a bounded sweep that publishes the divergence rate (`divergence_rate`). One
 * instance sweeps at a time; the others skip that round (their health route still answers from a
 * sweep of its own when asked).
 */
export function divergenceJob(deps: { divergence: DivergenceDetector; locks: JobLocks; intervalMs: number; limit?: number }): BackgroundJob<DivergencePassSummary> {
  return {
    name: 'divergence',
    intervalMs: deps.intervalMs,
    async run({ progress }: JobContext) {
      const run = await deps.locks.withLock(LOCK_NAMESPACES.divergence, 'sweep', () => deps.divergence.sweep({ limit: deps.limit }));
      if (!run.acquired) {
        progress({ done: 0, detail: 'another instance is sweeping' });
        return { checked_at: new Date().toISOString(), duration_ms: 0, scenes_checked: 0, scenes_diverged: 0, scenes_lagging: 0, scenes_failed: 0, divergence_rate: 0, skipped: true };
      }
      const { diverged, severity_counts: _counts, ...figures } = run.value;
      progress({ done: figures.scenes_checked, detail: `${figures.scenes_diverged} diverged of ${figures.scenes_checked}` });
      for (const scene of diverged.slice(0, 10)) progress({ done: figures.scenes_checked, sceneId: scene.scene_id, detail: `${scene.cause} (${scene.severity})` });
      return { ...figures, skipped: false };
    },
  };
}
