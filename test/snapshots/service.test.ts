import { beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { applyRestBlocksToYDoc, checksumBlocks } from '../../src/screenplay/index.ts';
import { missingSeqs, StateNotRetainedError } from '../../src/log/history.ts';
import { deriveAt, deriveFromLiveDocument, deriveFromLog, liveDocumentPosition } from '../../src/scenes/sceneState.ts';
import { SceneNotFoundError } from '../../src/errors.ts';
import { SnapshotConversionError, SnapshotService } from '../../src/restCopy/snapshots.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { canonical } from '../helpers/documents.ts';

const V = [
  [{ type: 'scene_heading', text: 'INT. LAB - NIGHT' }],
  [{ type: 'scene_heading', text: 'INT. LAB - NIGHT' }, { type: 'action', text: 'Beakers.' }],
  [{ type: 'scene_heading', text: 'INT. LAB - NIGHT' }, { type: 'action', text: 'Beakers bubble.' }],
  [{ type: 'scene_heading', text: 'INT. LAB - NIGHT' }, { type: 'action', text: 'Beakers bubble.' }, { type: 'transition', text: 'CUT TO:' }],
];

describe('pure helpers', () => {
  it.each([
    [[], null],
    [[false, false], null],
    [[true], 0],
    [[true, true, true], 0],
    [[false, true, true], 1],
    [[false, false, true], 2],
    [[true, false, true], null],
    [[false, true, false], null],
  ] as Array<[boolean[], number | null]>)('liveDocumentPosition(%o) = %s', (contained, position) => {
    expect(liveDocumentPosition(contained)).toBe(position);
  });

  it.each([
    [0n, [], [], []],
    [3n, [1n, 2n, 3n], [], []],
    [4n, [1n, 2n, 4n], [], [3n]],
    [4n, [1n, 2n, 4n], [3n], []],
    [5n, [5n], [2n], [1n, 3n, 4n]],
  ] as Array<[bigint, bigint[], bigint[], bigint[]]>)('missingSeqs(%s, %o, quarantined %o) = %o', (upTo, present, quarantined, missing) => {
    expect(missingSeqs(upTo, new Set(present), new Set(quarantined))).toEqual(missing);
  });
});

describeEachDatabase('snapshot service', (db) => {
  let log: SceneLog;
  let metrics: Metrics;
  let service: SnapshotService;

  beforeAll(() => {
    log = new SceneLog(db().database.sql);
    metrics = createMetrics({ defaultMetrics: false });
    service = new SnapshotService({ prisma: db().prisma, sceneLog: log, metrics, logger: silentLogger(), intervalMs: 5 * 60_000 });
  });

  /** Appends one update per version (each the minimal change from the previous); returns the editing document. */
  const appendVersions = async (sceneId: string, versions: unknown[][], doc = new Y.Doc()) => {
    for (const blocks of versions) {
      const { update } = applyRestBlocksToYDoc(doc, blocks);
      if (update) {
        const [appended] = await log.append([{ sceneId, update, createdBy: null }]);
        if (appended instanceof Error) throw appended;
      }
    }
    return doc;
  };
  const newScene = async (contentBlocks: unknown[] = []) => (await createScript(db().prisma, { scenes: 1, contentBlocks })).sceneIds[0]!;

  it('derives the REST copy and its metadata from the log', async () => {
    const sceneId = await newScene([{ type: 'action', text: 'old REST text' }]);
    await appendVersions(sceneId, V.slice(0, 3));
    const outcome = await service.snapshotScene(sceneId, { trigger: 'yjs' });
    expect(outcome.status).toBe('written');
    if (outcome.status !== 'written') return;
    expect(outcome).toMatchObject({ seq: 3n, updateCount: 3, checksum: checksumBlocks(V[2]) });

    const scene = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } });
    expect(canonical(scene.contentBlocks)).toBe(canonical(V[2]));
    expect(scene).toMatchObject({ snapshotSource: 'yjs', yjsDerived: true, yjsChecksum: checksumBlocks(V[2]), snapshotSeq: 3n });
    const row = await db().prisma.sceneSnapshotMetadata.findUniqueOrThrow({ where: { snapshotId: outcome.snapshotId } });
    expect(row).toMatchObject({ snapshotSource: 'yjs', yjsVersionCount: 3, yjsLatestSeq: 3n });
    expect(row.yjsLatestVersionId).toBe(outcome.latestVersionId);
    expect(row.snapshotSizeBytes).toBe(Buffer.byteLength(JSON.stringify(outcome.blocks)));
    expect(row.createdAt.getTime()).toBe(scene.snapshotAt!.getTime());
  });

  it('says so for a scene without a log and refuses an unknown one', async () => {
    const sceneId = await newScene([{ type: 'action', text: 'REST only' }]);
    expect(await service.snapshotScene(sceneId)).toEqual({ status: 'no_versions', sceneId });
    await expect(service.snapshotScene('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(SceneNotFoundError);
  });

  it('leaves the REST copy alone when the Yjs state cannot be converted', async () => {
    const sceneId = await newScene([{ type: 'action', text: 'keep me' }]);
    const doc = new Y.Doc();
    doc.getXmlFragment('default').insert(0, [new Y.XmlElement('legacyWidget')]);
    await log.append([{ sceneId, update: Y.encodeStateAsUpdate(doc), createdBy: null }]);
    await expect(service.snapshotScene(sceneId)).rejects.toBeInstanceOf(SnapshotConversionError);
    const scene = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } });
    expect(scene.contentBlocks).toEqual([{ type: 'action', text: 'keep me' }]);
    expect(scene.snapshotSeq).toBeNull();
  });

  it('never lets an older snapshot replace a newer one, whichever writer finishes first', async () => {
    for (const order of ['old-first', 'new-first', 'together'] as const) {
      const sceneId = await newScene();
      await appendVersions(sceneId, V.slice(0, 2));
      const older = (await deriveFromLog(log, sceneId))!;
      const doc = new Y.Doc();
      Y.applyUpdate(doc, replayUpdates(await log.load(sceneId)).state);
      await appendVersions(sceneId, [V[2]!], doc);
      const newer = (await deriveFromLog(log, sceneId))!;
      expect([older.seq, newer.seq]).toEqual([2n, 3n]);

      let outcomes;
      if (order === 'old-first') outcomes = [await service.writeSnapshot(sceneId, older), await service.writeSnapshot(sceneId, newer)];
      else if (order === 'new-first') outcomes = [await service.writeSnapshot(sceneId, newer), await service.writeSnapshot(sceneId, older)];
      else outcomes = await Promise.all([service.writeSnapshot(sceneId, older), service.writeSnapshot(sceneId, newer)]);

      const scene = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } });
      expect(scene.snapshotSeq, order).toBe(3n);
      expect(canonical(scene.contentBlocks), order).toBe(canonical(V[2]));
      const metadata = await db().prisma.sceneSnapshotMetadata.findMany({ where: { sceneId } });
      // A superseded write leaves no metadata row behind.
      expect(metadata.length, order).toBe(outcomes.filter((o) => o.status === 'written').length);
      if (order === 'new-first') expect(outcomes[1]).toMatchObject({ status: 'superseded', seq: 2n, currentSeq: 3n });
    }
  });

  it('keeps the copy monotonic while many writers race appends', async () => {
    const sceneId = await newScene();
    const doc = await appendVersions(sceneId, [V[0]!]);
    const observed: bigint[] = [];
    // One read at a time: overlapping reads on several pool connections can complete out of order,
    // and would record an older value after a newer one that the copy itself never went back to.
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const row = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId }, select: { snapshotSeq: true } });
        if (row.snapshotSeq !== null) observed.push(row.snapshotSeq);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const writers = Array.from({ length: 8 }, async () => {
      for (let i = 0; i < 5; i += 1) await service.snapshotScene(sceneId);
    });
    for (let i = 0; i < 20; i += 1) {
      await appendVersions(sceneId, [[...V[0]!, { type: 'action', text: `line ${'x'.repeat(i + 1)}` }]], doc);
    }
    await Promise.all(writers);
    polling = false;
    await poll;
    await service.snapshotScene(sceneId);

    const scene = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } });
    expect(scene.snapshotSeq).toBe(21n);
    expect(canonical(scene.contentBlocks)).toBe(canonical([...V[0]!, { type: 'action', text: `line ${'x'.repeat(20)}` }]));
    for (let i = 1; i < observed.length; i += 1) expect(observed[i]! >= observed[i - 1]!, `read ${i}: ${observed[i]} after ${observed[i - 1]}`).toBe(true);
    const seqs = (await db().prisma.sceneSnapshotMetadata.findMany({ where: { sceneId } })).map((row) => row.yjsLatestSeq!);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('rewrites a copy at the same seq only when asked (repair)', async () => {
    const sceneId = await newScene();
    await appendVersions(sceneId, V.slice(0, 2));
    await service.snapshotScene(sceneId);
    await db().prisma.scene.update({ where: { sceneId }, data: { contentBlocks: [{ type: 'action', text: 'tampered' }] } });
    expect((await service.snapshotScene(sceneId)).status).toBe('superseded');
    expect((await service.snapshotScene(sceneId, { allowSameSeq: true })).status).toBe('written');
    expect(canonical((await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } })).contentBlocks)).toBe(canonical(V[1]));
  });

  it('lists the scenes the background job must snapshot and measures the lag', async () => {
    const [behind, current, restOnly, oldButCurrent] = await Promise.all([newScene(), newScene(), newScene([{ type: 'action', text: 'r' }]), newScene()]);
    await appendVersions(behind, [V[0]!]);
    await appendVersions(current, [V[0]!]);
    await appendVersions(oldButCurrent, [V[0]!]);
    await service.snapshotScene(current);
    await service.snapshotScene(oldButCurrent);
    await db().prisma.scene.update({ where: { sceneId: oldButCurrent }, data: { snapshotAt: new Date(Date.now() - 3_600_000) } });

    const due = (await service.scenesNeedingSnapshot(new Date(Date.now() + 1000), 1000)).map((scene) => scene.sceneId);
    expect(due).toContain(behind);
    expect(due).not.toContain(current);
    expect(due).not.toContain(restOnly);
    expect(due).not.toContain(oldButCurrent);
    // Behind, but its snapshot is younger than the threshold: not due yet.
    expect((await service.scenesNeedingSnapshot(new Date(Date.now() - 3_600_000), 1000)).map((scene) => scene.sceneId)).not.toContain(current);
    const stats = await service.lagStats();
    expect(stats.scenesBehind).toBeGreaterThanOrEqual(1);
    expect(stats.neverSnapshotted).toBeGreaterThanOrEqual(1);
    expect((await metrics.snapshotLagMinutes.get()).values[0]!.value).toBe(stats.oldestLagMinutes);
  });

  it('reads a live document only when it is exactly the log at some seq', async () => {
    const sceneId = await newScene();
    const editing = await appendVersions(sceneId, V.slice(0, 2));
    // A document that holds rows 1-2 while the log moves on to 3: exact at seq 2.
    const atTwo = new Y.Doc();
    Y.applyUpdate(atTwo, Y.encodeStateAsUpdate(editing));
    await appendVersions(sceneId, [V[2]!], editing);
    const live = await deriveFromLiveDocument(log, sceneId, atTwo);
    expect(live?.seq).toBe(2n);
    expect(canonical(live?.blocks)).toBe(canonical(V[1]));

    // A document missing row 2 but holding row 3 lags: never read.
    const rows = await log.load(sceneId);
    const lagging = new Y.Doc();
    Y.applyUpdate(lagging, rows[0]!.update);
    Y.applyUpdate(lagging, rows[2]!.update);
    expect(await deriveFromLiveDocument(log, sceneId, lagging)).toBeNull();
  });

  it('rebuilds older states from retained originals, and says when retention took them', async () => {
    const sceneId = await newScene();
    const t0 = new Date();
    await appendVersions(sceneId, V);
    const rows = await log.load(sceneId);
    // Compaction of rows 1-3 by hand: a compacted row at seq 3, the originals marked.
    const merged = replayUpdates(rows.slice(0, 3)).state;
    const compacted = await db().prisma.sceneVersion.create({ data: { sceneId, seq: 3n, yjsUpdate: new Uint8Array(merged), isCompacted: true, compactedCount: 3 } });
    await db().prisma.sceneVersion.updateMany({ where: { sceneId, seq: { lte: 3n }, isCompacted: false }, data: { compactedBy: compacted.versionId } });

    const atTwo = await deriveAt(log, sceneId, rows[1]!.createdAt);
    expect(atTwo.complete).toBe(true);
    const base = new Y.Doc();
    Y.applyUpdate(base, await log.history.stateAtSeq(sceneId, 2n));
    expect(base.getXmlFragment('default').length).toBe(2);

    // Retention deletes the originals: history before the compacted row is gone.
    await db().prisma.sceneVersion.deleteMany({ where: { sceneId, compactedBy: compacted.versionId } });
    expect((await deriveAt(log, sceneId, rows[1]!.createdAt)).complete).toBe(false);
    await expect(log.history.stateAtSeq(sceneId, 2n)).rejects.toBeInstanceOf(StateNotRetainedError);
    // The current state still rebuilds from the compacted row and its tail.
    const now = await deriveFromLog(log, sceneId);
    expect(canonical(now!.blocks)).toBe(canonical(V[3]));
    expect(now!.updateCount).toBe(4);
    // Before the first retained edit is unknown once retention removed the beginning of history.
    expect((await deriveAt(log, sceneId, new Date(t0.getTime() - 60_000))).complete).toBe(false);
  });
});
