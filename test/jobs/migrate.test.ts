import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { UnknownTargetError } from '../../src/restCopy/errors.ts';
import { SceneLoadValidator } from '../../src/restCopy/loadValidation.ts';
import { SceneSeeder } from '../../src/restCopy/seeding.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { encodeRestBlocksAsUpdate } from '../../src/screenplay/index.ts';
import { migrateRestToYjs, migrationExitCode } from '../../jobs/migrateRestToYjs.ts';
import { createTestDatabase, describeEachDatabase, testDatabaseKinds } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { blocksOf, canonical } from '../helpers/documents.ts';
import { OTHER_BLOCKS, SCENE_BLOCKS } from '../seeding/support.ts';
import { lines, runJobCli } from './support.ts';

const INVALID = [{ type: 'action', text: 12 }];

describeEachDatabase('migrateRestToYjs (direct)', (db) => {
  const deps = () => ({ prisma: db().prisma, sceneLog: new SceneLog(db().database.sql), logger: silentLogger() });
  const fixture = async () => {
    const script = await createScript(db().prisma, { sceneContents: [SCENE_BLOCKS, [], INVALID, OTHER_BLOCKS] });
    // The last scene already has versions: it must be skipped.
    await deps().sceneLog.append([{ sceneId: script.sceneIds[3]!, update: encodeRestBlocksAsUpdate(OTHER_BLOCKS), createdBy: null }]);
    return script;
  };
  const replayed = async (sceneId: string) => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, replayUpdates(await deps().sceneLog.load(sceneId)).state);
    return blocksOf(doc);
  };

  it('dry run verifies and reports, stores nothing', async () => {
    const { scriptId, sceneIds } = await fixture();
    const report = await migrateRestToYjs(deps(), { mode: 'dry-run', scope: { kind: 'script', scriptId } });
    expect(report.summary).toMatchObject({ scenes: 4, wouldMigrate: 1, migrated: 0, skipped: 2, conversionErrors: 1, failed: 0 });
    expect(report.summary.skippedBy).toEqual({ REST_EMPTY: 1, HAS_VERSIONS: 1 });
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: { in: sceneIds } } })).toBe(1);
    expect(migrationExitCode(report.summary)).toBe(1);
  });

  it('migrates scenes without versions, skips the rest, reports conversion errors, marks the migrated', async () => {
    const { scriptId, sceneIds } = await fixture();
    const seen: string[] = [];
    const report = await migrateRestToYjs(
      { ...deps(), onScene: (result, done, total) => seen.push(`${done}/${total} ${result.status}`) },
      { mode: 'migrate', scope: { kind: 'script', scriptId } },
    );
    expect(seen).toEqual(['1/4 migrated', '2/4 skipped', '3/4 conversion-error', '4/4 skipped']);
    expect(report.summary).toMatchObject({ migrated: 1, skipped: 2, conversionErrors: 1, failed: 0 });
    expect(report.results[2]).toMatchObject({ status: 'conversion-error', reason: 'INVALID_REST_BLOCKS' });

    expect(await replayed(sceneIds[0]!)).toBe(canonical(SCENE_BLOCKS));
    const migrated = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId: sceneIds[0]! } });
    expect(migrated).toMatchObject({ snapshotSource: 'migrated', yjsDerived: true });
    expect(migrated.yjsSeededAt).not.toBeNull();
    // Nothing for the empty, the invalid or the already-migrated scene.
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: { in: sceneIds.slice(1, 3) } } })).toBe(0);
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: sceneIds[3]! } })).toBe(1);

    // A second pass has nothing left to do.
    const again = await migrateRestToYjs(deps(), { mode: 'migrate', scope: { kind: 'script', scriptId } });
    expect(again.summary).toMatchObject({ migrated: 0, skipped: 3, conversionErrors: 1 });
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: sceneIds[0]! } })).toBe(1);
  });

  it('verify-only compares each log with its REST copy', async () => {
    const { scriptId, sceneIds } = await fixture();
    await migrateRestToYjs(deps(), { mode: 'migrate', scope: { kind: 'script', scriptId } });
    const verified = await migrateRestToYjs(deps(), { mode: 'verify-only', scope: { kind: 'script', scriptId } });
    expect(verified.summary).toMatchObject({ verified: 2, mismatched: 0, notMigrated: 2 });
    expect(migrationExitCode(verified.summary)).toBe(0);

    await db().prisma.scene.update({ where: { sceneId: sceneIds[0]! }, data: { contentBlocks: OTHER_BLOCKS } });
    const mismatched = await migrateRestToYjs(deps(), { mode: 'verify-only', scope: { kind: 'script', scriptId } });
    expect(mismatched.summary).toMatchObject({ verified: 1, mismatched: 1 });
    expect(mismatched.results[0]).toMatchObject({ status: 'mismatch', reason: 'CONTENT_DIFFERS' });
    expect(migrationExitCode(mismatched.summary)).toBe(1);
  });

  it('reports a scene marked seeded whose log is gone as failed, and does not reseed it', async () => {
    const { scriptId, sceneIds } = await createScript(db().prisma, { sceneContents: [SCENE_BLOCKS] });
    await db().prisma.scene.update({ where: { sceneId: sceneIds[0]! }, data: { yjsSeededAt: new Date() } });
    const report = await migrateRestToYjs(deps(), { mode: 'migrate', scope: { kind: 'script', scriptId } });
    expect(report.results[0]).toMatchObject({ status: 'failed', reason: 'SEEDED_LOG_MISSING' });
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: sceneIds[0]! } })).toBe(0);
  });

  it('rejects an unknown script id', async () => {
    await expect(migrateRestToYjs(deps(), { mode: 'migrate', scope: { kind: 'script', scriptId: randomUUID() } })).rejects.toBeInstanceOf(UnknownTargetError);
  });

  it('seeds a scene once when an editor opens it while the migration runs (same lock)', async () => {
    const { scriptId, sceneIds } = await createScript(db().prisma, { scenes: 8, contentBlocks: SCENE_BLOCKS });
    const { prisma } = db();
    const sceneLog = new SceneLog(db().database.sql);
    const validator = new SceneLoadValidator({
      prisma,
      sceneLog,
      seeder: new SceneSeeder({ prisma, sceneLog }),
      corruptionPolicy: 'log',
      metrics: createMetrics({ defaultMetrics: false }),
      logger: silentLogger(),
    });
    // The "editor": every scene is loaded (empty, as the append log replays it) at the same time.
    const [report, checks] = await Promise.all([
      migrateRestToYjs(deps(), { mode: 'migrate', scope: { kind: 'script', scriptId } }),
      Promise.all(sceneIds.map((sceneId) => validator.check(new Y.Doc(), sceneId))),
    ]);
    for (const sceneId of sceneIds) expect(await prisma.sceneVersion.count({ where: { sceneId } })).toBe(1);
    const seededByEditor = checks.filter((c) => c.result === 'seeded').length;
    expect(report.summary.migrated + seededByEditor).toBe(sceneIds.length);
    expect(report.summary.migrated + report.summary.skipped).toBe(sceneIds.length);
  });
});

