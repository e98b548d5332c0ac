import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classifySceneState } from '../../src/restCopy/diagnostics.ts';
import { UnknownTargetError } from '../../src/restCopy/errors.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { encodeRestBlocksAsUpdate } from '../../src/screenplay/index.ts';
import { diagnoseYjsState, formatDiagnosis } from '../../jobs/diagnose.ts';
import { createTestDatabase, describeEachDatabase, testDatabaseKinds, type TestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { deleteOnlyUpdate, OTHER_BLOCKS, SCENE_BLOCKS } from '../seeding/support.ts';
import { lines, runJobCli } from './support.ts';

describe('classifySceneState', () => {
  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  it.each([
    { restUpdatedAt: t(1), lastUpdateAt: t(2), latestSeq: 5n, snapshotSeq: null, state: 'YJS_CURRENT', derived: false },
    { restUpdatedAt: t(3), lastUpdateAt: t(2), latestSeq: 5n, snapshotSeq: null, state: 'REST_NEWER', derived: false },
    { restUpdatedAt: t(3), lastUpdateAt: t(2), latestSeq: 5n, snapshotSeq: 4n, state: 'REST_NEWER', derived: false },
    // A snapshot of the newest state writes the REST copy after the update it was derived from.
    { restUpdatedAt: t(3), lastUpdateAt: t(2), latestSeq: 5n, snapshotSeq: 5n, state: 'YJS_CURRENT', derived: true },
  ] as const)('REST at $restUpdatedAt, snapshot seq $snapshotSeq -> $state', ({ state, derived, ...facts }) => {
    expect(classifySceneState(facts)).toEqual({ state, restDerivedFromLog: derived });
  });
});

/** Scenes covering every section of the report, in one script. */
async function diagnosisFixture(db: TestDatabase) {
  const { prisma } = db;
  const sceneLog = new SceneLog(db.database.sql);
  const script = await createScript(prisma, { sceneContents: [SCENE_BLOCKS, SCENE_BLOCKS, SCENE_BLOCKS, OTHER_BLOCKS, { not: 'blocks' }, []], title: 'Night Diner' });
  const [current, restNewer, snapshotted, noUpdates, invalid, empty] = script.sceneIds as [string, string, string, string, string, string];
  await sceneLog.append([
    { sceneId: current, update: encodeRestBlocksAsUpdate(SCENE_BLOCKS), createdBy: null },
    { sceneId: current, update: deleteOnlyUpdate(), createdBy: null },
    { sceneId: restNewer, update: encodeRestBlocksAsUpdate(SCENE_BLOCKS), createdBy: null },
    { sceneId: snapshotted, update: encodeRestBlocksAsUpdate(SCENE_BLOCKS), createdBy: null },
  ]);
  const later = new Date(Date.now() + 3_600_000);
  const earlier = new Date(Date.now() - 3_600_000);
  await prisma.$executeRaw`UPDATE scenes SET updated_at = ${earlier} WHERE scene_id = ${current}::uuid`;
  await prisma.$executeRaw`UPDATE scenes SET updated_at = ${later} WHERE scene_id = ${restNewer}::uuid`;
  await prisma.$executeRaw`UPDATE scenes SET updated_at = ${later}, snapshot_seq = 1, snapshot_source = 'yjs' WHERE scene_id = ${snapshotted}::uuid`;
  return { scriptId: script.scriptId, current, restNewer, snapshotted, noUpdates, invalid, empty };
}

describeEachDatabase('diagnoseYjsState (direct)', (db) => {
  it('lists scenes with updates, REST-newer scenes and scenes with REST content but no updates', async () => {
    const f = await diagnosisFixture(db());
    const diagnosis = await diagnoseYjsState({ prisma: db().prisma, sceneLog: new SceneLog(db().database.sql) }, { scriptId: f.scriptId });

    expect(diagnosis.scenesWithUpdates.map((s) => s.sceneId)).toEqual([f.current, ...[f.restNewer, f.snapshotted].sort()]);
    const current = diagnosis.scenesWithUpdates[0]!;
    expect(current).toMatchObject({ storedRows: 2, liveRows: 2, latestSeq: 2n, state: 'YJS_CURRENT', scriptTitle: 'Night Diner' });
    expect(current.firstUpdateAt.getTime()).toBeLessThanOrEqual(current.lastUpdateAt.getTime());
    expect(diagnosis.restNewer.map((s) => s.sceneId)).toEqual([f.restNewer]);
    expect(diagnosis.scenesWithUpdates.find((s) => s.sceneId === f.snapshotted)).toMatchObject({ state: 'YJS_CURRENT', restDerivedFromLog: true });
    expect(diagnosis.restWithoutUpdates.map((s) => [s.sceneId, s.restBlocks])).toEqual([
      [f.noUpdates, 2],
      [f.invalid, null],
    ]);
    const text = formatDiagnosis(diagnosis).join('\n');
    expect(text).toContain('Scenes with Yjs updates: 3');
    expect(text).toContain(`REST_NEWER   Night Diner    1  ${f.restNewer}`);
    expect(text).toContain('Scenes with REST content and no Yjs updates: 2');
  });

  it('rejects an unknown script id', async () => {
    await expect(diagnoseYjsState({ prisma: db().prisma, sceneLog: new SceneLog(db().database.sql) }, { scriptId: randomUUID() })).rejects.toBeInstanceOf(UnknownTargetError);
  });
});

describe.skipIf(!testDatabaseKinds().includes('postgres'))('diagnose from the command line (PostgreSQL)', () => {
  it('prints a table, or JSON with --json; bad arguments exit 2', async () => {
    const db = await createTestDatabase('postgres');
    try {
      const env = { DATABASE_URL: db.databaseUrl! };
      const f = await diagnosisFixture(db);

      const table = await runJobCli(['diagnose'], env);
      expect(table.code).toBe(0);
      expect(table.stdout).toContain('Scenes with Yjs updates: 3');
      expect(table.stdout).toContain('Scenes whose REST copy is newer than their newest update (REST_NEWER): 1');
      expect(table.stdout).toMatch(new RegExp(`REST_NEWER +Night Diner +1 +${f.restNewer} +1 +1 `));

      const json = await runJobCli(['diagnose', '--json', '--script-id', f.scriptId], env);
      expect(json.code).toBe(0);
      const report = JSON.parse(json.stdout) as { scenesWithUpdates: Array<{ sceneId: string; storedRows: number; latestSeq: string }>; restNewer: unknown[]; restWithoutUpdates: unknown[] };
      expect(report.scenesWithUpdates).toHaveLength(3);
      expect(report.scenesWithUpdates[0]).toMatchObject({ sceneId: f.current, storedRows: 2, latestSeq: '2' });
      expect(report.restNewer).toHaveLength(1);
      expect(report.restWithoutUpdates).toHaveLength(2);

      for (const args of [['diagnose', '--script-id', 'nope'], ['diagnose', '--script-id', randomUUID()], ['diagnose', '--tabel']]) {
        const bad = await runJobCli(args, env);
        expect(bad.code, args.join(' ')).toBe(2);
        expect(lines(bad.stderr), args.join(' ')).toHaveLength(1);
        expect(bad.stdout).toBe('');
      }
    } finally {
      await db.close();
    }
  });
});
