import * as Y from 'yjs';
import { unionOfRanges } from './arbitration.ts';
import type { AppendEntry } from './sceneLog.ts';

/** The rows a group commit writes, and which row holds each appended update. */
export interface CoalescedBatch {
  rows: AppendEntry[];
  /** `rowOf[i]` is the index in `rows` of the row that holds the batch's i-th update. */
  rowOf: number[];
}

/**
 * Turns one group commit's updates into the rows that store them. Consecutive updates of the same
 * scene by the same author (a writer typing while the previous batch was being committed) become
 * one row holding their `Y.mergeUpdates`, at most `maxPerRow` updates per row; the row's
 * `updateCount` says how many it stands for, as a compacted row's does.
 *
 * Each scene's rows keep the order its updates were appended in, so a scene's `seq` order is still
 * the order its updates arrived: an update from another author in between starts a new row. A row
 * is a sound update because every part of it is one (the guards checked client updates before
 * they were queued); should merging fail all the same, the updates are stored one per row.
 *
 * Why: at typing speed each row costs the database far more (index entries, foreign-key checks,
 * WAL) than the merge costs here, about 2-3 µs per update for runs of up to 64 typing updates,
 * and the merged row is about a third smaller than the updates it replaces. Merging stays
 * bounded: `Y.mergeUpdates` grows faster than linearly over thousands of updates.
 */
export function coalesce(entries: readonly AppendEntry[], maxPerRow: number): CoalescedBatch {
  if (maxPerRow <= 1) return { rows: [...entries], rowOf: entries.map((_, i) => i) };

  // Each scene's updates in order, split into runs of one author.
  const runsByScene = new Map<string, number[][]>();
  for (const [i, entry] of entries.entries()) {
    let runs = runsByScene.get(entry.sceneId);
    if (!runs) runsByScene.set(entry.sceneId, (runs = []));
    const run = runs.at(-1);
    // A run is one author's and one kind's: a change's kind must reach the feed (a PATCH is not an edit).
    const head = run ? entries[run[0]!]! : undefined;
    if (run && run.length < maxPerRow && head!.createdBy === entry.createdBy && head!.kind === entry.kind) run.push(i);
    else runs.push([i]);
  }

  const rows: AppendEntry[] = [];
  const rowOf = new Array<number>(entries.length);
  for (const runs of runsByScene.values()) {
    for (const run of runs) {
      const merged = run.length > 1 ? mergeRun(run.map((i) => entries[i]!)) : null;
      if (merged) {
        for (const i of run) rowOf[i] = rows.length;
        rows.push(merged);
      } else {
        for (const i of run) {
          rowOf[i] = rows.length;
          rows.push(entries[i]!);
        }
      }
    }
  }
  return { rows, rowOf };
}

function mergeRun(run: AppendEntry[]): AppendEntry | null {
  const first = run[0]!;
  try {
    const update = Y.mergeUpdates(run.map((entry) => entry.update));
    const updateCount = run.reduce((sum, entry) => sum + (entry.updateCount ?? 1), 0);
    // The merge holds exactly the structs of its parts: their ranges, without reading it again.
    const structs = run.every((entry) => entry.structs) ? unionOfRanges(run.map((entry) => entry.structs!)) : undefined;
    return { sceneId: first.sceneId, createdBy: first.createdBy, kind: first.kind, update, updateCount, structs };
  } catch {
    return null;
  }
}
