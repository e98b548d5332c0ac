import type { ChangeKind, SceneChange } from '../log/changes.ts';

/** An endpoint's delivery state for one scene (`webhook_scene_states`). */
export interface SceneDeliveryState {
  sceneId: string;
  /** The newest seq waiting to be delivered; null when nothing waits. */
  pendingSeq: bigint | null;
  pendingKinds: ChangeKind[];
  pendingCreatedBy: string | null;
  pendingFirstAt: Date | null;
  pendingLastAt: Date | null;
  pendingChanges: number;
  pendingVersion: number;
  lifecycle: number;
  deleted: boolean;
  deliveredSeq: bigint | null;
}

export function emptyState(sceneId: string): SceneDeliveryState {
  return {
    sceneId,
    pendingSeq: null,
    pendingKinds: [],
    pendingCreatedBy: null,
    pendingFirstAt: null,
    pendingLastAt: null,
    pendingChanges: 0,
    pendingVersion: 0,
    lifecycle: 0,
    deleted: false,
    deliveredSeq: null,
  };
}

const LIFECYCLE_KINDS: ReadonlySet<ChangeKind> = new Set(['delete', 'restore']);

/**
 * Folds a page of the feed into an endpoint's per-scene states: the coalescing. Each scene keeps
 * one waiting delivery with the newest seq, the kinds of every change it stands for and the
 * newest author. Returns the states that changed (the caller writes them with the cursor, in one
 * statement).
 *
 * - A change of none of the endpoint's kinds is not delivered.
 * - An edit at or below the seq already delivered is covered by that delivery (its content was
 *   read later than the change committed), so it waits for nothing.
 * - A delete or a restore always waits, and counts in `lifecycle`, which is part of the event id:
 *   a scene deleted and restored at one seq gives three different events, not one repeated.
 */
export function foldChanges(
  states: ReadonlyMap<string, SceneDeliveryState>,
  changes: readonly SceneChange[],
  eventKinds: ReadonlySet<ChangeKind>,
): SceneDeliveryState[] {
  const changed = new Map<string, SceneDeliveryState>();
  for (const change of changes) {
    const kinds = change.kinds.filter((kind) => eventKinds.has(kind));
    if (kinds.length === 0) continue;
    const before = changed.get(change.sceneId) ?? states.get(change.sceneId) ?? emptyState(change.sceneId);
    const lifecycle = kinds.filter((kind) => LIFECYCLE_KINDS.has(kind));
    if (lifecycle.length === 0 && before.pendingSeq === null && before.deliveredSeq !== null && change.seq <= before.deliveredSeq) continue;
    const state: SceneDeliveryState = {
      ...before,
      pendingSeq: before.pendingSeq === null || change.seq > before.pendingSeq ? change.seq : before.pendingSeq,
      // Nothing waiting: what the state still holds are the last delivery's kinds (for a redelivery).
      pendingKinds: [...new Set([...(before.pendingSeq === null ? [] : before.pendingKinds), ...kinds])].sort(),
      pendingCreatedBy: change.createdBy,
      pendingFirstAt: before.pendingFirstAt ?? change.at,
      pendingLastAt: change.at,
      pendingChanges: before.pendingChanges + 1,
      pendingVersion: before.pendingVersion + 1,
      lifecycle: before.lifecycle + lifecycle.length,
      deleted: lifecycle.length > 0 ? lifecycle.at(-1) === 'delete' : before.deleted,
    };
    changed.set(change.sceneId, state);
  }
  return [...changed.values()];
}

/** The pause before the next attempt after `failures` failures in a row: doubling from `baseMs` up to `maxMs`, with half of it random. */
export function backoffMs(failures: number, options: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
