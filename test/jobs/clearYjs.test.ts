import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { clearRefusals, type ClearPlan } from '../../src/restCopy/clearing.ts';
import { ClearRefusedError, UnknownTargetError } from '../../src/restCopy/errors.ts';
import { SceneSeeder } from '../../src/restCopy/seeding.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { encodeRestBlocksAsUpdate } from '../../src/screenplay/index.ts';
import { ACTIVE_WINDOW_MS, clearYjs, EXPORT_FORMAT, type ClearYjsOptions } from '../../jobs/clearYjs.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { blocksOf, canonical } from '../helpers/documents.ts';
import { deleteOnlyUpdate, OTHER_BLOCKS, SCENE_BLOCKS } from '../seeding/support.ts';
import { lines, runJobCli } from './support.ts';

const HOUR = 3_600_000;

describe('clearRefusals', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  const plan = (scenes: Array<Partial<ClearPlan['scenes'][number]>>): ClearPlan => ({
    target: { kind: 'script', id: 'x' },
    totalRows: 0,
    scenes: scenes.map((s, i) => ({ sceneId: `s${i}`, scriptId: 'x', position: i, storedRows: 3, lastUpdateAt: new Date(now.getTime() - HOUR), restBlocks: 4, seeded: true, ...s })),
  });
  const guards = { force: false, allowActive: false, activeWindowMs: ACTIVE_WINDOW_MS, now };

  it.each([
    { why: 'REST has content, idle log', scene: {}, refusals: [] },
    { why: 'empty REST', scene: { restBlocks: 0 }, refusals: ['rest-empty'] },
    { why: 'invalid REST', scene: { restBlocks: null }, refusals: ['rest-invalid'] },
    { why: 'updated a moment ago', scene: { lastUpdateAt: new Date(now.getTime() - 5_000) }, refusals: ['recently-active'] },
    { why: 'nothing to delete, even with empty REST', scene: { storedRows: 0, restBlocks: 0, lastUpdateAt: null }, refusals: [] },
  ])('$why', ({ scene, refusals }) => {
    expect(clearRefusals(plan([scene]), guards).map((r) => r.reason)).toEqual(refusals);
  });

  it('--force overrides the REST guards, --allow-active the activity guard', () => {
    const risky = plan([{ restBlocks: 0, lastUpdateAt: now }]);
    expect(clearRefusals(risky, { ...guards, force: true }).map((r) => r.reason)).toEqual(['recently-active']);
    expect(clearRefusals(risky, { ...guards, allowActive: true }).map((r) => r.reason)).toEqual(['rest-empty']);
    expect(clearRefusals(risky, { ...guards, force: true, allowActive: true })).toEqual([]);
  });
});

interface ExportLine {
  format?: string;
  sceneId?: string;
  versionId?: string;
  seq?: string;
  createdBy?: string | null;
  yjsUpdate?: string;
}

async function readExport(file: string): Promise<{ header: ExportLine & { rows: number }; rows: ExportLine[] }> {
  const [header, ...rows] = lines(await readFile(file, 'utf8')).map((line) => JSON.parse(line) as ExportLine);
  return { header: header as ExportLine & { rows: number }, rows };
}

