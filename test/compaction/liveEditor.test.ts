import { afterAll, expect, it } from 'vitest';
import * as Y from 'yjs';
import { compactScene } from '../../src/log/compaction.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createScript } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';
import { textOf } from '../helpers/documents.ts';
import { JOB_DEFAULTS, logRows } from './support.ts';

describeEachServer('compaction while an editor is connected', ({ db, app }) => {
  const clients: TestClient[] = [];

  afterAll(() => {
    for (const client of clients) client.destroy();
  });

  it('changes only storage: the open document, its editors and fresh loads all agree', async () => {
    const { sceneIds, userId } = await createScript(db().prisma);
    const sceneId = sceneIds[0]!;
    const token = await tokenFor(userId);
    const writer = connectClient(app().wsUrl, sceneId, { token });
    const watcher = connectClient(app().wsUrl, sceneId, { token });
    clients.push(writer, watcher);
    await Promise.all([waitForSynced(writer), waitForSynced(watcher)]);

    // Type for a while and compact the scene over and over while the writer types.
    let typed = 0;
    const typing = setInterval(() => {
      typeInto(writer.doc, 'abcdefghijklmnopqrstuvwxyz'[typed % 26]!);
      typed += 1;
    }, 2);
    let compactions = 0;
    // Rounds by count, not by clock: a loaded machine then takes longer, not fewer compactions. A
    // round finds nothing to merge only when no new update was stored since the last one.
    try {
      for (let round = 0; round < 200 && compactions < 10; round += 1) {
        const result = await compactScene(db().database.sql, sceneId, { maxRows: JOB_DEFAULTS.compaction.maxRowsPerCompaction, wait: true });
        if (result.status === 'compacted') compactions += 1;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      clearInterval(typing);
    }
    await waitForAcked(writer);
    expect(compactions).toBeGreaterThan(2);

    // The editors keep working on the same document after compaction.
    for (const ch of 'END') typeInto(writer.doc, ch);
    await waitForAcked(writer);
    await waitFor(() => textOf(watcher.doc) === textOf(writer.doc), 'the watcher sees every edit');
    expect(textOf(writer.doc)).toContain('END');

    // A last compaction, then the log alone must reproduce the document.
    await compactScene(db().database.sql, sceneId, { maxRows: JOB_DEFAULTS.compaction.maxRowsPerCompaction, wait: true });
    const rows = await logRows(db().database.sql, sceneId);
    expect(rows.filter((row) => row.compactedBy === null).length).toBe(1);
    // Every update the writer sent is stored once (the rows compaction merged are kept until
    // retention; group commit may have stored a run of keystrokes in one of them).
    const originals = rows.filter((row) => !row.isCompacted);
    expect(originals.reduce((sum, row) => sum + row.compactedCount, 0)).toBe(typed + 3);
    expect(rows.at(-1)).toMatchObject({ isCompacted: true, compactedCount: typed + 3 });
    const fromLog = new Y.Doc();
    Y.applyUpdate(fromLog, replayUpdates(await app().sceneLog.load(sceneId)).state);
    expect(textOf(fromLog)).toBe(textOf(writer.doc));

    const reader = connectClient(app().wsUrl, sceneId, { token });
    clients.push(reader);
    await waitForSynced(reader);
    expect(textOf(reader.doc)).toBe(textOf(writer.doc));
  });
});
