import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { prismaExecutor } from '../../src/db/sql.ts';
import { LabelStore } from '../../src/history/labelStore.ts';
import { compactScene } from '../../src/log/compaction.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { sceneLifecycle } from '../../src/scenes/lifecycle.ts';
import { applyRestBlocksToYDoc } from '../../src/screenplay/index.ts';
import { exportScene, writeSceneExport } from '../../jobs/exportScene.ts';
import { importScene, readSceneFile, SceneFileError, SceneImportRefusedError } from '../../jobs/importScene.ts';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../helpers/db.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { JOB_DEFAULTS } from '../compaction/support.ts';
import { runJobCli } from './support.ts';

const logger = silentLogger();
const block = (text: string) => ({ type: 'action', text });

/** Appends updates that turn the scene into each version in turn, written by `userId`. */
async function write(sceneLog: SceneLog, sceneId: string, userId: string, versions: string[]): Promise<void> {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, replayUpdates(await sceneLog.load(sceneId)).state);
  for (const text of versions) {
    const { update } = applyRestBlocksToYDoc(doc, [block(text)]);
    const [appended] = await sceneLog.append([{ sceneId, update: update!, createdBy: userId }]);
    if (appended instanceof Error) throw appended;
  }
  doc.destroy();
}

/** Every stored row of the scene, as the comparison needs it. */
async function rowsOf(db: TestDatabase, sceneId: string) {
  const rows = await new SceneLog(db.database.sql).clear.exportRows([sceneId]);
  return rows.map((row) => ({ ...row, update: Buffer.from(row.update).toString('base64'), createdBy: row.createdBy === null ? null : 'someone' }));
}

async function replayedState(db: TestDatabase, sceneId: string): Promise<string> {
  return Buffer.from(replayUpdates(await new SceneLog(db.database.sql).load(sceneId)).state).toString('base64');
}