describeEachDatabase('clearYjs (direct)', (db) => {
  let exportDir: string;
  beforeAll(async () => {
    exportDir = await mkdtemp(path.join(tmpdir(), 'wr-clear-'));
  });
  afterAll(async () => {
    await rm(exportDir, { recursive: true, force: true });
  });

  const deps = (now = new Date(Date.now() + HOUR)) => ({ prisma: db().prisma, sceneLog: new SceneLog(db().database.sql), now: () => now });
  const options = (id: string, more: Partial<ClearYjsOptions> = {}): ClearYjsOptions => ({ id, execute: false, force: false, allowActive: false, exportDir, ...more });

  /** A script with a seeded and edited scene, a scene with a corrupt log, and an empty scene. */
  const fixture = async () => {
    const script = await createScript(db().prisma, { sceneContents: [SCENE_BLOCKS, OTHER_BLOCKS, []] });
    const [edited, corrupt] = script.sceneIds as [string, string];
    const seeder = new SceneSeeder({ prisma: db().prisma, sceneLog: deps().sceneLog });
    await seeder.seedIfEmpty(edited, { corruptionPolicy: 'log', replayExistingLog: true });
    const doc = new Y.Doc();
    Y.applyUpdate(doc, encodeRestBlocksAsUpdate(SCENE_BLOCKS));
    const before = Y.encodeStateVector(doc);
    ((doc.getXmlFragment('default').get(0) as Y.XmlElement).get(0) as Y.XmlText).insert(0, 'EDITED ');
    await deps().sceneLog.append([
      { sceneId: edited, update: Y.encodeStateAsUpdate(doc, before), createdBy: script.userId },
      { sceneId: corrupt, update: deleteOnlyUpdate(), createdBy: null },
    ]);
    return script;
  };
  const rowsOf = (sceneIds: string[]) => db().prisma.sceneVersion.findMany({ where: { sceneId: { in: sceneIds } }, orderBy: [{ sceneId: 'asc' }, { seq: 'asc' }] });

  it('a dry run changes nothing and writes no file', async () => {
    const { scriptId, sceneIds } = await fixture();
    const report = await clearYjs(deps(), options(scriptId));
    expect(report.executed).toBe(false);
    expect(report.plan.totalRows).toBe(3);
    expect(report.plan.scenes.map((s) => s.storedRows)).toEqual([2, 1, 0]);
    expect(await rowsOf(sceneIds)).toHaveLength(3);
    expect(await readdir(exportDir)).toEqual([]);
  });

  it('exports every row first, then deletes them and resets the seed mark in one transaction', async () => {
    const { sceneIds, scriptId } = await fixture();
    const [edited] = sceneIds as [string];
    const before = await rowsOf(sceneIds);
    // The file is complete and on disk when the callback runs, inside the transaction, before the
    // DELETE (an export that fails to write deletes nothing: see below).
    const announced: Array<[string, number]> = [];
    const report = await clearYjs({ ...deps(), onExported: (file, rows) => announced.push([file, rows]) }, options(scriptId, { execute: true }));
    if (!report.executed) throw new Error('expected an executed clear');
    expect(report.result.deletedRows).toBe(3);
    expect(announced).toEqual([[report.result.exportPath, 3]]);

    const file = await readExport(report.result.exportPath);
    expect(file.header).toMatchObject({ format: EXPORT_FORMAT, target: { kind: 'script', id: scriptId }, rows: 3 });
    expect(file.rows.map((r) => [r.versionId, r.seq, r.sceneId, r.createdBy, r.yjsUpdate])).toEqual(
      before.map((r) => [r.versionId, r.seq.toString(), r.sceneId, r.createdBy, Buffer.from(r.yjsUpdate).toString('base64')]),
    );
    expect(await rowsOf(sceneIds)).toHaveLength(0);
    const scenes = await db().prisma.scene.findMany({ where: { sceneId: { in: sceneIds } } });
    expect(scenes.every((s) => s.yjsSeededAt === null)).toBe(true);
    // The head keeps its last seq: the reseed gets a higher one than anything exported.
    const seeder = new SceneSeeder({ prisma: db().prisma, sceneLog: deps().sceneLog });
    const reseeded = await seeder.seedIfEmpty(edited, { corruptionPolicy: 'log', replayExistingLog: true });
    expect(reseeded).toMatchObject({ outcome: 'seeded' });
    if (reseeded.outcome === 'seeded') expect(reseeded.seed.version.seq).toBe(3n);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, replayUpdates(await deps().sceneLog.load(edited)).state);
    expect(blocksOf(doc)).toBe(canonical(SCENE_BLOCKS));
  });

  it('refuses a scene whose REST copy is empty unless forced; refuses a recently updated scene unless allowed', async () => {
    const script = await createScript(db().prisma, { sceneContents: [[]] });
    const sceneId = script.sceneIds[0]!;
    await deps().sceneLog.append([{ sceneId, update: encodeRestBlocksAsUpdate(OTHER_BLOCKS), createdBy: null }]);

    await expect(clearYjs(deps(), options(sceneId, { execute: true }))).rejects.toBeInstanceOf(ClearRefusedError);
    const dry = await clearYjs(deps(), options(sceneId));
    expect(!dry.executed && dry.refusals.map((r) => r.reason)).toEqual(['rest-empty']);
    expect(await rowsOf([sceneId])).toHaveLength(1);

    const justNow = deps(new Date());
    await expect(clearYjs(justNow, options(sceneId, { execute: true, force: true }))).rejects.toThrow(/probably open in an editor/);
    expect(await rowsOf([sceneId])).toHaveLength(1);

    const forced = await clearYjs(justNow, options(sceneId, { execute: true, force: true, allowActive: true }));
    expect(forced.executed).toBe(true);
    expect(await rowsOf([sceneId])).toHaveLength(0);
  });

  it('deletes nothing when the export cannot be written', async () => {
    const { sceneIds, scriptId } = await fixture();
    const blocker = path.join(exportDir, `not-a-directory-${randomUUID()}`);
    await writeFile(blocker, 'x');
    await expect(clearYjs(deps(), options(scriptId, { execute: true, exportDir: blocker }))).rejects.toThrow();
    expect(await rowsOf(sceneIds)).toHaveLength(3);
    expect((await db().prisma.scene.findUniqueOrThrow({ where: { sceneId: sceneIds[0]! } })).yjsSeededAt).not.toBeNull();
  });

  it('rejects an id that is neither a scene nor a script', async () => {
    await expect(clearYjs(deps(), options(randomUUID()))).rejects.toBeInstanceOf(UnknownTargetError);
  });
});

