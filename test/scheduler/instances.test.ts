import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompactionPass } from '../../src/log/compactionPass.ts';
import { createDatabase, type Database } from '../../src/db/client.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { advisoryJobLocks, LOCK_NAMESPACES, singleProcessJobLocks, detectDatabaseFlavour } from '../../src/db/locks.ts';
import { snapshotJob, type SnapshotPassSummary } from '../../jobs/snapshot.ts';
import { SnapshotService } from '../../src/restCopy/snapshots.ts';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { typingUpdates } from '../helpers/typing.ts';
import { logRows } from '../compaction/support.ts';

const noProgress = { signal: new AbortController().signal, progress: () => {}, pace: async () => {} };

describeEachDatabase('job locks', (db, kind) => {
  it('detects which database it runs on', async () => {
    expect(await detectDatabaseFlavour(db().database.sql)).toBe(kind);
  });
});

describe('in-process job locks (PGlite: one process per data directory)', () => {
  it('refuses a key that is held and frees it afterwards', async () => {
    const locks = singleProcessJobLocks();
    let release!: () => void;
    const held = locks.withLock('ns', 'k', () => new Promise<string>((resolve) => (release = () => resolve('first'))));
    expect(await locks.withLock('ns', 'k', async () => 'second')).toEqual({ acquired: false });
    expect(await locks.withLock('ns', 'other', async () => 'other')).toEqual({ acquired: true, value: 'other' });
    release();
    expect(await held).toEqual({ acquired: true, value: 'first' });
    expect(await locks.withLock('ns', 'k', async () => 'again')).toEqual({ acquired: true, value: 'again' });
  });
});

/** Two "instances": separate pools (and Prisma clients) on one PostgreSQL database. */
describe('two instances on one PostgreSQL database', () => {
  let db: TestDatabase;
  let other: Database;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    other = await createDatabase({ databaseUrl: db.databaseUrl!, dataDir: '', poolSize: 4, logger: silentLogger() });
  });
  afterAll(async () => {
    await other?.close();
    await db?.close();
  });

  it('an advisory job lock held by one instance is refused to the other until released', async () => {
    const [a, b] = [advisoryJobLocks(db.database.sql), advisoryJobLocks(other.sql)];
    let release!: () => void;
    let acquired!: () => void;
    // Waits for A's work to start (the lock is A's from then on), not for a moment that a loaded
    // machine may need longer than.
    const acquiredByA = new Promise<void>((resolve) => (acquired = resolve));
    const held = a.withLock(LOCK_NAMESPACES.snapshot, 'scene-1', () => {
      acquired();
      return new Promise<void>((resolve) => (release = resolve));
    });
    await acquiredByA;
    expect(await b.withLock(LOCK_NAMESPACES.snapshot, 'scene-1', async () => 'b')).toEqual({ acquired: false });
    expect(await b.withLock(LOCK_NAMESPACES.compaction, 'scene-1', async () => 'other job')).toEqual({ acquired: true, value: 'other job' });
    release();
    await held;
    expect(await b.withLock(LOCK_NAMESPACES.snapshot, 'scene-1', async () => 'b')).toEqual({ acquired: true, value: 'b' });
  });

  it('compaction passes running at once on both merge every scene exactly once', async () => {
    const { sceneIds } = await createScript(db.prisma, { scenes: 12 });
    const log = new SceneLog(db.database.sql);
    for (const sceneId of sceneIds) await log.append(typingUpdates(60).map((update) => ({ sceneId, update, createdBy: null })));
    const thresholds = { minUpdates: 100, minAgeMs: 3_600_000, hotLiveRows: 50, maxRowsPerCompaction: 10_000 };
    const [one, two] = await Promise.all([
      runCompactionPass({ sql: db.database.sql, logger: silentLogger(), thresholds }),
      runCompactionPass({ sql: other.sql, logger: silentLogger(), thresholds }),
    ]);
    expect(one.scenesCompacted + two.scenesCompacted).toBe(12);
    for (const sceneId of sceneIds) {
      const rows = await logRows(db.database.sql, sceneId);
      expect(rows.filter((row) => row.isCompacted)).toHaveLength(1);
      expect(rows.filter((row) => row.compactedBy === null)).toHaveLength(1);
    }
  });

  it('snapshot passes running at once on both derive every scene once', async () => {
    const { sceneIds } = await createScript(db.prisma, { scenes: 6 });
    const log = new SceneLog(db.database.sql);
    for (const sceneId of sceneIds) await log.append(typingUpdates(5).map((update) => ({ sceneId, update, createdBy: null })));
    // Watches how many instances derive the same scene at the same moment.
    const active = new Map<string, number>();
    let maxActive = 0;
    const instance = (database: { prisma: Database['prisma']; sql: Database['sql'] }) => {
      const snapshots = new SnapshotService({
        prisma: database.prisma,
        sceneLog: new SceneLog(database.sql),
        metrics: createMetrics({ defaultMetrics: false }),
        logger: silentLogger(),
        intervalMs: 60_000,
      });
      const snapshotScene = snapshots.snapshotScene.bind(snapshots);
      snapshots.snapshotScene = async (sceneId, options) => {
        active.set(sceneId, (active.get(sceneId) ?? 0) + 1);
        maxActive = Math.max(maxActive, active.get(sceneId)!);
        try {
          await new Promise((resolve) => setTimeout(resolve, 10));
          return await snapshotScene(sceneId, options);
        } finally {
          active.set(sceneId, active.get(sceneId)! - 1);
        }
      };
      return snapshotJob({ snapshots, locks: advisoryJobLocks(database.sql), logger: silentLogger(), intervalMs: 60_000 });
    };
    const [a, b] = (await Promise.all([instance(db.database).run(noProgress), instance(other).run(noProgress)])) as SnapshotPassSummary[];
    expect(maxActive).toBe(1);
    expect(a.failed + b.failed).toBe(0);
    // Every scene with a log in the database (earlier tests' too) was derived by exactly one of them.
    const withLog = await db.prisma.sceneLogHead.count({ where: { lastSeq: { gt: 0 } } });
    expect(a.written + b.written).toBe(withLog);
    const perScene = await db.prisma.sceneSnapshotMetadata.groupBy({ by: ['sceneId'], _count: { _all: true } });
    expect(perScene).toHaveLength(withLog);
    expect(perScene.every((row) => row._count._all === 1)).toBe(true);
    expect(perScene.map((row) => row.sceneId)).toEqual(expect.arrayContaining(sceneIds));
  });
});
