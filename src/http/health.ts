import { Router } from 'express';
import type { DivergenceDetector } from '../restCopy/divergenceDetector.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { CompactionFigures } from '../log/figures.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { SnapshotService } from '../restCopy/snapshots.ts';
import { divergenceAlertLevel, persistenceStatus, snapshotLagAlertLevel } from './healthStatus.ts';
import { ALERT_THRESHOLDS } from '../config.ts';

const READY_TIMEOUT_MS = 2000;
/** A divergence sweep replays logs; its result is reused this long however often health is polled. */
export const DIVERGENCE_STATUS_MAX_AGE_MS = 60_000;

export interface HealthRoutesDeps {
  prisma: PrismaClient;
  sceneLog: SceneLog;
  metrics: Metrics;
  logger: Logger;
  snapshots: SnapshotService;
  divergence: DivergenceDetector;
}

/**
 * Liveness says the process runs; readiness says it can serve, which needs the database. The
 * persistence and divergence routes report the figures of sections 7.3 and 12.1. These routes need
 * no token (load balancers and operators poll them); what they may cost is bounded: the
 * divergence sweep is limited in size, shared between concurrent callers and reused for a minute.
 */
export function healthRoutes(deps: HealthRoutesDeps): Router {
  const { prisma, sceneLog, metrics, logger, snapshots, divergence } = deps;
  const router = Router();
  router.get('/api/health/live', (_req, res) => {
    res.json({ status: 'ok', uptime_seconds: Math.round(process.uptime()) });
  });
  router.get('/api/health/ready', async (_req, res) => {
    try {
      await withTimeout(prisma.$queryRaw`SELECT 1`, READY_TIMEOUT_MS);
      // Without Redis the instance still serves its own editors (single-server mode): ready.
      res.json({ status: 'ready', database: 'ok', redis_fanout: await redisFanout(metrics) });
    } catch (error) {
      res.status(503).json({
        status: 'unavailable',
        database: 'unreachable',
        redis_fanout: await redisFanout(metrics),
        error: firstLine(error),
        code: 'DATABASE_UNAVAILABLE',
      });
    }
  });

  router.get('/api/health/persistence', async (_req, res) => {
    let figures;
    try {
      // Reachability first and with a deadline: a database that hangs must make this route answer
      // "unhealthy", not hang with it. The figures after it may take longer (a divergence sweep).
      await withTimeout(prisma.$queryRaw`SELECT 1`, READY_TIMEOUT_MS);
      figures = await Promise.all([snapshots.lagStats(), sceneLog.figures.compaction(), divergence.currentStatus(DIVERGENCE_STATUS_MAX_AGE_MS)]);
    } catch (error) {
      logger.warn({ err: error }, 'persistence health: figures unavailable');
      res.status(503).json({
        status: 'unhealthy',
        error: firstLine(error),
        code: 'DATABASE_UNAVAILABLE',
        yjs_persistence: { operational: false },
        snapshot_service: { operational: false },
        divergence_detection: { enabled: true },
        compaction: null,
      });
      return;
    }
    const [lag, compaction, sweep] = figures;
    const loadTime = await histogramMean(metrics.sceneLoadTime);
    res.json({
      status: persistenceStatus({
        databaseReachable: true,
        divergenceRate: sweep.scenes_checked > 0 ? sweep.divergence_rate : null,
        oldestSnapshotLagMinutes: lag.scenesBehind > 0 ? lag.oldestLagMinutes : null,
      }),
      yjs_persistence: {
        operational: true,
        avg_load_time_ms: loadTime.count === 0 ? null : round(loadTime.mean * 1000, 2),
        scene_loads: loadTime.count,
        scenes_with_updates: lag.scenesWithUpdates,
        updates_appended: await counterTotal(metrics.updatesAppended),
        persist_errors: await counterTotal(metrics.persistErrors),
        quarantined_updates: await counterTotal(metrics.quarantinedUpdates),
      },
      snapshot_service: {
        operational: true,
        snapshot_interval_minutes: round(snapshots.intervalMs / 60_000, 2),
        snapshots_behind_threshold: lag.scenesBehindThreshold,
        scenes_behind_log: lag.scenesBehind,
        never_snapshotted: lag.neverSnapshotted,
        avg_snapshot_age_minutes: lag.avgSnapshotAgeMinutes === null ? null : round(lag.avgSnapshotAgeMinutes, 2),
        oldest_lag_minutes: round(lag.oldestLagMinutes, 2),
        lag_level: snapshotLagAlertLevel(lag.scenesBehind > 0 ? lag.oldestLagMinutes : null),
      },
      divergence_detection: {
        enabled: true,
        last_checked_at: sweep.checked_at,
        scenes_checked: sweep.scenes_checked,
        divergence_rate: sweep.divergence_rate,
        scenes_diverged: sweep.scenes_diverged,
      },
      compaction: compactionJson(compaction),
      redis_fanout: await redisFanout(metrics),
    });
  });

  router.get('/api/health/divergence-status', async (_req, res) => {
    const sweep = await divergence.currentStatus(DIVERGENCE_STATUS_MAX_AGE_MS);
    res.json({
      enabled: true,
      status: divergenceAlertLevel(sweep.scenes_checked > 0 ? sweep.divergence_rate : null),
      thresholds: { alert_rate: ALERT_THRESHOLDS.divergenceRate.alert, critical_rate: ALERT_THRESHOLDS.divergenceRate.critical },
      divergence_rate_percent: round(sweep.divergence_rate * 100, 4),
      ...sweep,
    });
  });
  return router;
}

