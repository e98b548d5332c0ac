import { describe, expect, it } from 'vitest';
import {
  compactionTrigger,
  runCompactionPass,
  type CompactionThresholds,
  type CompactionTrigger,
} from '../../src/log/compactionPass.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { typingUpdates } from '../helpers/typing.ts';
import { ageRows, expectedDocument, JOB_DEFAULTS, loadDocument, logRows, sameDocument } from './support.ts';

const HOUR = 60 * 60 * 1000;

describe('compactionTrigger', () => {
  const t = JOB_DEFAULTS.compaction;
  const table: Array<[string, { liveRows: number; oldUpdates: number }, CompactionTrigger | null]> = [
    ['an empty scene', { liveRows: 0, oldUpdates: 0 }, null],
    ['a compacted scene with a short tail', { liveRows: 40, oldUpdates: 0 }, null],
    ['99 old updates (architecture 4.6: at least 100)', { liveRows: 99, oldUpdates: 99 }, null],
    ['100 old updates', { liveRows: 100, oldUpdates: 100 }, 'age'],
    ['many recent updates below the hot threshold', { liveRows: 999, oldUpdates: 10 }, null],
    ['a hot scene, whatever the age', { liveRows: 1000, oldUpdates: 0 }, 'hot'],
    ['hot and old: hot merges everything', { liveRows: 1000, oldUpdates: 100 }, 'hot'],
  ];
  it.each(table)('%s', (_name, shape, expected) => {
    expect(compactionTrigger(shape, t)).toBe(expected);
  });
  it('never merges a single row, whatever the thresholds', () => {
    expect(compactionTrigger({ liveRows: 1, oldUpdates: 1 }, { ...t, minUpdates: 1, hotLiveRows: 1 })).toBeNull();
  });
});

describeEachDatabase('runCompactionPass', (db) => {
  it('compacts hot scenes entirely and old scenes up to the age bound, and leaves the rest', async () => {
    const sql = db().database.sql;
    const log = new SceneLog(sql);
    const { sceneIds } = await createScript(db().prisma, { scenes: 4 });
    const [hot, old, young, small] = sceneIds as [string, string, string, string];
    const thresholds: CompactionThresholds = { minUpdates: 20, minAgeMs: HOUR, hotLiveRows: 60, maxRowsPerCompaction: 25 };
    const updates = new Map<string, Uint8Array[]>([
      [hot, typingUpdates(70)],
      [old, typingUpdates(30)],
      [young, typingUpdates(50)],
      [small, typingUpdates(10)],
    ]);
    for (const [sceneId, list] of updates) await log.append(list.map((update) => ({ sceneId, update, createdBy: null })));
    await ageRows(sql, old, 2 * HOUR);
    await ageRows(sql, small, 2 * HOUR);
    // Recent rows of the old scene stay live: the age trigger merges only updates past the bound.
    const recent = typingUpdates(5, 'z');
    await log.append(recent.map((update) => ({ sceneId: old, update, createdBy: null })));

    const metrics = createMetrics({ defaultMetrics: false });
    const seen: string[] = [];
    const summary = await runCompactionPass({ sql, logger: silentLogger(), thresholds, metrics, onProgress: ({ sceneId }) => seen.push(sceneId) });

    expect(seen.sort()).toEqual([hot, old].sort());
    // Hot: 70 rows in steps of 25 (25, then 1 + 24, then 1 + 21); old: 30 in steps of 25.
    expect(summary).toMatchObject({ scenesCompacted: 2, compactions: 5, rowsMerged: 25 + 25 + 22 + 25 + 6, scenesFailed: 0, scenesBusy: 0 });
    expect(summary.bytesAfter).toBeLessThan(summary.bytesBefore);
    const live = async (sceneId: string) => (await logRows(sql, sceneId)).filter((row) => row.compactedBy === null);
    expect((await live(hot)).map((row) => row.seq)).toEqual([70n]);
    expect((await live(old)).map((row) => row.seq)).toEqual([30n, 31n, 32n, 33n, 34n, 35n]);
    expect(await live(young)).toHaveLength(50);
    expect(await live(small)).toHaveLength(10);
    expect(sameDocument((await loadDocument(sql, hot)).doc, expectedDocument(updates.get(hot)!))).toBe(true);
    expect(sameDocument((await loadDocument(sql, old)).doc, expectedDocument([...updates.get(old)!, ...recent]))).toBe(true);
    const counted = await metrics.compactions.get();
    expect(counted.values.find((v) => v.labels.result === 'compacted')?.value).toBe(5);

    // A second pass finds nothing left to do.
    const again = await runCompactionPass({ sql, logger: silentLogger(), thresholds });
    expect(again).toMatchObject({ compactions: 0, scenesCompacted: 0 });
  });

  it('stops between scenes when asked to (shutdown)', async () => {
    const sql = db().database.sql;
    const { sceneIds } = await createScript(db().prisma);
    await new SceneLog(sql).append(typingUpdates(5).map((update) => ({ sceneId: sceneIds[0]!, update, createdBy: null })));
    const controller = new AbortController();
    controller.abort();
    const summary = await runCompactionPass({
      sql,
      logger: silentLogger(),
      thresholds: { ...JOB_DEFAULTS.compaction, hotLiveRows: 2 },
      signal: controller.signal,
    });
    expect(summary.aborted).toBe(true);
    expect(summary.compactions).toBe(0);
  });
});