describe.skipIf(!testDatabaseKinds().includes('postgres'))('migrate-rest-to-yjs from the command line (PostgreSQL)', () => {
  it('dry run, migrate, verify, with progress and a summary; exit 1 when a scene cannot be converted', async () => {
    const db = await createTestDatabase('postgres');
    try {
      const env = { DATABASE_URL: db.databaseUrl! };
      const { scriptId, sceneIds } = await createScript(db.prisma, { sceneContents: [SCENE_BLOCKS, OTHER_BLOCKS, []] });
      const broken = await createScript(db.prisma, { sceneContents: [INVALID], title: 'Broken' });

      const dry = await runJobCli(['migrate-rest-to-yjs', '--dry-run', '--script-id', scriptId], env);
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain('would migrate:     2');
      expect(lines(dry.stderr)).toEqual([
        `[1/3] ${sceneIds[0]} would migrate (5 blocks, ${encodeRestBlocksAsUpdate(SCENE_BLOCKS).byteLength} bytes)`,
        `[2/3] ${sceneIds[1]} would migrate (2 blocks, ${encodeRestBlocksAsUpdate(OTHER_BLOCKS).byteLength} bytes)`,
        `[3/3] ${sceneIds[2]} skipped: REST copy empty`,
      ]);
      expect(await db.prisma.sceneVersion.count()).toBe(0);

      // Not ready (the broken scene does not round-trip, NODE_ENV=test runs no jobs): readiness.test.ts proves the refusal.
      const all = await runJobCli(['migrate-rest-to-yjs', '--all', '--force'], env);
      expect(all.code).toBe(1);
      expect(all.stdout).toContain('migrated:          2');
      expect(all.stdout).toContain('conversion errors: 1');
      expect(all.stdout).toContain(`conversion-error ${broken.sceneIds[0]}: INVALID_REST_BLOCKS`);
      expect(await db.prisma.sceneVersion.count()).toBe(2);

      const verify = await runJobCli(['migrate-rest-to-yjs', '--verify-only', '--script-id', scriptId.toUpperCase(), '--json'], env);
      expect(verify.code).toBe(0);
      const report = JSON.parse(verify.stdout) as { summary: { verified: number; notMigrated: number } };
      expect(report.summary).toMatchObject({ verified: 2, notMigrated: 1 });

      const again = await runJobCli(['migrate-rest-to-yjs', '--script-id', scriptId], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('skipped:           3 (already has versions: 2, REST copy empty: 1)');
    } finally {
      await db.close();
    }
  });
});
