import pg from 'pg';
import * as Y from 'yjs';
import { compactScene } from '../../src/log/compaction.ts';
import type { SqlExecutor } from '../../src/db/sql.ts';
import { applyAll } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { typingUpdates } from './workload.ts';

/** Writes `count` typing updates into a scene's log, as a client would have, in 1,000-row batches. */
export async function populateScene(sql: SqlExecutor, sceneId: string, count: number, seed: number): Promise<Uint8Array[]> {
  const updates = typingUpdates(count, seed);
  await storeUpdates(sql, sceneId, updates);
  return updates;
}

/** Writes updates into a scene's log, one row each, in 1,000-row batches (another scene with the same log). */
export async function storeUpdates(sql: SqlExecutor, sceneId: string, updates: readonly Uint8Array[]): Promise<void> {
  const log = new SceneLog(sql);
  for (let i = 0; i < updates.length; i += 1000) {
    const results = await log.append(updates.slice(i, i + 1000).map((update) => ({ sceneId, update, createdBy: null })));
    for (const result of results) if (result instanceof Error) throw result;
  }
}

/** Compacts a scene's whole live log into one row (several passes past the per-pass row limit). */
export async function compactFully(sql: SqlExecutor, sceneId: string): Promise<{ bytesBefore: number; bytesAfter: number }> {
  let bytesBefore = 0;
  let bytesAfter = 0;
  for (;;) {
    const result = await compactScene(sql, sceneId, { wait: true, maxRows: 200_000 });
    if (result.status !== 'compacted') return { bytesBefore, bytesAfter };
    bytesBefore += result.bytesBefore;
    bytesAfter = result.bytesAfter;
  }
}

/** The whole-document state the stock database extension would store for the same updates. */
export function fullState(updates: readonly Uint8Array[]): Uint8Array {
  const doc = new Y.Doc();
  applyAll(doc, updates);
  const state = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return state;
}

/** Compaction throughput: scenes of `updatesPerScene` typing updates compacted per minute. */
export async function compactionThroughput(
  sql: SqlExecutor,
  sceneIds: readonly string[],
  updatesPerScene: number,
  seed: number,
): Promise<{ scenesPerMinute: number; bytesBefore: number; bytesAfter: number; seconds: number }> {
  for (const [i, sceneId] of sceneIds.entries()) await populateScene(sql, sceneId, updatesPerScene, seed + i);
  let bytesBefore = 0;
  let bytesAfter = 0;
  const started = performance.now();
  for (const sceneId of sceneIds) {
    const result = await compactFully(sql, sceneId);
    bytesBefore += result.bytesBefore;
    bytesAfter += result.bytesAfter;
  }
  const seconds = (performance.now() - started) / 1000;
  return { scenesPerMinute: (sceneIds.length / seconds) * 60, bytesBefore, bytesAfter, seconds };
}

/**
 * A quiet database for the next measurement: the preparation, the previous server and the
 * throughput runs each wrote a few hundred thousand rows, and the autovacuum and checkpoint they
 * cause would otherwise land in the middle of whatever is measured next.
 */
export async function settleDatabase(databaseUrl: string, log: (message: string) => void = () => {}): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('VACUUM (ANALYZE)');
    await client.query('CHECKPOINT').catch((error: unknown) => log(`(no CHECKPOINT before this run: ${String(error)})`));
  } finally {
    await client.end();
  }
}
