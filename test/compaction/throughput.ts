/**
 * Compaction throughput through the job's own path (one `runCompactionPass`, as the scheduler runs
 * it): scenes of UPDATES typing updates each, all past the hot-scene threshold.
 *
 *   npx tsx test/compaction/throughput.ts            # 1,000 scenes x 1,000 updates on PostgreSQL
 *   SCENES=200 KIND=pglite CONCURRENCY=1 npx tsx test/compaction/throughput.ts
 *
 * Prints scenes per minute and the log size before and after (live rows a load reads, and every
 * stored row including the merged originals that retention deletes later).
 */
import { performance } from 'node:perf_hooks';
import { runCompactionPass } from '../../src/log/compactionPass.ts';
import type { SqlExecutor } from '../../src/db/sql.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { createTestDatabase, type TestDatabaseKind } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { Typist } from '../helpers/typing.ts';
import { expectedDocument, loadDocument, sameDocument } from './support.ts';

const SCENES = Number(process.env.SCENES ?? 1000);
const UPDATES = Number(process.env.UPDATES ?? 1000);
const KIND = (process.env.KIND ?? 'postgres') as TestDatabaseKind;
/** Scenes compacted at once by the pass (the job's default is 2). */
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 2);

async function logSize(sql: SqlExecutor): Promise<{ liveRows: number; liveBytes: number; storedRows: number; storedBytes: number }> {
  const [row] = await sql.query<{ live_rows: string; live_bytes: string | null; stored_rows: string; stored_bytes: string | null }>(
    'bench_log_size',
    `SELECT count(*) FILTER (WHERE compacted_by IS NULL) AS live_rows,
            sum(octet_length(yjs_update)) FILTER (WHERE compacted_by IS NULL) AS live_bytes,
            count(*) AS stored_rows, sum(octet_length(yjs_update)) AS stored_bytes
     FROM scene_versions`,
    [],
  );
  return {
    liveRows: Number(row!.live_rows),
    liveBytes: Number(row!.live_bytes ?? 0),
    storedRows: Number(row!.stored_rows),
    storedBytes: Number(row!.stored_bytes ?? 0),
  };
}

const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MB`;

async function main(): Promise<void> {
  const db = await createTestDatabase(KIND);
  try {
    const sql = db.database.sql;
    const log = new SceneLog(sql);
    process.stdout.write(`populating ${SCENES} scenes x ${UPDATES} typing updates on ${KIND}...\n`);
    const { sceneIds } = await createScript(db.prisma, { scenes: SCENES });
    // Every scene gets its own typist (own client id and text), as separate editors would.
    let sample: Uint8Array[] = [];
    for (const [i, sceneId] of sceneIds.entries()) {
      const typist = new Typist();
      const updates = Array.from({ length: UPDATES }, (_, n) => typist.type(String.fromCharCode(97 + ((i + n) % 26))));
      if (i === 0) sample = updates;
      for (let start = 0; start < updates.length; start += 1000) {
        await log.append(updates.slice(start, start + 1000).map((update) => ({ sceneId, update, createdBy: null })));
      }
    }
    const before = await logSize(sql);

    const started = performance.now();
    const summary = await runCompactionPass({
      sql,
      logger: silentLogger(),
      concurrency: CONCURRENCY,
      thresholds: { minUpdates: 100, minAgeMs: 24 * 3_600_000, hotLiveRows: UPDATES, maxRowsPerCompaction: 10_000 },
    });
    const seconds = (performance.now() - started) / 1000;
    const after = await logSize(sql);
    if (summary.scenesCompacted !== SCENES || summary.scenesFailed !== 0) throw new Error(`unexpected summary ${JSON.stringify(summary)}`);
    if (!sameDocument((await loadDocument(sql, sceneIds[0]!)).doc, expectedDocument(sample))) throw new Error('compacted scene does not load as typed');

    process.stdout.write(
      [
        `compacted ${summary.scenesCompacted} scenes (${summary.rowsMerged} rows, concurrency ${CONCURRENCY}) in ${seconds.toFixed(1)} s: ${((SCENES / seconds) * 60).toFixed(0)} scenes/min (goal >= 1,000)`,
        `live log (what loads read): ${before.liveRows} rows, ${mb(before.liveBytes)} -> ${after.liveRows} rows, ${mb(after.liveBytes)}`,
        `stored (until retention):   ${before.storedRows} rows, ${mb(before.storedBytes)} -> ${after.storedRows} rows, ${mb(after.storedBytes)}`,
        `merged bytes per scene:     ${(summary.bytesBefore / SCENES).toFixed(0)} -> ${(summary.bytesAfter / SCENES).toFixed(0)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await db.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
