import { beforeAll, expect, it } from 'vitest';
import * as Y from 'yjs';
import { DivergenceDetector, UnsupportedRepairStrategyError, type RepairStrategy } from '../../src/restCopy/divergenceDetector.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { applyRestBlocksToYDoc } from '../../src/screenplay/index.ts';
import { SnapshotService } from '../../src/restCopy/snapshots.ts';
import { SceneNotFoundError } from '../../src/errors.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { canonical } from '../helpers/documents.ts';

const SCENE = [
  { type: 'scene_heading', text: 'EXT. ROOFTOP - NIGHT' },
  { type: 'action', text: 'Wind.' },
  { type: 'character', text: 'LEO' },
  { type: 'dialogue', text: 'Not tonight.' },
];

describeEachDatabase('divergence detector', (db) => {
  let log: SceneLog;
  let metrics: Metrics;
  let snapshots: SnapshotService;
  let detector: DivergenceDetector;

  beforeAll(() => {
    log = new SceneLog(db().database.sql);
    metrics = createMetrics({ defaultMetrics: false });
    snapshots = new SnapshotService({ prisma: db().prisma, sceneLog: log, metrics, logger: silentLogger(), intervalMs: 300_000 });
    detector = new DivergenceDetector({ prisma: db().prisma, sceneLog: log, snapshots, metrics, logger: silentLogger() });
  });

  const sceneWithLog = async (blocks: unknown[] = SCENE) => {
    const sceneId = (await createScript(db().prisma, { scenes: 1 })).sceneIds[0]!;
    const doc = new Y.Doc();
    const { update } = applyRestBlocksToYDoc(doc, blocks);
    await log.append([{ sceneId, update: update!, createdBy: null }]);
    return { sceneId, doc };
  };
  const logRows = (sceneId: string) => db().prisma.sceneVersion.count({ where: { sceneId } });

  it('reports a scene in sync after a snapshot, and lag after a new edit', async () => {
    const { sceneId, doc } = await sceneWithLog();
    await snapshots.snapshotScene(sceneId);
    const inSync = await detector.checkScene(sceneId);
    expect(inSync).toMatchObject({ scene_id: sceneId, diverged: false, cause: 'in_sync', yjs_block_count: 4, rest_block_count: 4, yjs_seq: 1, rest_snapshot_seq: 1, severity: null });
    expect(inSync.yjs_checksum).toBe(inSync.rest_checksum);

    const { update } = applyRestBlocksToYDoc(doc, [...SCENE, { type: 'transition', text: 'FADE OUT.' }]);
    await log.append([{ sceneId, update: update!, createdBy: null }]);
    const lagging = await detector.checkScene(sceneId);
    expect(lagging).toMatchObject({ diverged: true, cause: 'snapshot_lag', severity: 'minor', recommended_action: 'create_snapshot', yjs_seq: 2, rest_snapshot_seq: 1 });
    expect(lagging.diff).toMatchObject({ only_in_yjs: 1, only_in_rest: 0, changed: 0 });
    expect(lagging.diff!.entries[0]).toMatchObject({ op: 'only_in_yjs', yjs_index: 4, yjs: { type: 'transition', text: 'FADE OUT.' } });
  });

  it('reports nothing to compare for a scene without a log', async () => {
    const sceneId = (await createScript(db().prisma, { scenes: 1, contentBlocks: SCENE })).sceneIds[0]!;
    expect(await detector.checkScene(sceneId)).toMatchObject({ diverged: false, cause: 'no_yjs_log', yjs_seq: null, recommended_action: 'none' });
    await expect(detector.checkScene('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(SceneNotFoundError);
  });

  it('repairs a tampered or invalid REST copy from Yjs (PREFER_YJS), never the log from REST', async () => {
    for (const tampered of [[{ type: 'action', text: 'written behind the snapshot' }], { not: 'blocks' }]) {
      const { sceneId } = await sceneWithLog();
      await snapshots.snapshotScene(sceneId);
      await db().prisma.scene.update({ where: { sceneId }, data: { contentBlocks: tampered } });
      const rowsBefore = await logRows(sceneId);

      const repair = await detector.autoRepair(sceneId, 'PREFER_YJS');
      expect(repair.before.diverged).toBe(true);
      expect(['rest_modified', 'invalid_rest']).toContain(repair.before.cause);
      expect(repair.before.severity).toBe('critical');
      expect(repair).toMatchObject({ repaired: true, after: { diverged: false, cause: 'in_sync' }, snapshot: { status: 'written', seq: 1 } });
      expect(canonical((await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } })).contentBlocks)).toBe(canonical(SCENE));
      // The log is the source of truth: the repair did not append anything to it.
      expect(await logRows(sceneId)).toBe(rowsBefore);
    }
  });

  it('does not repair a scene that is in sync, nor one whose Yjs state is unreadable', async () => {
    const { sceneId } = await sceneWithLog();
    await snapshots.snapshotScene(sceneId);
    expect(await detector.autoRepair(sceneId)).toMatchObject({ repaired: false, snapshot: null, before: { cause: 'in_sync' } });

    const broken = (await createScript(db().prisma, { scenes: 1, contentBlocks: SCENE })).sceneIds[0]!;
    const doc = new Y.Doc();
    doc.getXmlFragment('default').insert(0, [new Y.XmlElement('legacyWidget')]);
    await log.append([{ sceneId: broken, update: Y.encodeStateAsUpdate(doc), createdBy: null }]);
    const repair = await detector.autoRepair(broken);
    expect(repair).toMatchObject({ repaired: false, before: { cause: 'yjs_unreadable', recommended_action: 'investigate_yjs_state', severity: 'critical' } });
    expect(repair.before.yjs_error).toMatch(/UNKNOWN_NODE_TYPE|legacyWidget/);
    expect((await db().prisma.scene.findUniqueOrThrow({ where: { sceneId: broken } })).contentBlocks).toEqual(SCENE);
  });

  it('has no strategy that writes REST into the log', async () => {
    const { sceneId } = await sceneWithLog();
    await expect(detector.autoRepair(sceneId, 'PREFER_REST' as RepairStrategy)).rejects.toBeInstanceOf(UnsupportedRepairStrategyError);
  });

  it('sweeps scenes in turn and publishes the divergence rate', async () => {
    const fresh = await createMetrics({ defaultMetrics: false });
    const own = new DivergenceDetector({ prisma: db().prisma, sceneLog: log, snapshots, metrics: fresh, logger: silentLogger(), sweepLimit: 1000 });
    const all = await own.sweep();
    expect(all.scenes_checked).toBeGreaterThan(0);
    expect(all.scenes_failed).toBe(0);
    const rate = (await fresh.divergenceRate.get()).values[0]!.value;
    expect(rate).toBeCloseTo(all.divergence_rate * 100, 8);
    expect(own.lastSweep()).toBe(all);
    // Cached while young; shared while running.
    expect(await own.currentStatus(60_000)).toBe(all);
    const [a, b] = await Promise.all([own.currentStatus(0), own.currentStatus(0)]);
    expect(a).toBe(b);

    // A bounded sweep continues where the last one stopped and wraps around.
    const small = new DivergenceDetector({ prisma: db().prisma, sceneLog: log, snapshots, metrics: fresh, logger: silentLogger(), sweepLimit: 2 });
    const seen = new Set<string>();
    for (let i = 0; i < Math.ceil(all.scenes_checked / 2) + 1; i += 1) {
      const sweep = await small.sweep();
      expect(sweep.scenes_checked).toBe(Math.min(2, all.scenes_checked));
      for (const scene of sweep.diverged) seen.add(scene.scene_id);
    }
    for (const scene of all.diverged) expect(seen.has(scene.scene_id)).toBe(true);
  });
});
