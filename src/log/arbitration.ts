import * as Y from 'yjs';
import { inspectUpdate, normalizeRanges, type StructRanges } from '../guards/updateValidation.ts';

/**
 * How the log keeps an update from being stored twice, whichever instance appends it (the rules
 * `SceneLog.append` applies; its statement checks them under the head row's lock).
 *
 * Each scene's head records, per Yjs client, the clock below which the log holds every struct of
 * that client: its committed clocks, a state vector of the log. An append whose structs all start
 * at or above those clocks is new and is stored as it is (the hot path, one statement). One whose
 * structs start below them holds something the log has already; it is cut to what the log lacks
 * (`Y.diffUpdate` against the clocks, keeping its delete set) on a slower path, or, when nothing is
 * left, not stored at all: the log has it, so its sender may be acknowledged.
 *
 * The clocks only advance over structs that continue them without a gap, so they never claim a
 * struct the log lacks: at worst an update stored beyond a gap (one whose dependencies the log does
 * not have yet) is not recognised when it comes again, and is stored twice, never lost.
 */

/** A scene's committed clocks, by client; null while the log has not recorded them (`SceneLog.recordCommittedClocks`). */
export type CommittedClocks = Map<number, number>;

/** The struct ranges of an update read from its bytes; none for bytes that do not decode (stored as given, never arbitrated). */
export function structsOf(update: Uint8Array): StructRanges {
  const inspection = inspectUpdate(update, Number.POSITIVE_INFINITY);
  return inspection.meta?.structs ?? new Map();
}

/** The struct ranges of several updates together (the rows group commit merges). */
export function unionOfRanges(all: readonly StructRanges[]): StructRanges {
  const union: StructRanges = new Map();
  for (const structs of all) {
    for (const [client, ranges] of structs) {
      const list = union.get(client);
      if (list) list.push(...ranges.map(([from, to]): [number, number] => [from, to]));
      else union.set(client, ranges.map(([from, to]) => [from, to]));
    }
  }
  for (const ranges of union.values()) normalizeRanges(ranges);
  return union;
}

/** The `committed_clocks` column as the drivers return it (jsonb, parsed; a string where a driver leaves it unparsed). */
export function clocksFromColumn(value: unknown): CommittedClocks | null {
  if (value === null || value === undefined) return null;
  const object = (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, number>;
  return new Map(Object.entries(object).map(([client, clock]) => [Number(client), Number(clock)]));
}

/** The column value for a state vector. */
export function clocksToColumn(clocks: CommittedClocks): string {
  return JSON.stringify(Object.fromEntries(clocks));
}

/** Whether some of the structs start below the log's clock for their client: the log holds part of them. */
export function overlapsCommitted(structs: StructRanges, clocks: CommittedClocks): boolean {
  for (const [client, ranges] of structs) {
    if (ranges[0]![0] < (clocks.get(client) ?? 0)) return true;
  }
  return false;
}

/** `update` without the structs the log holds (those below its clocks); the delete set is kept whole. */
export function withoutCommitted(update: Uint8Array, clocks: CommittedClocks): Uint8Array {
  return Y.diffUpdate(update, Y.encodeStateVector(clocks));
}

/**
 * Splits a batch so that, within each scene, no entry of the first part carries a struct an
 * earlier entry of it carries too: the statement compares entries with the clocks committed before
 * it, not with each other. The second part keeps each scene's entries in order and goes in a later
 * statement, which sees the first part committed. Entries of one scene only ever share structs
 * when two editors send the same content the log did not have yet, so the second part is almost
 * always empty and the check costs a comparison per client of each entry.
 */
export function splitAtSharedStructs<T extends { sceneId: string; structs: StructRanges }>(entries: readonly T[]): { now: T[]; later: T[] } {
  const covered = new Map<string, StructRanges>();
  const deferred = new Set<string>();
  const now: T[] = [];
  const later: T[] = [];
  for (const entry of entries) {
    if (deferred.has(entry.sceneId)) {
      later.push(entry);
      continue;
    }
    let scene = covered.get(entry.sceneId);
    if (!scene) covered.set(entry.sceneId, (scene = new Map()));
    if (sharesStructs(scene, entry.structs)) {
      deferred.add(entry.sceneId);
      later.push(entry);
      continue;
    }
    for (const [client, ranges] of entry.structs) {
      let list = scene.get(client);
      if (!list) scene.set(client, (list = []));
      for (const [from, to] of ranges) {
        // A writer's updates continue each other: the list stays one range.
        const last = list[list.length - 1];
        if (last && last[1] === from) last[1] = to;
        else list.push([from, to]);
      }
    }
    now.push(entry);
  }
  return { now, later };
}

function sharesStructs(covered: StructRanges, structs: StructRanges): boolean {
  for (const [client, ranges] of structs) {
    const list = covered.get(client);
    if (!list) continue;
    for (const [from, to] of ranges) {
      for (const [coveredFrom, coveredTo] of list) if (from < coveredTo && coveredFrom < to) return true;
    }
  }
  return false;
}
