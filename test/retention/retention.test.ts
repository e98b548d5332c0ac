import { expect, it } from 'vitest';
import { compactScene } from '../../src/log/compaction.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { purgeMergedRows, runRetentionPass } from '../../src/log/retention.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { Typist } from '../helpers/typing.ts';
import { ageRows, expectedDocument, JOB_DEFAULTS, loadDocument, logRows, sameDocument } from '../compaction/support.ts';

const DAY = 24 * 60 * 60 * 1000;

describeEachDatabase('retention', (db) => {
  async function compactedScene(rounds: number, perRound = 10): Promise<{ sceneId: string; updates: Uint8Array[] }> {
    const { sceneIds } = await createScript(db().prisma);
    const sceneId = sceneIds[0]!;
    const sql = db().database.sql;
    const log = new SceneLog(sql);
    const typist = new Typist();
    const updates: Uint8Array[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const batch = Array.from({ length: perRound }, (_, i) => typist.type(String(i)));
      await log.append(batch.map((update) => ({ sceneId, update, createdBy: null })));
      updates.push(...batch);
      await compactScene(sql, sceneId, { maxRows: JOB_DEFAULTS.compaction.maxRowsPerCompaction });
    }
    return { sceneId, updates };
  }

  it('deletes merged rows older than the cutoff, in batches, and never a live row', async () => {
    const sql = db().database.sql;
    const { sceneId, updates } = await compactedScene(3);
    // Three rounds: 30 originals and two compacted rows merged into the third (live) one.
    expect((await logRows(sql, sceneId)).length).toBe(33);
    await ageRows(sql, sceneId, 31 * DAY);
    const live = (await logRows(sql, sceneId)).filter((row) => row.compactedBy === null);

    const result = await purgeMergedRows(sql, sceneId, { cutoff: new Date(Date.now() - 30 * DAY), batchSize: 4 });
    expect(result).toMatchObject({ deletedRows: 32, busy: false });
    expect(result.deletedBytes).toBeGreaterThan(0);
    expect(await logRows(sql, sceneId)).toEqual(live);
    expect(sameDocument((await loadDocument(sql, sceneId)).doc, expectedDocument(updates))).toBe(true);
  });

  it('keeps merged rows younger than the cutoff', async () => {
    const sql = db().database.sql;
    const { sceneId } = await compactedScene(2);
    const before = await logRows(sql, sceneId);
    expect(await purgeMergedRows(sql, sceneId, { cutoff: new Date(Date.now() - 30 * DAY), batchSize: JOB_DEFAULTS.retention.batchSize })).toMatchObject({ deletedRows: 0 });
    expect(await logRows(sql, sceneId)).toEqual(before);
  });

  it('deletes a merged compacted row only after the rows it merged', async () => {
    const sql = db().database.sql;
    const { sceneId } = await compactedScene(2);
    const rows = await logRows(sql, sceneId);
    const olderCompacted = rows.find((row) => row.isCompacted && row.compactedBy !== null)!;
    // The older compacted row is past the cutoff but one row it merged is not (its clock ran a
    // little behind): deleting the compacted row first would make that row live again.
    await ageRows(sql, sceneId, 31 * DAY);
    const young = rows.find((row) => row.compactedBy === olderCompacted.versionId)!;
    await sql.query('test_make_young', 'UPDATE scene_versions SET created_at = now() WHERE version_id = $1::uuid', [young.versionId]);

    const result = await purgeMergedRows(sql, sceneId, { cutoff: new Date(Date.now() - 30 * DAY), batchSize: 1 });
    const after = await logRows(sql, sceneId);
    expect(result.deletedRows).toBe(rows.length - 3);
    expect(after.map((row) => row.versionId).sort()).toEqual(
      [olderCompacted.versionId, young.versionId, rows.find((row) => row.compactedBy === null)!.versionId].sort(),
    );
    expect(after.find((row) => row.versionId === young.versionId)!.compactedBy).toBe(olderCompacted.versionId);
  });

  it('runs one pass over every scene with expired merged rows and counts what it deleted', async () => {
    const sql = db().database.sql;
    const expired = await Promise.all([compactedScene(2), compactedScene(1)]);
    const fresh = await compactedScene(2);
    for (const { sceneId } of expired) await ageRows(sql, sceneId, 40 * DAY);
    const metrics = createMetrics({ defaultMetrics: false });
    const progress: string[] = [];

    const summary = await runRetentionPass({ sql, logger: silentLogger(), metrics, retentionMs: JOB_DEFAULTS.retention.retentionMs, batchSize: JOB_DEFAULTS.retention.batchSize, onProgress: ({ sceneId }) => progress.push(sceneId) });
    expect(summary).toMatchObject({ scenesPurged: 2, deletedRows: 21 + 10, scenesFailed: 0, aborted: false });
    expect(progress).toEqual(expect.arrayContaining(expired.map((s) => s.sceneId)));
    expect(progress).not.toContain(fresh.sceneId);
    expect((await metrics.retentionRowsDeleted.get()).values[0]!.value).toBe(31);
    expect((await logRows(sql, fresh.sceneId)).length).toBe(22);
    for (const { sceneId, updates } of [...expired, fresh]) {
      expect(sameDocument((await loadDocument(sql, sceneId)).doc, expectedDocument(updates))).toBe(true);
    }
  });
});