/**
 * What compaction has done, read from the log itself (the compaction job keeps no record of its
 * own). Bytes that compaction saved and retention already deleted are gone without a trace, so
 * `storage_saved_mb` is unknown; `reclaimable_mb` is what retention will free.
 */
function compactionJson(figures: CompactionFigures) {
  return {
    last_run: figures.lastRunAt?.toISOString() ?? null,
    scenes_compacted: figures.scenesCompacted,
    updates_merged: figures.updatesMerged,
    rows_awaiting_retention: figures.rowsAwaitingRetention,
    reclaimable_mb: round(figures.bytesAwaitingRetention / (1024 * 1024), 3),
    storage_saved_mb: null,
  };
}

interface CollectableMetric {
  get(): Promise<{ values: Array<{ value: number; metricName?: string }> }>;
}

/**
 * Redis fan-out to other instances: `disabled` without REDIS_URL (one instance), `multi-instance`
 * while Redis carries edits between instances, `single-server` while it is away (each instance
 * keeps serving and storing its own editors' edits; they are reconciled when Redis is back).
 */
async function redisFanout(metrics: Metrics): Promise<{ enabled: boolean; connected: boolean; mode: 'disabled' | 'multi-instance' | 'single-server' }> {
  const enabled = (await metrics.redisFanoutEnabled.get()).values[0]?.value === 1;
  const connected = enabled && (await metrics.redisConnected.get()).values[0]?.value === 1;
  return { enabled, connected, mode: !enabled ? 'disabled' : connected ? 'multi-instance' : 'single-server' };
}

async function counterTotal(metric: CollectableMetric): Promise<number> {
  const { values } = await metric.get();
  return values.reduce((sum, sample) => sum + sample.value, 0);
}

async function histogramMean(metric: CollectableMetric): Promise<{ mean: number; count: number }> {
  const { values } = await metric.get();
  const sum = values.find((sample) => sample.metricName?.endsWith('_sum'))?.value ?? 0;
  const count = values.find((sample) => sample.metricName?.endsWith('_count'))?.value ?? 0;
  return { mean: count === 0 ? 0 : sum / count, count };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function firstLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? error.name) : String(error);
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
