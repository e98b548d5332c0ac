/**
 * Snapshot freshness, architecture document section 8.2: how old a scene's REST copy is. Age alone
 * decides, as the document specifies; whether the copy is also *current* (derived from the log's
 * latest sequence number) is a separate fact the readers check, because a week-old snapshot of a
 * scene nobody edited since is still exactly right.
 */
export type SnapshotFreshness = 'fresh' | 'stale' | 'very_stale' | 'never';

/** `config.snapshots.freshness`. */
export interface FreshnessThresholds {
  /** Younger than this is fresh (the snapshot job's interval). */
  freshMs: number;
  /** Younger than this (and not fresh) is stale; older is very stale (the snapshot-lag alert). */
  staleMs: number;
}

export function snapshotFreshness(
  snapshotAt: Date | null,
  now: Date,
  thresholds: FreshnessThresholds,
): SnapshotFreshness {
  if (snapshotAt === null) return 'never';
  // A snapshot stamped slightly in the future (clock skew between database and server) is fresh,
  // not an error: the age is clamped at zero.
  const age = Math.max(0, now.getTime() - snapshotAt.getTime());
  if (age < thresholds.freshMs) return 'fresh';
  if (age < thresholds.staleMs) return 'stale';
  return 'very_stale';
}
