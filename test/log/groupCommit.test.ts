import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyAll } from '../../src/log/replay.ts';
import { GroupCommitQueue, QueueClosedError, type GroupCommitOptions } from '../../src/log/groupCommit.ts';
import { SceneNotFoundError } from '../../src/errors.ts';
import { SceneLog, type AppendEntry } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { textUpdate } from '../helpers/typing.ts';

/** The real scene log, counting the INSERTs it is asked for and the rows in each. */
class CountingLog extends SceneLog {
  readonly batches: number[] = [];
  override async append(entries: readonly AppendEntry[]) {
    this.batches.push(entries.length);
    return super.append(entries);
  }
}

describeEachDatabase('GroupCommitQueue', (db) => {
  const queueOn = (log: SceneLog, options: Partial<GroupCommitOptions> = {}) =>
    new GroupCommitQueue(log, { maxBatch: 1000, lanes: 1, maxUpdatesPerRow: 1, retries: 0, logger: silentLogger(), ...options });

  /** The texts stored for a scene, in sequence order. */
  const storedTexts = async (sceneId: string) =>
    (await new SceneLog(db().database.sql).load(sceneId)).map((row) => {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, row.update);
      return doc.getText('t').toString();
    });

  it('writes what is appended in one turn of the event loop as one INSERT', async () => {
    const { sceneIds } = await createScript(db().prisma, { scenes: 3 });
    const log = new CountingLog(db().database.sql);
    const queue = queueOn(log);
    const appended = Array.from({ length: 30 }, (_, i) => queue.append({ sceneId: sceneIds[i % 3]!, update: textUpdate(`u${i}`), createdBy: null }));
    await Promise.all(appended);
    expect(log.batches).toEqual([30]);
  });

  it('splits a longer queue into INSERTs of at most maxBatch rows, in order', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const log = new CountingLog(db().database.sql);
    const queue = queueOn(log, { maxBatch: 7 });
    const texts = Array.from({ length: 20 }, (_, i) => `t${i}`);
    await Promise.all(texts.map((text) => queue.append({ sceneId: sceneIds[0]!, update: textUpdate(text), createdBy: null })));
    expect(log.batches).toEqual([7, 7, 6]);
    expect(await storedTexts(sceneIds[0]!)).toEqual(texts);
  });

  it('keeps every scene in append order while several lanes write at once', async () => {
    const { sceneIds } = await createScript(db().prisma, { scenes: 12 });
    const log = new CountingLog(db().database.sql);
    const queue = queueOn(log, { lanes: 3, maxBatch: 10 });
    const expected = new Map<string, string[]>(sceneIds.map((id) => [id, []]));
    const writes: Array<Promise<unknown>> = [];
    // Appends arrive over several turns, interleaved across scenes, while earlier batches are in flight.
    for (let turn = 0; turn < 8; turn += 1) {
      for (let i = 0; i < 30; i += 1) {
        const sceneId = sceneIds[(i * 5 + turn) % sceneIds.length]!;
        const text = `${turn}.${i}`;
        expected.get(sceneId)!.push(text);
        writes.push(queue.append({ sceneId, update: textUpdate(text), createdBy: null }));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(writes);
    for (const [sceneId, texts] of expected) expect(await storedTexts(sceneId)).toEqual(texts);
    // More than one INSERT was needed per turn: the lanes wrote separately.
    expect(log.batches.length).toBeGreaterThan(8);
  });

  it('stores a writer’s run of updates as one row that counts every update in it', async () => {
    const { sceneIds, userId } = await createScript(db().prisma, { scenes: 2 });
    const log = new CountingLog(db().database.sql);
    const queue = queueOn(log, { maxUpdatesPerRow: 4 });
    const typed = new Y.Doc();
    const keystrokes: Uint8Array[] = [];
    typed.on('update', (u: Uint8Array) => keystrokes.push(u));
    for (const char of 'FADE IN:') typed.getText('t').insert(typed.getText('t').length, char);
    const other = textUpdate('elsewhere');
    const appended = await Promise.all([
      ...keystrokes.map((u) => queue.append({ sceneId: sceneIds[0]!, update: u, createdBy: userId })),
      queue.append({ sceneId: sceneIds[1]!, update: other, createdBy: null }),
    ]);
    // One INSERT of three rows: 4 + 4 keystrokes, and the other scene's update.
    expect(log.batches).toEqual([3]);
    expect(appended.map((a) => a.seq)).toEqual([1n, 1n, 1n, 1n, 2n, 2n, 2n, 2n, 1n]);
    expect(new Set(appended.slice(0, 4).map((a) => ('versionId' in a ? a.versionId : null))).size).toBe(1);
    const sceneLog = new SceneLog(db().database.sql);
    const rows = await sceneLog.load(sceneIds[0]!);
    expect(rows.map((r) => [r.seq, r.compactedCount, r.isCompacted])).toEqual([[1n, 4, false], [2n, 4, false]]);
    expect(await sceneLog.counts(sceneIds[0]!)).toMatchObject({ live: 2, updates: 8 });
    const loaded = new Y.Doc();
    applyAll(loaded, rows.map((row) => row.update));
    expect(loaded.getText('t').toString()).toBe('FADE IN:');
    expect(await storedTexts(sceneIds[1]!)).toEqual(['elsewhere']);
    const authors = await db().database.sql.query<{ created_by: string }>('authors', 'SELECT DISTINCT created_by FROM scene_versions WHERE scene_id = $1::uuid', [sceneIds[0]]);
    expect(authors).toEqual([{ created_by: userId }]);
  });

  it('refuses only the updates of a scene that does not exist', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const queue = queueOn(queueLog());
    const good = queue.append({ sceneId: sceneIds[0]!, update: textUpdate('kept'), createdBy: null });
    const bad = queue.append({ sceneId: '00000000-0000-4000-8000-000000000000', update: textUpdate('lost'), createdBy: null });
    await expect(good).resolves.toMatchObject({ sceneId: sceneIds[0], seq: 1n });
    await expect(bad).rejects.toBeInstanceOf(SceneNotFoundError);
  });

  it('commits everything queued on close, then refuses new updates', async () => {
    const { sceneIds } = await createScript(db().prisma, { scenes: 4 });
    const queue = queueOn(queueLog(), { lanes: 2 });
    const queued = sceneIds.map((sceneId, i) => queue.append({ sceneId, update: textUpdate(`last ${i}`), createdBy: null }));
    expect(queue.pending).toBe(4);
    await queue.close();
    expect(queue.pending).toBe(0);
    await expect(Promise.all(queued)).resolves.toHaveLength(4);
    for (const [i, sceneId] of sceneIds.entries()) expect(await storedTexts(sceneId)).toEqual([`last ${i}`]);
    await expect(queue.append({ sceneId: sceneIds[0]!, update: textUpdate('late'), createdBy: null })).rejects.toBeInstanceOf(QueueClosedError);
  });

  function queueLog(): SceneLog {
    return new SceneLog(db().database.sql);
  }
});
