// What to do with a scene when it is loaded, as pure functions of what was read (reliability plan
// 1.3 and 2.1, architecture document 6.2). The database code gathers the facts; these decide.
import type { RestContent } from './restContent.ts';

/** What to do when stored updates replay to an empty document while REST has content. */
export type CorruptionPolicy = 'log' | 'reseed';

/**
 * Why a scene looks corrupt:
 * - `replays-empty`: the log has rows, but they rebuild an empty `default` fragment (updates that
 *   only delete, updates to another root type, rows whose dependencies are missing);
 * - `seeded-log-missing`: the scene is marked seeded but has no rows (they were deleted or
 *   quarantined by something other than clear-yjs, which also resets the mark).
 */
export type CorruptionKind = 'replays-empty' | 'seeded-log-missing';

/** The first decision, made outside any lock from the document Hocuspocus just loaded. */
export type LoadDecision =
  /** The document has content: compare it with REST and report; never overwrite it from REST. */
  | { action: 'compare' }
  /** Empty document and empty REST copy: a new scene, nothing to seed or suspect. */
  | { action: 'serve-empty' }
  /** Empty document, REST has content (valid or not): decide under the scene's lock. */
  | { action: 'check-under-lock' };

export function decideOnLoad(facts: { documentBlockCount: number; rest: RestContent['kind'] }): LoadDecision {
  if (facts.documentBlockCount > 0) return { action: 'compare' };
  if (facts.rest === 'empty') return { action: 'serve-empty' };
  return { action: 'check-under-lock' };
}

/** What the log and the scene row say, read inside the transaction that holds the scene's locks. */
export interface LockedFacts {
  /** Rows stored for the scene, including rows compaction merged but retention has not deleted. */
  storedRows: number;
  /**
   * Top-level blocks of the `default` fragment the log replays to; null when the caller did not
   * replay it (the migration only needs to know that rows exist).
   */
  replayedBlockCount: number | null;
  /** `yjs_seeded_at` is set. */
  seeded: boolean;
  rest: RestContent['kind'];
}

export type LockedDecision =
  /** The log is empty and never seeded, REST is valid: append the seed now, under the lock. */
  | { action: 'seed' }
  /** The log has content (another instance or connection seeded or edited first): serve it. */
  | { action: 'serve-log' }
  /** Rows exist and were not replayed (migration): leave the scene alone. */
  | { action: 'skip-has-log' }
  /** REST is empty: nothing to seed, and an empty log is not corrupt. */
  | { action: 'nothing-to-seed' }
  /** REST cannot be converted without loss: never seed it; serve what the log has. */
  | { action: 'refuse-invalid-rest'; corruption: CorruptionKind | null }
  /** Corruption: count and report it; `reseed` appends a seed from REST as a new version. */
  | { action: 'corrupt'; kind: CorruptionKind; reseed: boolean };

/**
 * The decision inside the lock. The order matters: content in the log always wins (a reload never
 * seeds again); an empty REST copy is never a reason to seed or to suspect corruption; invalid
 * REST content is never seeded, not even to repair corruption.
 */
export function decideUnderLock(facts: LockedFacts, policy: CorruptionPolicy): LockedDecision {
  if (facts.storedRows > 0 && facts.replayedBlockCount === null) return { action: 'skip-has-log' };
  if (facts.replayedBlockCount !== null && facts.replayedBlockCount > 0) return { action: 'serve-log' };
  if (facts.rest === 'empty') return { action: 'nothing-to-seed' };
  const corruption: CorruptionKind | null =
    facts.storedRows > 0 ? 'replays-empty' : facts.seeded ? 'seeded-log-missing' : null;
  if (facts.rest === 'invalid') return { action: 'refuse-invalid-rest', corruption };
  if (corruption === null) return { action: 'seed' };
  return { action: 'corrupt', kind: corruption, reseed: policy === 'reseed' };
}

/**
 * The client id for a seed appended to a scene whose document may already hold items. The first
 * seed uses the content-derived id (so concurrent seeds of the same content are identical bytes);
 * a reseed must not reuse an id the document already has items from, or Yjs would take the new
 * items for ones it has already seen (and deleted) and show nothing. Deterministic, so it can be
 * checked in tests and two runs agree.
 */
export function pickSeedClientId(preferred: number, taken: ReadonlySet<number>): number {
  let candidate = preferred >>> 0;
  for (let salt = 1; taken.has(candidate); salt += 1) {
    // FNV-1a step over the previous candidate and the salt: spreads over 32 bits, no randomness.
    candidate = Math.imul((candidate ^ salt) >>> 0, 0x01000193) >>> 0;
  }
  return candidate;
}
