import pg from 'pg';
import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { SceneSeedingError } from '../../src/restCopy/errors.ts';
import { SceneLoadValidator } from '../../src/restCopy/loadValidation.ts';
import { SceneSeeder } from '../../src/restCopy/seeding.ts';
import { ScriptSafePg } from '../../src/db/adapter.ts';
import { PrismaClient } from '../../src/db/client.ts';
import { pgExecutor } from '../../src/db/sql.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { createMetrics } from '../../src/metrics.ts';
import { restBlocksToYDoc } from '../../src/screenplay/index.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { counterValue } from '../helpers/metrics.ts';
import { blocksOf, canonical } from '../helpers/documents.ts';
import { capturingLogger } from '../helpers/logger.ts';
import { deleteOnlyUpdate, OTHER_BLOCKS, SCENE_BLOCKS } from './support.ts';

describeEachDatabase('SceneLoadValidator', (db) => {
  const setup = async (contentBlocks: unknown, policy: 'log' | 'reseed' = 'log') => {
    const { prisma } = db();
    const fixture = await createScript(prisma, { contentBlocks: contentBlocks as unknown[] });
    const sceneLog = new SceneLog(db().database.sql);
    const { logger, entries } = capturingLogger();
    const metrics = createMetrics({ defaultMetrics: false });
    const validator = new SceneLoadValidator({ prisma, sceneLog, seeder: new SceneSeeder({ prisma, sceneLog }), corruptionPolicy: policy, metrics, logger });
    /** The document as the append-log extension would hand it over. */
    const loaded = async () => {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, replayUpdates(await sceneLog.load(fixture.sceneIds[0]!)).state);
      return doc;
    };
    return { sceneId: fixture.sceneIds[0]!, sceneLog, validator, entries, metrics, loaded };
  };

  it('seeds an empty scene and returns the seed for the live document', async () => {
    const { sceneId, validator, loaded } = await setup(SCENE_BLOCKS);
    const doc = await loaded();
    const check = await validator.check(doc, sceneId);
    expect(check.result).toBe('seeded');
    expect(check.appended?.seq).toBe(1n);
    for (const update of check.updates) Y.applyUpdate(doc, update);
    expect(blocksOf(doc)).toBe(canonical(SCENE_BLOCKS));
  });

  it('loads what another instance seeded between the replay and the lock', async () => {
    const { sceneId, validator, loaded } = await setup(SCENE_BLOCKS);
    const stale = await loaded(); // replayed while the log was still empty
    await validator.check(await loaded(), sceneId); // "the other instance"
    const check = await validator.check(stale, sceneId);
    expect(check.result).toBe('loaded-existing');
    for (const update of check.updates) Y.applyUpdate(stale, update);
    expect(blocksOf(stale)).toBe(canonical(SCENE_BLOCKS));
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(1);
  });

  it('reports divergence for a document with content without changing it', async () => {
    const { sceneId, validator, entries, metrics } = await setup(OTHER_BLOCKS);
    const doc = restBlocksToYDoc(SCENE_BLOCKS);
    const before = Y.encodeStateAsUpdate(doc);
    const check = await validator.check(doc, sceneId);
    expect(check.result).toBe('diverged');
    expect(check.updates).toEqual([]);
    // The detector's report; this scene has no snapshot yet (no snapshot_seq), so its copy lags.
    expect(check.divergence).toMatchObject({ scene_id: sceneId, diverged: true, cause: 'snapshot_lag', yjs_block_count: 5, rest_block_count: 2, rest_snapshot_seq: null });
    expect(check.divergence!.diff).toMatchObject({ changed: 2, only_in_yjs: 3 });
    expect(Buffer.from(Y.encodeStateAsUpdate(doc)).equals(Buffer.from(before))).toBe(true);
    expect(entries.find((e) => e.result === 'diverged')).toMatchObject({ level: 30, sceneId, cause: 'snapshot_lag', yjsBlocks: 5, restBlocks: 2, firstDifferentBlock: 0 });
    expect(await counterValue(metrics.sceneLoadChecks, { result: 'diverged' })).toBe(1);
  });

  it('compares with what the scenes row and the log say: in sync after the seed, modified or invalid once the copy is rewritten', async () => {
    const { sceneId, validator, entries, metrics, loaded } = await setup(SCENE_BLOCKS);
    expect((await validator.check(await loaded(), sceneId)).result).toBe('seeded');
    const inSync = await validator.check(await loaded(), sceneId);
    expect(inSync).toMatchObject({ result: 'in-sync', divergence: { diverged: false, cause: 'in_sync', yjs_seq: 1, rest_snapshot_seq: 1 } });
    expect(entries.find((e) => e.result === 'in-sync')).toMatchObject({ level: 20, sceneId, cause: 'in_sync' });

    // Rewritten behind the snapshot's back: the checksum the seed recorded no longer matches.
    await db().prisma.scene.update({ where: { sceneId }, data: { contentBlocks: OTHER_BLOCKS } });
    expect(await validator.check(await loaded(), sceneId)).toMatchObject({ result: 'diverged', divergence: { cause: 'rest_modified' } });

    await db().prisma.scene.update({ where: { sceneId }, data: { contentBlocks: { not: 'blocks' } } });
    expect(await validator.check(await loaded(), sceneId)).toMatchObject({ result: 'rest-invalid', divergence: { cause: 'invalid_rest' } });
    expect(entries.find((e) => e.result === 'rest-invalid')).toMatchObject({ level: 40, sceneId, problem: expect.stringMatching(/^INVALID_REST_BLOCKS: /) });
    for (const result of ['seeded', 'in-sync', 'diverged', 'rest-invalid']) {
      expect(await counterValue(metrics.sceneLoadChecks, { result })).toBe(1);
    }
  });

  it('logs a structured warning with counts when the log replays empty', async () => {
    const { sceneId, sceneLog, validator, entries, metrics, loaded } = await setup(SCENE_BLOCKS);
    await sceneLog.append([{ sceneId, update: deleteOnlyUpdate(), createdBy: null }]);
    const check = await validator.check(await loaded(), sceneId);
    expect(check).toMatchObject({ result: 'corrupt', corruption: { kind: 'replays-empty', storedRows: 1, restBlockCount: 5, policy: 'log', reseeded: false } });
    expect(await counterValue(metrics.corruptionDetected)).toBe(1);
    expect(entries.find((e) => e.event === 'YJS_CORRUPTION_DETECTED')).toMatchObject({
      level: 40,
      sceneId,
      kind: 'replays-empty',
      storedRows: 1,
      yjsBlocks: 0,
      restBlocks: 5,
      policy: 'log',
    });
  });

  it('logs a structured error with the scene id for REST content it will not seed', async () => {
    const { sceneId, validator, entries, loaded } = await setup([{ type: 'action', text: 'ok' }, { type: 'action', text: 3 }]);
    const check = await validator.check(await loaded(), sceneId);
    expect(check).toMatchObject({ result: 'invalid-rest', updates: [], corruption: null });
    expect(entries.find((e) => e.level === 50)).toMatchObject({ sceneId, code: 'INVALID_REST_BLOCKS', restBlocks: 2, storedRows: 0 });
  });
});

