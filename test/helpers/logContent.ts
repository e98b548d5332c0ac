import * as Y from 'yjs';
import { applyAll } from '../../src/log/replay.ts';

/**
 * Checks of what a scene's log holds against what its writers sent. Group commit stores a
 * writer's consecutive updates as one merged row (`compacted_count` says how many), so rows are
 * compared with the sent updates by content, not byte for byte.
 */

/** A stored row as these checks need it. */
export interface RowContent {
  update: Uint8Array;
  /** The appended updates the row stands for (`compacted_count`). */
  updateCount: number;
}

type Ranges = Map<number, Array<[number, number]>>;

/** The clock ranges of the structs an update carries, per client (gaps a merge marks as skipped are not content). */
export function structRanges(updates: readonly Uint8Array[]): Ranges {
  const ranges: Ranges = new Map();
  for (const update of updates) {
    for (const struct of Y.decodeUpdate(update).structs) {
      if (struct instanceof Y.Skip) continue;
      const list = ranges.get(struct.id.client) ?? [];
      list.push([struct.id.clock, struct.id.clock + struct.length]);
      ranges.set(struct.id.client, list);
    }
  }
  return ranges;
}

/**
 * The first struct that two of the updates (a scene's rows) both hold, as "client C's clock N is
 * stored twice", or null. One update never holds a struct twice, so any overlap is between rows.
 */
export function structStoredTwice(updates: readonly Uint8Array[]): string | null {
  for (const [client, list] of structRanges(updates)) {
    list.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < list.length; i += 1) {
      if (list[i]![0] < list[i - 1]![1]) return `client ${client}'s clock ${list[i]![0]} is stored twice`;
    }
  }
  return null;
}

function docOf(updates: readonly Uint8Array[]): Y.Doc {
  const doc = new Y.Doc();
  applyAll(doc, updates);
  return doc;
}

/** The first row whose structs or deletions are not in the sent updates, or null. */
export function foreignRow<Row extends RowContent>(rows: readonly Row[], sent: readonly Uint8Array[]): Row | null {
  const sentSnapshot = Y.snapshot(docOf(sent));
  return rows.find((row) => !Y.snapshotContainsUpdate(sentSnapshot, row.update)) ?? null;
}

/**
 * Why `rows` do not hold exactly the `sent` updates, each once, or null when they do: the rows
 * stand for as many updates as were sent (a duplicate counts twice), no struct is stored in two
 * rows, and together they hold the same structs and deletions as the sent updates.
 */
export function storedOnceProblem(rows: readonly RowContent[], sent: readonly Uint8Array[]): string | null {
  const count = rows.reduce((sum, row) => sum + row.updateCount, 0);
  if (count !== sent.length) return `the rows stand for ${count} updates; ${sent.length} were sent`;
  const twice = structStoredTwice(rows.map((row) => row.update));
  if (twice) return twice;
  if (foreignRow(rows, sent)) return 'a row holds content that was not sent';
  const storedSnapshot = Y.snapshot(docOf(rows.map((row) => row.update)));
  const missing = sent.findIndex((update) => !Y.snapshotContainsUpdate(storedSnapshot, update));
  if (missing >= 0) return `sent update ${missing} is not in the rows`;
  return null;
}

/**
 * The first stored struct (as `client:clock`) that no sent update carries, or null: a provenance
 * check for rows made from updates that need not apply together (a fuzzer's). Deletions are not
 * compared.
 */
export function structNotSent(rows: readonly RowContent[], sent: readonly Uint8Array[]): string | null {
  const covered = new Map<number, Array<[number, number]>>();
  for (const [client, list] of structRanges(sent)) {
    list.sort((a, b) => a[0] - b[0]);
    const union: Array<[number, number]> = [];
    for (const [from, to] of list) {
      const last = union.at(-1);
      if (last && from <= last[1]) last[1] = Math.max(last[1], to);
      else union.push([from, to]);
    }
    covered.set(client, union);
  }
  for (const [client, list] of structRanges(rows.map((row) => row.update))) {
    for (const [from, to] of list) {
      if (!covered.get(client)?.some(([a, b]) => a <= from && to <= b)) return `${client}:${from}`;
    }
  }
  return null;
}
