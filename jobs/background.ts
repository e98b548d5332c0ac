// The server's scheduled jobs (architecture 4.3, 4.5, 4.6, 6.3, 6.4): each job's definition sits
// beside its command (jobs/snapshot.ts, compaction.ts, retention.ts, divergence.ts); this file only
// puts them on the scheduler with their settings from `config.jobs`.
import type { Config } from '../src/config.ts';
import type { SqlExecutor } from '../src/db/sql.ts';
import type { DivergenceDetector } from '../src/restCopy/divergenceDetector.ts';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';
import type { SnapshotService } from '../src/restCopy/snapshots.ts';
import type { YjsWork } from '../src/workers/pool.ts';
import { detectDatabaseFlavour, jobLocksFor, type DatabaseFlavour, type JobLocks } from '../src/db/locks.ts';
import { compactionJob } from './compaction.ts';
import { divergenceJob } from './divergence.ts';
import { retentionJob } from './retention.ts';
import { JobScheduler } from './scheduler.ts';
import { snapshotJob } from './snapshot.ts';
import { webhookDeliveryJob } from './webhooks.ts';
import type { ChangeWatch } from '../src/changes/watch.ts';
import { LogChanges } from '../src/log/changes.ts';
import { WebhookDeliverer, type SceneContent } from '../src/webhooks/deliverer.ts';
import { WebhookStore } from '../src/webhooks/store.ts';

export interface BackgroundJobsDeps {
  config: Config;
  sql: SqlExecutor;
  logger: Logger;
  metrics: Metrics;
  snapshots: SnapshotService;
  divergence: DivergenceDetector;
  /** Known to the caller that opened the database; detected from `version()` otherwise. */
  databaseFlavour?: DatabaseFlavour;
  /** Defaults to advisory locks on PostgreSQL and in-process locks on PGlite (one process). */
  locks?: JobLocks;
  /**
   * Where compaction merges rows (the worker pool); snapshots and divergence checks replay where
   * their services were told to. Default: this thread.
   */
  work?: YjsWork;
  /**
   * Webhook delivery: how a delivery reads a scene's content (the scene reader), and the wake-up of
   * this instance's commits (none in the worker role). Absent, no webhook job is scheduled.
   */
  webhooks?: { readScene: (sceneId: string) => Promise<SceneContent | null>; watch?: ChangeWatch };
}

/** The scheduler with the server's four jobs, configured from `config.jobs`; not started yet. */
export async function createJobScheduler(deps: BackgroundJobsDeps): Promise<JobScheduler> {
  const { config, sql, logger, metrics } = deps;
  const locks = deps.locks ?? jobLocksFor(sql, deps.databaseFlavour ?? (await detectDatabaseFlavour(sql)));
  const { compaction, retention, divergence } = config.jobs;
  return new JobScheduler({
    logger,
    metrics,
    dutyCycle: config.jobs.dutyCycle,
    jobs: [
      snapshotJob({ snapshots: deps.snapshots, locks, logger, intervalMs: config.snapshots.intervalMs }),
      compactionJob({
        sql,
        logger,
        metrics,
        intervalMs: compaction.intervalMs,
        thresholds: {
          minUpdates: compaction.minUpdates,
          minAgeMs: compaction.minAgeMs,
          hotLiveRows: compaction.hotLiveRows,
          maxRowsPerCompaction: compaction.maxRowsPerCompaction,
        },
        replayer: deps.work,
      }),
      retentionJob({
        sql,
        logger,
        metrics,
        intervalMs: retention.intervalMs,
        retentionMs: retention.retentionMs,
        batchSize: retention.batchSize,
        sceneDeleteRetentionMs: config.scenes.deleteRetentionMs,
        changeRetentionMs: config.changes.retentionMs,
      }),
      divergenceJob({ divergence: deps.divergence, locks, intervalMs: divergence.intervalMs }),
      ...(deps.webhooks
        ? [
            webhookDeliveryJob({
              pollMs: config.webhooks.pollMs,
              deliverer: new WebhookDeliverer({
                ...config.webhooks,
                store: new WebhookStore(sql),
                changes: new LogChanges(sql),
                readScene: deps.webhooks.readScene,
                watch: deps.webhooks.watch,
                metrics,
                logger: logger.child({ component: 'webhooks' }),
              }),
            }),
          ]
        : []),
    ],
  });
}
