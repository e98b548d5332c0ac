import * as Y from 'yjs';
import { loadConfig } from '../../src/config.ts';
import type { SqlExecutor } from '../../src/db/sql.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { purgeMergedRows } from '../../src/log/retention.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';

/** The configuration's compaction and retention settings (`config.jobs`), for the calls that take them. */
export const JOB_DEFAULTS = loadConfig({ NODE_ENV: 'test' }).jobs;

/** The document a fresh load of the scene gives: the live rows, replayed as the server does. */
export async function loadDocument(sql: SqlExecutor, sceneId: string): Promise<{ doc: Y.Doc; undecodable: number; live: number }> {
  const rows = await new SceneLog(sql).load(sceneId);
  const replay = replayUpdates(rows);
  const doc = new Y.Doc();
  Y.applyUpdate(doc, replay.state);
  return { doc, undecodable: replay.undecodable.length, live: rows.length };
}

/** The document with every given update applied: what the log must always load to. */
export function expectedDocument(updates: readonly Uint8Array[]): Y.Doc {
  const doc = new Y.Doc();
  doc.transact(() => {
    for (const update of updates) Y.applyUpdate(doc, update);
  });
  return doc;
}

/** Same content, same state vector and same deletions. */
export function sameDocument(a: Y.Doc, b: Y.Doc): boolean {
  return a.getText('t').toString() === b.getText('t').toString() && Y.equalSnapshots(Y.snapshot(a), Y.snapshot(b));
}

export interface LogRow {
  versionId: string;
  seq: bigint;
  isCompacted: boolean;
  compactedCount: number;
  compactedBy: string | null;
}

/** Every stored row of the scene (live and merged), in seq order. */
export async function logRows(sql: SqlExecutor, sceneId: string): Promise<LogRow[]> {
  const rows = await sql.query<{ version_id: string; seq: bigint | string; is_compacted: boolean; compacted_count: number; compacted_by: string | null }>(
    'test_log_rows',
    `SELECT version_id, seq, is_compacted, compacted_count, compacted_by FROM scene_versions
     WHERE scene_id = $1::uuid ORDER BY seq, is_compacted`,
    [sceneId],
  );
  return rows.map((row) => ({
    versionId: row.version_id,
    seq: BigInt(row.seq),
    isCompacted: row.is_compacted,
    compactedCount: Number(row.compacted_count),
    compactedBy: row.compacted_by,
  }));
}

/** Moves every row of the scene `ms` into the past (for the age trigger and retention). */
export async function ageRows(sql: SqlExecutor, sceneId: string, ms: number): Promise<void> {
  await sql.query('test_age_rows', `UPDATE scene_versions SET created_at = created_at - make_interval(secs => $2::float8) WHERE scene_id = $1::uuid`, [
    sceneId,
    ms / 1000,
  ]);
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Makes retention delete the scene's merged originals now: its rows are moved 31 days back and the
 * retention pass runs with a 30-day cutoff. Returns how many rows it deleted.
 */
export async function retireMergedOriginals(sql: SqlExecutor, sceneId: string): Promise<number> {
  await ageRows(sql, sceneId, 31 * DAY_MS);
  return (await purgeMergedRows(sql, sceneId, { cutoff: new Date(Date.now() - 30 * DAY_MS), batchSize: 1000 })).deletedRows;
}
