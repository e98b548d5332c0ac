import { beforeAll, expect, it } from 'vitest';
import * as Y from 'yjs';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { runJobCli } from '../jobs/support.ts';
import { typingUpdates } from '../helpers/typing.ts';
import { ageRows, expectedDocument, loadDocument, logRows, sameDocument } from './support.ts';

const DAY = 24 * 60 * 60 * 1000;

describeEachDatabase('npm run job -- compaction | retention | snapshot | divergence', { kinds: ['postgres'] }, (db) => {
  let env: Record<string, string>;

  beforeAll(() => {
    env = { DATABASE_URL: db().databaseUrl! };
  });

  it('runs one compaction pass with the configured thresholds, then one retention pass', async () => {
    const { sceneIds } = await createScript(db().prisma, { scenes: 2 });
    const [hot, quiet] = sceneIds as [string, string];
    const log = new SceneLog(db().database.sql);
    const updates = typingUpdates(30);
    await log.append(updates.map((update) => ({ sceneId: hot, update, createdBy: null })));
    await log.append(typingUpdates(5).map((update) => ({ sceneId: quiet, update, createdBy: null })));

    const compaction = await runJobCli(['compaction'], { ...env, COMPACTION_HOT_LIVE_ROWS: '20' });
    expect(compaction.code).toBe(0);
    expect(compaction.stdout).toMatch(/scenes compacted: +1 \(1 compacted rows written\)/);
    expect(compaction.stdout).toMatch(/rows merged: +30/);
    expect(compaction.stderr).toMatch(/compaction: done/);
    expect((await logRows(db().database.sql, hot)).filter((row) => row.compactedBy === null)).toHaveLength(1);
    expect((await logRows(db().database.sql, quiet)).filter((row) => row.compactedBy === null)).toHaveLength(5);

    const young = await runJobCli(['retention', '--json'], env);
    expect(young.code).toBe(0);
    expect(JSON.parse(young.stdout)).toMatchObject({ deletedRows: 0 });

    await ageRows(db().database.sql, hot, 31 * DAY);
    const old = await runJobCli(['retention', '--json'], env);
    expect(old.code).toBe(0);
    expect(JSON.parse(old.stdout)).toMatchObject({ deletedRows: 30, scenesPurged: 1 });
    expect(await logRows(db().database.sql, hot)).toHaveLength(1);
    expect(sameDocument((await loadDocument(db().database.sql, hot)).doc, expectedDocument(updates))).toBe(true);
  });

  it('compacts one scene on demand, whatever the thresholds', async () => {
    const { sceneIds } = await createScript(db().prisma);
    await new SceneLog(db().database.sql).append(typingUpdates(7).map((update) => ({ sceneId: sceneIds[0]!, update, createdBy: null })));
    const run = await runJobCli(['compaction', '--scene', sceneIds[0]!.toUpperCase()], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/merged 7 rows/);
  });

  it('runs one snapshot pass and one divergence sweep', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => updates.push(update));
    const paragraph = new Y.XmlElement('paragraph');
    paragraph.insert(0, [new Y.XmlText('A quiet diner at night.')]);
    doc.getXmlFragment('default').insert(0, [paragraph]);
    await new SceneLog(db().database.sql).append(updates.map((update) => ({ sceneId: sceneIds[0]!, update, createdBy: null })));

    const snapshot = await runJobCli(['snapshot', '--json'], env);
    expect(snapshot.code).toBe(0);
    expect(JSON.parse(snapshot.stdout)).toMatchObject({ failed: 0 });
    const scene = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId: sceneIds[0]! } });
    expect(JSON.stringify(scene.contentBlocks)).toContain('A quiet diner at night.');

    const divergence = await runJobCli(['divergence', '--json'], env);
    expect(divergence.code).toBe(0);
    expect(JSON.parse(divergence.stdout)).toMatchObject({ skipped: false, scenes_failed: 0 });
  });

  it('refuses bad arguments and unknown scenes with exit code 2', async () => {
    expect((await runJobCli(['compaction', '--scene', 'nope'], env)).code).toBe(2);
    expect((await runJobCli(['compaction', '--scene', '00000000-0000-4000-8000-000000000000'], env)).code).toBe(2);
    expect((await runJobCli(['retention', '--days', '-1'], env)).code).toBe(2);
    const help = await runJobCli(['compaction', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: npm run job -- compaction/);
  });
});
