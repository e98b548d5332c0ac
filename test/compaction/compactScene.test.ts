import pg from 'pg';
import { expect, it } from 'vitest';
import { compactScene, type CompactionStep } from '../../src/log/compaction.ts';
import { pgExecutor } from '../../src/db/sql.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { Typist, typingUpdates } from '../helpers/typing.ts';
import { ageRows, expectedDocument, JOB_DEFAULTS, loadDocument, logRows, sameDocument } from './support.ts';

const { maxRowsPerCompaction: maxRows } = JOB_DEFAULTS.compaction;

const STEPS: CompactionStep[] = ['locked', 'selected', 'built', 'inserted', 'quarantined'];

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

  it('merges the live rows into one compacted row that covers exactly those rows', async () => {
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

  it('quarantines a row that does not decode and that the new row covers, and leaves one after the merged rows live', async () => {
    const updates = typingUpdates(10);
    const garbage = new Uint8Array([0xff, 0x13, 0x37, 0x00, 0x01]);
    const sceneId = await sceneWith([...updates.slice(0, 5), garbage, ...updates.slice(5), garbage]);
    const sql = db().database.sql;
    const result = await compactScene(sql, sceneId, { maxRows });
    expect(result).toMatchObject({ status: 'compacted', mergedRows: 10, undecodable: 2, quarantined: 1, seq: 11n });
    const live = (await logRows(sql, sceneId)).filter((row) => row.compactedBy === null);
    expect(live.map((row) => [row.seq, row.isCompacted])).toEqual([
      [11n, true],
      [12n, false],
    ]);
    const quarantined = await sql.query<{ seq: string; reason: string }>('test_quarantined', 'SELECT seq::text AS seq, reason FROM quarantined_updates WHERE scene_id = $1::uuid', [sceneId]);
    expect(quarantined.map((row) => row.seq)).toEqual(['6']);
    expect(quarantined[0]!.reason).toMatch(/^found by compaction: /);
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

  it('writes one row and touches none of the rows it merges', async () => {
    const updates = typingUpdates(1200);
    const sceneId = await sceneWith(updates);
    const sql = db().database.sql;
    const tuples = (query: string) =>
      sql.query<{ version_id: string; tuple: string }>(query, 'SELECT version_id, ctid::text AS tuple FROM scene_versions WHERE scene_id = $1::uuid ORDER BY version_id', [sceneId]);
    const before = await tuples('test_tuples_before');
    const result = await compactScene(sql, sceneId, { maxRows });
    expect(result).toMatchObject({ status: 'compacted', mergedRows: updates.length });
    const after = await tuples('test_tuples_after');
    // Same physical tuples: an UPDATE of a merged row would have moved it.
    expect(after.filter((row) => row.version_id !== (result as { versionId: string }).versionId)).toEqual(before);
    expect(after).toHaveLength(before.length + 1);
    expect(sameDocument((await loadDocument(sql, sceneId)).doc, expectedDocument(updates))).toBe(true);
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
  it('fails instead of covering a row it did not merge', async () => {
      const updates = typingUpdates(40);
      const sceneId = await sceneWith(updates);
      const sql = db().database.sql;
      const before = await logRows(sql, sceneId);
      // A writer that ignores the log's locks slips a row below the seq the compaction will cover.
      const sneak = async (step: CompactionStep) => {
        if (step !== 'inserted') return;
        await sql.query('test_sneak_row', `INSERT INTO scene_versions (scene_id, seq, yjs_update, is_compacted) VALUES ($1::uuid, 5, '\\x00'::bytea, true)`, [sceneId]);
      };
      await expect(compactScene(sql, sceneId, { maxRows, onStep: sneak })).rejects.toMatchObject({ code: 'COMPACTION_CONFLICT' });
      await sql.query('test_remove_sneaked_row', 'DELETE FROM scene_versions WHERE scene_id = $1::uuid AND is_compacted', [sceneId]);
      expect(await logRows(sql, sceneId)).toEqual(before);
    });

    it('makes a quarantine wait until the compaction has committed', async () => {
      const updates = typingUpdates(30);
      const sceneId = await sceneWith(updates);
      const sql = db().database.sql;
      const victim = (await logRows(sql, sceneId))[3]!;
      const order: string[] = [];
      let quarantine: Promise<boolean> | undefined;
      const result = await compactScene(sql, sceneId, {
        maxRows,
        onStep: async (step) => {
          if (step !== 'selected') return;
          quarantine = new SceneLog(sql).quarantine(sceneId, victim.versionId, 'test').then((moved) => {
            order.push('quarantined');
            return moved;
          });
          // Until it waits for the lock: without one it would finish instead (and this compaction
          // would fail, a row it merged gone).
          for (;;) {
            if (order.length > 0) return;
            const [waiting] = await sql.query<{ n: number }>('test_advisory_waiters', "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND wait_event = 'advisory'", []);
            if (waiting!.n > 0) return;
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
        },
      });
      order.push('compacted');
      expect(result).toMatchObject({ status: 'compacted', mergedRows: 30 });
      expect(await quarantine).toBe(true);
      expect(order).toEqual(['compacted', 'quarantined']);
      // The row it moved was covered by then: the scene loads as before.
      expect(sameDocument((await loadDocument(sql, sceneId)).doc, expectedDocument(updates))).toBe(true);
    });

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