describe.skipIf(testDatabaseKinds().length < 2)('export-scene and import-scene: PGlite to PostgreSQL', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let dir: string;
  let sceneId: string;
  let exportFile: string;
  let targetScriptId: string;

  beforeAll(async () => {
    [source, target] = await Promise.all([createTestDatabase('pglite'), createTestDatabase('postgres')]);
    dir = await mkdtemp(path.join(tmpdir(), 'scene-transfer-'));
    // A scene with merged rows awaiting retention, a compacted row, later edits and two labels.
    const writer = await createUser(source.prisma, 'dana@example.test');
    const script = await createScript(source.prisma, { ownerId: writer, scenes: 1, title: 'Night Diner' });
    sceneId = script.sceneIds[0]!;
    const sceneLog = new SceneLog(source.database.sql);
    await write(sceneLog, sceneId, writer, ['one', 'one two', 'one two three']);
    expect((await compactScene(source.database.sql, sceneId, { maxRows: JOB_DEFAULTS.compaction.maxRowsPerCompaction })).status).toBe('compacted');
    await write(sceneLog, sceneId, writer, ['one two three four']);
    const labels = new LabelStore(prismaExecutor(source.prisma));
    const state = replayUpdates(await sceneLog.load(sceneId)).state;
    await labels.insertSceneLabel({ sceneId, name: 'Draft 1', seq: 4n, state, labelledAt: new Date(), createdBy: writer });
    await labels.insertSceneLabel({ sceneId, name: 'Empty', seq: null, state: null, labelledAt: new Date(0), createdBy: null });

    // The writer signed up again on the new database, with another id.
    const owner = await createUser(target.prisma, 'DANA@example.test');
    targetScriptId = (await target.prisma.script.create({ data: { ownerId: owner, title: 'Moved' } })).scriptId;
    exportFile = path.join(dir, 'scene.json');
  });

  afterAll(async () => {
    await Promise.all([source?.close(), target?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('round-trips the log, seqs, compaction marks, labels and writers; the replayed document is identical', async () => {
    const exported = await exportScene({ database: source.database }, sceneId);
    expect(exported).toMatchObject({ headSeq: '4', writers: [{ email: 'dana@example.test' }] });
    expect(exported.rows.map((r) => [r.seq, r.isCompacted, r.compactedBy !== null])).toEqual([
      ['1', false, true],
      ['2', false, true],
      ['3', true, false],
      ['3', false, true],
      ['4', false, false],
    ]);
    await writeSceneExport(exportFile, exported);

    const file = readSceneFile(await readFile(exportFile, 'utf8'));
    const report = await importScene({ database: target.database, logger }, file, { scriptId: targetScriptId, replace: false, exportDir: dir });
    expect(report).toMatchObject({ sceneId, scriptId: targetScriptId, createdScene: true, replaced: null, rows: 5, head: '4', restCopy: 'written' });
    expect(report.labels).toEqual({ imported: 2, skipped: [] });
    expect(report.writers).toEqual({ sameId: 0, byEmail: 1, unknown: 0 });

    expect(await rowsOf(target, sceneId)).toEqual(await rowsOf(source, sceneId));
    expect(await replayedState(target, sceneId)).toBe(await replayedState(source, sceneId));
    const moved = await target.prisma.user.findFirstOrThrow({ where: { email: 'DANA@example.test' } });
    expect(new Set((await new SceneLog(target.database.sql).clear.exportRows([sceneId])).map((r) => r.createdBy))).toEqual(new Set([moved.userId, null]));
    const labels = new LabelStore(prismaExecutor(target.prisma));
    const draft = await labels.findSceneLabel(sceneId, { name: 'Draft 1' });
    expect(draft).toMatchObject({ seq: 4n, createdBy: moved.userId, scriptLabelId: null });
    expect(Buffer.from(draft!.state!).toString('base64')).toBe(await replayedState(source, sceneId));
    expect(await labels.findSceneLabel(sceneId, { name: 'Empty' })).toMatchObject({ seq: null, state: null });

    // The REST copy was derived from the imported log, and the next append continues the seqs.
    const scene = await target.prisma.scene.findUniqueOrThrow({ where: { sceneId } });
    expect(scene).toMatchObject({ snapshotSeq: 4n, yjsDerived: true, contentBlocks: [expect.objectContaining({ text: 'one two three four' })] });
    const facts = await new SceneLog(target.database.sql).lifecycle.factsOf([sceneId]);
    expect(sceneLifecycle(facts.get(sceneId)!)).toBe('YJS_COMPACTED');
    await write(new SceneLog(target.database.sql), sceneId, moved.userId, ['one two three four five']);
    expect((await new SceneLog(target.database.sql).head(sceneId))).toBe(5n);
  });

  it('refuses a scene that has a log unless --replace, which clears it through clear-yjs first', async () => {
    const file = readSceneFile(await readFile(exportFile, 'utf8'));
    await expect(importScene({ database: target.database, logger }, file, { replace: false, exportDir: dir })).rejects.toThrow(SceneImportRefusedError);
    const before = await new SceneLog(target.database.sql).clear.exportRows([sceneId]);
    // The previous test's append is older than clear-yjs's 2-minute activity window only in time; age it.
    await target.database.sql.query('test_age', `UPDATE scene_versions SET created_at = created_at - interval '1 hour' WHERE scene_id = $1::uuid`, [sceneId]);
    await target.prisma.$executeRaw`UPDATE scenes SET updated_at = updated_at - interval '1 hour' WHERE scene_id = ${sceneId}::uuid`;

    const cli = await runJobCli(['import-scene', exportFile, '--replace', '--export-dir', dir, '--json'], { DATABASE_URL: target.databaseUrl! });
    expect(cli.stderr).toContain('import-scene: cleared 6 rows');
    expect(cli.code).toBe(0);
    const report = JSON.parse(cli.stdout);
    expect(report).toMatchObject({ createdScene: false, rows: 5, head: '5', replaced: { rows: before.length }, labels: { imported: 0, skipped: ['Empty', 'Draft 1'] } });
    expect(JSON.parse(await readFile(report.replaced.exportPath, 'utf8').then((t) => t.split('\n')[0]!)).rows).toBe(6);
    expect(await replayedState(target, sceneId)).toBe(await replayedState(source, sceneId));
  });

  it('refuses broken files with a clear message and exit 2, writing nothing', async () => {
    const good = JSON.parse(await readFile(exportFile, 'utf8'));
    const broken: Array<[string, string, RegExp]> = [
      ['truncated', (await readFile(exportFile, 'utf8')).slice(0, 200), /^not JSON: /],
      ['other format', JSON.stringify({ format: 'writersroom/clear-yjs-export@1' }), /not a scene export/],
      ['newer version', JSON.stringify({ ...good, version: 2 }), /^version 2 of the scene export is not supported/],
      ['bad base64', JSON.stringify({ ...good, rows: good.rows.map((r: any, i: number) => (i === 0 ? { ...r, yjsUpdate: 'not base64!' } : r)) }), /^rows\.0\.yjsUpdate: must be base64/],
      ['bad bytes', JSON.stringify({ ...good, rows: good.rows.map((r: any, i: number) => (i === 4 ? { ...r, yjsUpdate: Buffer.from([1, 2, 3, 4, 5, 6, 7]).toString('base64') } : r)) }), /^rows\.4 \(seq 4\): the Yjs update does not decode/],
      ['missing field', JSON.stringify({ ...good, headSeq: undefined }), /^headSeq: /],
      ['dangling mark', JSON.stringify({ ...good, rows: good.rows.filter((r: any) => !r.isCompacted) }), /compactedBy .* is not a compacted row of this file/],
    ];
    for (const [what, text] of broken) expect(() => readSceneFile(text), what).toThrow(SceneFileError);
    for (const [what, text, message] of broken) {
      try {
        readSceneFile(text);
      } catch (error) {
        expect((error as Error).message, what).toMatch(message);
      }
    }
    const file = path.join(dir, 'broken.json');
    await writeFile(file, broken[3]![1]);
    const before = await target.prisma.scene.count();
    const cli = await runJobCli(['import-scene', file, '--script-id', targetScriptId], { DATABASE_URL: target.databaseUrl! });
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim()).toBe(`import-scene: ${file}: rows.0.yjsUpdate: must be base64`);
    expect(await target.prisma.scene.count()).toBe(before);
  });
});
