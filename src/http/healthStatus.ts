import { ALERT_THRESHOLDS } from '../config.ts';

/**
 * The health decisions of `/api/health/*` as pure functions, with the thresholds of section 12.1
 * (`ALERT_THRESHOLDS`): divergence alert above 0.1% and critical above 1%; snapshot lag alert
 * above 30 minutes and critical above 60.
 */
export type PersistenceStatus = 'healthy' | 'degraded' | 'unhealthy';
export type AlertLevel = 'ok' | 'warning' | 'critical';

/** Divergence rate is a fraction (0.002 = 0.2%). */
export function divergenceAlertLevel(rate: number | null): AlertLevel {
  if (rate === null) return 'ok';
  if (rate > ALERT_THRESHOLDS.divergenceRate.critical) return 'critical';
  if (rate > ALERT_THRESHOLDS.divergenceRate.alert) return 'warning';
  return 'ok';
}

export function snapshotLagAlertLevel(oldestLagMinutes: number | null): AlertLevel {
  if (oldestLagMinutes === null) return 'ok';
  if (oldestLagMinutes > ALERT_THRESHOLDS.snapshotLagMinutes.critical) return 'critical';
  if (oldestLagMinutes > ALERT_THRESHOLDS.snapshotLagMinutes.alert) return 'warning';
  return 'ok';
}

/**
 * Unhealthy only when edits cannot be stored (the database is unreachable): that loses work.
 * Diverged or late REST copies are degraded: editing is safe, the derived copy is not.
 */
export function persistenceStatus(figures: {
  databaseReachable: boolean;
  divergenceRate: number | null;
  oldestSnapshotLagMinutes: number | null;
}): PersistenceStatus {
  if (!figures.databaseReachable) return 'unhealthy';
  const levels = [divergenceAlertLevel(figures.divergenceRate), snapshotLagAlertLevel(figures.oldestSnapshotLagMinutes)];
  return levels.some((level) => level !== 'ok') ? 'degraded' : 'healthy';
}
