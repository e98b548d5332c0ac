/**
 * Snapshot freshness, architecture document section 8.2: how old a scene's REST copy is. Age alone
 * decides, as the document specifies; whether the copy is also *current* (derived from the log's
 * latest sequence number) is a separate fact the readers check, because a week-old snapshot of a
 * scene nobody edited since is still exactly right.
 */
export type SnapshotFreshness = 'fresh' | 'stale' | 'very_stale' | 'never';

export interface FreshnessThresholds {
  /** Younger than this is fresh (5 minutes: the snapshot job's interval). */
  freshMs: number;
  /** Younger than this (and not fresh) is stale; older is very stale (30 minutes: the lag alert). */
  staleMs: number;
}

export const DEFAULT_FRESHNESS_THRESHOLDS: FreshnessThresholds = { freshMs: 5 * 60_000, staleMs: 30 * 60_000 };

export function snapshotFreshness(
  snapshotAt: Date | null,
  now: Date,
  thresholds: FreshnessThresholds = DEFAULT_FRESHNESS_THRESHOLDS,
): SnapshotFreshness {
  if (snapshotAt === null) return 'never';
  // A snapshot stamped slightly in the future (clock skew between database and server) is fresh,
  // not an error: the age is clamped at zero.
  const age = Math.max(0, now.getTime() - snapshotAt.getTime());
  if (age < thresholds.freshMs) return 'fresh';
  if (age < thresholds.staleMs) return 'stale';
  return 'very_stale';
}