describeEachDatabase('clear-yjs from the command line', { kinds: ['postgres'] }, (db) => {
  let cwd: string;
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), 'wr-clear-cli-'));
  });
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('dry run by default; --execute exports to ./exports and prints the path; refuses empty REST', async () => {
    const env = { DATABASE_URL: db().databaseUrl! };
    const { sceneIds } = await createScript(db().prisma, { sceneContents: [SCENE_BLOCKS, []] });
    const [scene, emptyRest] = sceneIds as [string, string];
    const sceneLog = new SceneLog(db().database.sql);
    await sceneLog.append([
      { sceneId: scene, update: encodeRestBlocksAsUpdate(SCENE_BLOCKS), createdBy: null },
      { sceneId: emptyRest, update: encodeRestBlocksAsUpdate(OTHER_BLOCKS), createdBy: null },
    ]);

    const dry = await runJobCli(['clear-yjs', scene], env, cwd);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('dry run: nothing deleted; would delete 1 row(s)');
    expect(dry.stdout).toContain('would refuse'); // just written: looks open in an editor
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: scene } })).toBe(1);

    const active = await runJobCli(['clear-yjs', scene, '--execute'], env, cwd);
    expect(active.code).toBe(1);
    expect(active.stderr).toContain('--allow-active');

    const executed = await runJobCli(['clear-yjs', scene, '--execute', '--allow-active'], env, cwd);
    expect(executed.code).toBe(0);
    const exportPath = /export: (.+)$/m.exec(executed.stdout)?.[1];
    expect(exportPath).toBeDefined();
    expect(path.dirname(exportPath!)).toBe(path.join(await realpath(cwd), 'exports'));
    const exported = await readExport(exportPath!);
    expect(exported.rows.map((r) => r.sceneId)).toEqual([scene]);
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: scene } })).toBe(0);

    const refused = await runJobCli(['clear-yjs', emptyRest, '--execute', '--allow-active'], env, cwd);
    expect(refused.code).toBe(1);
    expect(lines(refused.stderr)).toEqual([expect.stringContaining('REST copy is empty; the scene would load blank; pass --force')]);
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: emptyRest } })).toBe(1);
    const forced = await runJobCli(['clear-yjs', emptyRest, '--execute', '--allow-active', '--force'], env, cwd);
    expect(forced.code).toBe(0);
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: emptyRest } })).toBe(0);
  });

  it('bad arguments: one line on stderr, exit 2, nothing touched', async () => {
    const env = { DATABASE_URL: db().databaseUrl! };
    // The rest of the argument table runs in process (test/jobs/cli.test.ts).
    for (const args of [['clear-yjs', 'not-a-uuid'], ['clear-yjs', randomUUID()], ['clear-yjs', randomUUID(), '--exceute']]) {
      const run = await runJobCli(args, env, cwd);
      expect(run.code, args.join(' ')).toBe(2);
      expect(lines(run.stderr), args.join(' ')).toHaveLength(1);
    }
  });
});
