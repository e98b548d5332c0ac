import { describe, expect, it } from 'vitest';
import { divergenceAlertLevel, persistenceStatus, snapshotLagAlertLevel, type AlertLevel, type PersistenceStatus } from '../../src/http/healthStatus.ts';

describe('health decisions (section 12.1 thresholds)', () => {
  it.each([
    [null, 'ok'],
    [0, 'ok'],
    [0.001, 'ok'],
    [0.0011, 'warning'],
    [0.01, 'warning'],
    [0.0101, 'critical'],
    [0.5, 'critical'],
  ] as Array<[number | null, AlertLevel]>)('divergence rate %s -> %s', (rate, level) => {
    expect(divergenceAlertLevel(rate)).toBe(level);
  });

  it.each([
    [null, 'ok'],
    [0, 'ok'],
    [30, 'ok'],
    [30.5, 'warning'],
    [60, 'warning'],
    [61, 'critical'],
  ] as Array<[number | null, AlertLevel]>)('snapshot lag %s min -> %s', (lag, level) => {
    expect(snapshotLagAlertLevel(lag)).toBe(level);
  });

  it.each([
    [{ databaseReachable: false, divergenceRate: 0, oldestSnapshotLagMinutes: 0 }, 'unhealthy'],
    [{ databaseReachable: false, divergenceRate: null, oldestSnapshotLagMinutes: null }, 'unhealthy'],
    [{ databaseReachable: true, divergenceRate: null, oldestSnapshotLagMinutes: null }, 'healthy'],
    [{ databaseReachable: true, divergenceRate: 0.0005, oldestSnapshotLagMinutes: 10 }, 'healthy'],
    [{ databaseReachable: true, divergenceRate: 0.002, oldestSnapshotLagMinutes: 10 }, 'degraded'],
    [{ databaseReachable: true, divergenceRate: 0, oldestSnapshotLagMinutes: 45 }, 'degraded'],
    [{ databaseReachable: true, divergenceRate: 0.5, oldestSnapshotLagMinutes: 120 }, 'degraded'],
  ] as Array<[Parameters<typeof persistenceStatus>[0], PersistenceStatus]>)('%o -> %s', (figures, status) => {
    expect(persistenceStatus(figures)).toBe(status);
  });
});
