import { expect, it } from 'vitest';
import { startJobsWorker } from '../../jobs/workerRole.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { YjsWorkerPool } from '../../src/workers/pool.ts';
import { waitFor } from '../helpers/clients.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { spawnServer } from '../helpers/process.ts';
import { testConfig } from '../helpers/server.ts';
import { storeRows, typedParagraphs } from '../workers/support.ts';

/** Intervals short enough that the first passes come within a second; the hot trigger at 10 rows. */
const WORKER_ENV = {
  // The role runs its jobs whatever JOBS_ENABLED says (the servers beside it run with it off).
  JOBS_ENABLED: 'false',
  COMPACTION_INTERVAL_MS: '200',
  COMPACTION_HOT_LIVE_ROWS: '10',
  SNAPSHOT_INTERVAL_MS: '1000',
  RETENTION_INTERVAL_MS: '0',
  DIVERGENCE_INTERVAL_MS: '0',
  WORKER_THREADS: '1',
};

async function snapshotSeq(db: TestDatabase, sceneId: string): Promise<bigint | null> {
  const scene = await db.prisma.scene.findUnique({ where: { sceneId }, select: { snapshotSeq: true } });
  return scene?.snapshotSeq ?? null;
}

describeEachDatabase('the jobs worker role', (db, kind) => {
  it('compacts and snapshots on its schedule with no server, then stops with its threads', async () => {
    const { sceneIds } = await createScript(db().prisma, { scenes: 1 });
    const sceneId = sceneIds[0]!;
    await storeRows(db().database.sql, sceneId, typedParagraphs(200));
    const worker = await startJobsWorker({
      config: testConfig(WORKER_ENV),
      prisma: db().prisma,
      sql: db().database.sql,
      logger: silentLogger(),
      databaseFlavour: kind,
    });
    try {
      expect(worker.work).toBeInstanceOf(YjsWorkerPool);
      const log = new SceneLog(db().database.sql);
      await waitFor(async () => (await log.counts(sceneId)).live === 1, 'the scene is compacted to one live row', 30_000);
      await waitFor(async () => (await snapshotSeq(db(), sceneId)) !== null, 'the scene has a snapshot', 30_000);
      expect((await log.counts(sceneId)).updates).toBe(200);
      expect(await snapshotSeq(db(), sceneId)).toBe(200n);
      expect((worker.work as YjsWorkerPool).workerThreads()).toHaveLength(1);
    } finally {
      await worker.stop();
    }
    expect((worker.work as YjsWorkerPool).workerThreads()).toEqual([]);
    expect(worker.scheduler.status().every((job) => !job.running)).toBe(true);
  });
});

describeEachDatabase('npm run worker', { kinds: ['postgres'] }, (db) => {
  it('runs the jobs as its own process, with its threads under tsx, and exits 0 on SIGTERM', async () => {
    const { sceneIds } = await createScript(db().prisma, { scenes: 1 });
    const sceneId = sceneIds[0]!;
    await storeRows(db().database.sql, sceneId, typedParagraphs(200));
    // The process tsx runs, as `npm run worker` does; its pool's threads inherit the loader.
    const worker = spawnServer({ DATABASE_URL: db().databaseUrl!, ...WORKER_ENV }, { entry: 'jobs/worker.ts' });
    try {
      await waitFor(async () => (await snapshotSeq(db(), sceneId)) !== null && (await new SceneLog(db().database.sql).counts(sceneId)).live === 1, 'the worker compacted and snapshotted the scene', 30_000).catch((error: unknown) => {
        throw new Error(`${String(error)}; the worker printed:\n${worker.output()}`);
      });
    } finally {
      worker.child.kill('SIGTERM');
    }
    expect(await worker.exited).toBe(0);
    expect(worker.output()).not.toMatch(/"level":(50|60)/);
  });
});
