import pg from 'pg';
import { expect, it } from 'vitest';
import { compactScene, MARK_CHUNK, type CompactionStep } from '../../src/log/compaction.ts';
import { pgExecutor } from '../../src/db/sql.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { Typist, typingUpdates } from '../helpers/typing.ts';
import { ageRows, expectedDocument, JOB_DEFAULTS, loadDocument, logRows, sameDocument } from './support.ts';

const { maxRowsPerCompaction: maxRows } = JOB_DEFAULTS.compaction;

const STEPS: CompactionStep[] = ['locked', 'selected', 'built', 'inserted', 'marked'];

describeEachDatabase('compactScene', (db, kind) => {
  async function sceneWith(updates: Uint8Array[]): Promise<string> {
    const { sceneIds } = await createScript(db().prisma);
    const sceneId = sceneIds[0]!;
    const log = new SceneLog(db().database.sql);
    for (let i = 0; i < updates.length; i += 100) {
      await log.append(updates.slice(i, i + 100).map((update) => ({ sceneId, update, createdBy: null })));
    }
    return sceneId;
  }

  it('merges the live rows into one compacted row and marks exactly those rows', async () => {
    const updates = typingUpdates(250);
    const sceneId = await sceneWith(updates);
    const sql = db().database.sql;
    const before = await logRows(sql, sceneId);

    const result = await compactScene(sql, sceneId, { maxRows });
    expect(result).toMatchObject({ status: 'compacted', seq: 250n, mergedRows: 250, mergedUpdates: 250, undecodable: 0, truncated: false });
    if (result.status !== 'compacted') throw new Error('not compacted');
    expect(result.bytesAfter).toBeLessThan(result.bytesBefore);

    const after = await logRows(sql, sceneId);
    const compacted = after.filter((row) => row.isCompacted);
    expect(compacted).toEqual([{ versionId: result.versionId, seq: 250n, isCompacted: true, compactedCount: 250, compactedBy: null }]);
    expect(after.filter((row) => !row.isCompacted).map((row) => row.versionId)).toEqual(before.map((row) => row.versionId));
    expect(after.filter((row) => !row.isCompacted).every((row) => row.compactedBy === result.versionId)).toBe(true);

    const loaded = await loadDocument(sql, sceneId);
    expect(loaded.live).toBe(1);
    expect(sameDocument(loaded.doc, expectedDocument(updates))).toBe(true);
    expect(await new SceneLog(sql).counts(sceneId)).toMatchObject({ live: 1, updates: 250, stored: 251 });
  });

  it('compacts again on top of a compacted row, and skips a scene with nothing to merge', async () => {
    const typist = new Typist();
    const first = Array.from({ length: 20 }, (_, i) => typist.type(String(i % 10)));
    const sceneId = await sceneWith(first);
    const sql = db().database.sql;
    const one = await compactScene(sql, sceneId, { maxRows });
    expect(await compactScene(sql, sceneId, { maxRows })).toMatchObject({ status: 'skipped', reason: 'nothing_to_compact' });

    const second = [typist.erase(3, 5)!, typist.type('XYZ', 2), typist.type('!')];
    await new SceneLog(sql).append(second.map((update) => ({ sceneId, update, createdBy: null })));
    const two = await compactScene(sql, sceneId, { maxRows });
    expect(two).toMatchObject({ status: 'compacted', seq: 23n, mergedRows: 4, mergedUpdates: 23 });
    if (one.status !== 'compacted' || two.status !== 'compacted') throw new Error('not compacted');
    const rows = await logRows(sql, sceneId);
    expect(rows.find((row) => row.versionId === one.versionId)?.compactedBy).toBe(two.versionId);
    expect(rows.filter((row) => row.compactedBy === null).map((row) => row.versionId)).toEqual([two.versionId]);
    expect(sameDocument((await loadDocument(sql, sceneId)).doc, expectedDocument([...first, ...second]))).toBe(true);
  });

  it('leaves rows that do not decode live and unmerged', async () => {
    const updates = typingUpdates(10);
    const garbage = new Uint8Array([0xff, 0x13, 0x37, 0x00, 0x01]);
    const sceneId = await sceneWith([...updates.slice(0, 5), garbage, ...updates.slice(5)]);
    const sql = db().database.sql;
    const result = await compactScene(sql, sceneId, { maxRows });
    expect(result).toMatchObject({ status: 'compacted', mergedRows: 10, undecodable: 1, seq: 11n });
    const live = (await logRows(sql, sceneId)).filter((row) => row.compactedBy === null);
    expect(live.map((row) => [row.seq, row.isCompacted])).toEqual([
      [6n, false],
      [11n, true],
    ]);
    const loaded = await loadDocument(sql, sceneId);
    expect(loaded.undecodable).toBe(1);
    expect(sameDocument(loaded.doc, expectedDocument(updates))).toBe(true);
  });

  it('merges only up to the newest update older than the age bound', async () => {
    const typist = new Typist();
    const old = Array.from({ length: 30 }, () => typist.type('o'));
    const sceneId = await sceneWith(old);
    const sql = db().database.sql;
    await ageRows(sql, sceneId, 2 * 60 * 60 * 1000);
    const recent = Array.from({ length: 5 }, () => typist.type('n'));
    await new SceneLog(sql).append(recent.map((update) => ({ sceneId, update, createdBy: null })));

    const result = await compactScene(sql, sceneId, { maxRows, createdBefore: new Date(Date.now() - 60 * 60 * 1000) });
    expect(result).toMatchObject({ status: 'compacted', seq: 30n, mergedRows: 30 });
    const live = (await logRows(sql, sceneId)).filter((row) => row.compactedBy === null).map((row) => row.seq);
    expect(live).toEqual([30n, 31n, 32n, 33n, 34n, 35n]);
    expect(sameDocument((await loadDocument(sql, sceneId)).doc, expectedDocument([...old, ...recent]))).toBe(true);
    expect(await compactScene(sql, sceneId, { maxRows, createdBefore: new Date(Date.now() - 60 * 60 * 1000) })).toMatchObject({
      status: 'skipped',
      reason: 'nothing_to_compact',
    });
  });

  it('marks more rows than one statement takes in chunks, pacing between them, all in one transaction', async () => {
    const updates = typingUpdates(2 * MARK_CHUNK + 300);
    const sceneId = await sceneWith(updates);
    const sql = db().database.sql;
    let paces = 0;
    const result = await compactScene(sql, sceneId, { maxRows, pace: async () => void (paces += 1) });
    expect(result).toMatchObject({ status: 'compacted', mergedRows: updates.length });
    expect(paces).toBe(2);
    const after = await logRows(sql, sceneId);
    expect(after.filter((row) => !row.isCompacted).every((row) => row.compactedBy === (result as { versionId: string }).versionId)).toBe(true);
    expect(sameDocument((await loadDocument(sql, sceneId)).doc, expectedDocument(updates))).toBe(true);
  });

  it('rolls back every chunk of marks when a later chunk fails', async () => {
    const updates = typingUpdates(MARK_CHUNK + 50);
    const sceneId = await sceneWith(updates);
    const sql = db().database.sql;
    const before = await logRows(sql, sceneId);
    await expect(
      compactScene(sql, sceneId, {
        maxRows,
        pace: async () => {
          throw new Error('stopped between two chunks');
        },
      }),
    ).rejects.toThrow('stopped between two chunks');
    expect(await logRows(sql, sceneId)).toEqual(before);
  });

  it('merges a long tail in bounded steps, oldest rows first', async () => {
    const updates = typingUpdates(95);
    const sceneId = await sceneWith(updates);
    const sql = db().database.sql;
    const seqs: bigint[] = [];
    for (;;) {
      const result = await compactScene(sql, sceneId, { maxRows: 40 });
      if (result.status !== 'compacted') break;
      seqs.push(result.seq);
      if (!result.truncated) break;
    }
    // 40 originals, then that row plus 39 more, then the rest.
    expect(seqs).toEqual([40n, 79n, 95n]);
    const loaded = await loadDocument(sql, sceneId);
    expect(loaded.live).toBe(1);
    expect(sameDocument(loaded.doc, expectedDocument(updates))).toBe(true);
  });

  it.each(STEPS)('leaves the log exactly as it was when it crashes after step "%s", and a re-run completes it', async (crashAt) => {
    const updates = typingUpdates(40);
    const sceneId = await sceneWith(updates);
    const sql = db().database.sql;
    const before = await logRows(sql, sceneId);
    await expect(
      compactScene(sql, sceneId, {
        maxRows,
        onStep: (step) => {
          if (step === crashAt) throw new Error(`crash after ${step}`);
        },
      }),
    ).rejects.toThrow(`crash after ${crashAt}`);
    expect(await logRows(sql, sceneId)).toEqual(before);

    expect(await compactScene(sql, sceneId, { maxRows })).toMatchObject({ status: 'compacted', seq: 40n, mergedRows: 40 });
    const loaded = await loadDocument(sql, sceneId);
    expect(loaded.live).toBe(1);
    expect(sameDocument(loaded.doc, expectedDocument(updates))).toBe(true);
  });

  it('is safe to run for the same scene from two instances at once: the rows are merged once', async () => {
    const updates = typingUpdates(300);
    const sceneId = await sceneWith(updates);
    const first = db().database.sql;
    // A second instance has its own pool (PostgreSQL); PGlite has one connection and one process.
    const pool = kind === 'postgres' ? new pg.Pool({ connectionString: db().databaseUrl!, max: 2 }) : null;
    const second = pool ? pgExecutor(pool) : first;
    try {
      const results = await Promise.all([compactScene(first, sceneId, { maxRows }), compactScene(second, sceneId, { maxRows, wait: true }), compactScene(second, sceneId, { maxRows })]);
      expect(results.filter((r) => r.status === 'compacted')).toHaveLength(1);
      const rows = await logRows(first, sceneId);
      expect(rows.filter((row) => row.isCompacted)).toHaveLength(1);
      const compacted = rows.find((row) => row.isCompacted)!;
      expect(rows.filter((row) => !row.isCompacted).every((row) => row.compactedBy === compacted.versionId)).toBe(true);
      expect(sameDocument((await loadDocument(first, sceneId)).doc, expectedDocument(updates))).toBe(true);
    } finally {
      await pool?.end();
    }
  });

  // Only PostgreSQL has other connections to commit from while a compaction's transaction is open;
  // PGlite is one connection, where an append simply waits for the compaction to finish.
  if (kind === 'postgres') {
    it('never merges an update that commits while the compaction runs', async () => {
      const typist = new Typist();
      const early = Array.from({ length: 50 }, () => typist.type('e'));
      const sceneId = await sceneWith(early);
      const sql = db().database.sql;
      const log = new SceneLog(sql);
      const during: Uint8Array[] = [];
      const result = await compactScene(sql, sceneId, {
        maxRows,
        // Appends commit on other connections after the rows were selected and after the compacted
        // row was inserted: the head row is not locked by compaction, so they do not wait for it.
        onStep: async (step) => {
          if (step !== 'selected' && step !== 'inserted') return;
          const update = typist.type(step === 'selected' ? 'S' : 'I');
          during.push(update);
          await log.append([{ sceneId, update, createdBy: null }]);
        },
      });
      expect(result).toMatchObject({ status: 'compacted', seq: 50n, mergedRows: 50 });
      const live = (await logRows(sql, sceneId)).filter((row) => row.compactedBy === null).map((row) => [row.seq, row.isCompacted]);
      expect(live).toEqual([
        [50n, true],
        [51n, false],
        [52n, false],
      ]);
      expect(sameDocument((await loadDocument(sql, sceneId)).doc, expectedDocument([...early, ...during]))).toBe(true);
    });
  }
});
