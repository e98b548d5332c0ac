// The jobs worker role (`npm run worker`, jobs/worker.ts): the scheduled jobs without the servers.
import type { Config } from '../src/config.ts';
import type { DatabaseFlavour } from '../src/db/locks.ts';
import type { SqlExecutor } from '../src/db/sql.ts';
import type { PrismaClient } from '../src/generated/prisma/client.ts';
import { SceneLog } from '../src/log/sceneLog.ts';
import type { Logger } from '../src/logger.ts';
import { createMetrics, type Metrics } from '../src/metrics.ts';
import { DivergenceDetector } from '../src/restCopy/divergenceDetector.ts';
import { SnapshotService } from '../src/restCopy/snapshots.ts';
import { createYjsWork, type YjsWork } from '../src/workers/pool.ts';
import { webhookSceneContent } from '../src/webhooks/sceneContent.ts';
import { createJobScheduler } from './background.ts';
import type { JobScheduler } from './scheduler.ts';

export interface JobsWorkerDeps {
  config: Config;
  prisma: PrismaClient;
  sql: SqlExecutor;
  logger: Logger;
  databaseFlavour: DatabaseFlavour;
  metrics?: Metrics;
}

export interface RunningJobsWorker {
  scheduler: JobScheduler;
  work: YjsWork;
  /** Stops the schedule, waits for running passes (they stop between two scenes), then the threads. */
  stop(): Promise<void>;
}

/**
 * Runs the server's scheduled jobs (snapshot, compaction, retention, divergence) on their
 * intervals, with the same settings and the same per-scene advisory locks, and serves nothing:
 * for deployments that keep this work off the instances editors connect to (those run with
 * `JOBS_ENABLED=false`). Any number of workers and instances share one PostgreSQL; the locks keep
 * two of them from compacting or snapshotting one scene at once. The jobs run whatever
 * `JOBS_ENABLED` says: running them is this role's purpose.
 */
export async function startJobsWorker(deps: JobsWorkerDeps): Promise<RunningJobsWorker> {
  const { config, prisma, sql, logger } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const work = createYjsWork({ threads: config.workers.threads, nice: config.workers.nice, logger: logger.child({ component: 'yjs-workers' }) });
  const sceneLog = new SceneLog(sql, { replayer: work });
  const snapshots = new SnapshotService({ prisma, sceneLog, metrics, logger: logger.child({ component: 'snapshots' }), intervalMs: config.snapshots.intervalMs, work });
  const divergence = new DivergenceDetector({ prisma, sceneLog, snapshots, metrics, logger: logger.child({ component: 'divergence' }), work });
  const webhookContent = webhookSceneContent({ prisma, sceneLog, metrics, logger: logger.child({ component: 'webhook-reader' }), freshness: config.snapshots.freshness, work });
  const scheduler = await createJobScheduler({
    config,
    sql,
    logger: logger.child({ component: 'jobs' }),
    metrics,
    snapshots,
    divergence,
    work,
    databaseFlavour: deps.databaseFlavour,
    // Without this process's commits to wake it, delivery ticks every WEBHOOK_POLL_MS.
    webhooks: { readScene: (sceneId) => webhookContent.read(sceneId) },
  });
  scheduler.start();
  let stopping: Promise<void> | null = null;
  return {
    scheduler,
    work,
    stop: () => {
      stopping ??= (async () => {
        await scheduler.stop();
        await work.close();
      })();
      return stopping;
    },
  };
}