it('refuses an empty scene when the database cannot be asked, and serves a scene with content unchecked', async () => {
  // A real client to a port nothing listens on: every query fails as it would during an outage.
  const url = 'postgresql://postgres@127.0.0.1:1/unreachable';
  const prisma = new PrismaClient({ adapter: new ScriptSafePg({ connectionString: url, poolSize: 1, connectionTimeoutMillis: 500 }) });
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 500 });
  try {
    const { logger } = capturingLogger();
    const metrics = createMetrics({ defaultMetrics: false });
    const sceneLog = new SceneLog(pgExecutor(pool));
    const validator = new SceneLoadValidator({
      prisma,
      sceneLog,
      seeder: new SceneSeeder({ prisma, sceneLog }),
      corruptionPolicy: 'log',
      metrics,
      logger,
    });
    const sceneId = '00000000-0000-4000-8000-000000000001';
    const refused = await validator.check(new Y.Doc(), sceneId).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SceneSeedingError);
    expect(refused).toMatchObject({ code: 'SCENE_SEED_FAILED', sceneId });
    expect((refused as SceneSeedingError).reason).toMatch(/^scene-seed-failed: /);
    expect((await validator.check(restBlocksToYDoc(SCENE_BLOCKS), sceneId)).result).toBe('unchecked');
  } finally {
    await prisma.$disconnect();
    await pool.end();
  }
});
