import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as Y from 'yjs';
import { InterchangeParseError } from '../../src/interchange/errors.ts';
import { compactScene } from '../../src/log/compaction.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { DivergenceDetector } from '../../src/restCopy/divergenceDetector.ts';
import { SnapshotConversionError, SnapshotService } from '../../src/restCopy/snapshots.ts';
import { deriveAt } from '../../src/scenes/sceneState.ts';
import { ScreenplayConversionError, yDocToRestBlocks } from '../../src/screenplay/index.ts';
import { inlineYjsWork, YjsWorkerPool, type YjsWork } from '../../src/workers/pool.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { storeRows, typedParagraphs, unconvertibleState, updateWithMissingDependency } from './support.ts';

/**
 * Every operation moved into the worker pool gives what the same operation gives on this thread:
 * the same bytes where the result is deterministic (states, compacted rows, blocks, reports), the
 * same content where it is not (a PATCH's update carries the scratch document's random client id).
 */
describeEachDatabase('Yjs work through the worker pool and on this thread', (db) => {
  let pool: YjsWorkerPool;
  const updates = [...typedParagraphs(600), new Uint8Array([0, 1, 2, 3, 4]), updateWithMissingDependency(), ...typedParagraphs(5)];

  beforeAll(() => {
    pool = new YjsWorkerPool({ threads: 1, logger: silentLogger() });
  });
  afterAll(async () => {
    await pool.close();
  });

  /** Scenes of one script, each holding the same log. */
  async function scenesWithTheSameLog(count: number): Promise<{ sceneIds: string[]; scriptId: string }> {
    const { sceneIds, scriptId } = await createScript(db().prisma, { scenes: count });
    for (const sceneId of sceneIds) await storeRows(db().database.sql, sceneId, updates);
    return { sceneIds, scriptId };
  }

  const services = (work: YjsWork) => {
    const sceneLog = new SceneLog(db().database.sql, { replayer: work });
    const metrics = createMetrics({ defaultMetrics: false });
    const snapshots = new SnapshotService({ prisma: db().prisma, sceneLog, metrics, logger: silentLogger(), intervalMs: 60_000, work });
    const divergence = new DivergenceDetector({ prisma: db().prisma, sceneLog, snapshots, metrics, logger: silentLogger(), work });
    return { sceneLog, snapshots, divergence };
  };

  it('replays rows to the same state, the same undecodable rows and the same gap', async () => {
    const { sceneIds } = await scenesWithTheSameLog(1);
    const rows = await new SceneLog(db().database.sql).load(sceneIds[0]!);
    const here = await inlineYjsWork.replay(rows);
    const there = await pool.replay(rows);
    expect(Buffer.from(there.state).equals(Buffer.from(here.state))).toBe(true);
    expect(there).toEqual(here);
    expect(here.undecodable).toHaveLength(1);
    expect(here.hasGap).toBe(true);
    // The rows' own buffers are still whole: only the packed copy was moved to the thread.
    expect(rows.every((row) => row.update.byteLength > 0)).toBe(true);
    expect(pool.workerThreads()).toHaveLength(1);
  });

  it('compacts to byte-identical rows and leaves the same rows live', async () => {
    const { sceneIds } = await scenesWithTheSameLog(2);
    const [here, there] = sceneIds as [string, string];
    const sql = db().database.sql;
    const byInline = await compactScene(sql, here, { maxRows: 10_000, replayer: inlineYjsWork });
    const byPool = await compactScene(sql, there, { maxRows: 10_000, replayer: pool });
    expect(byPool).toMatchObject({ status: 'compacted', mergedRows: updates.length - 1, undecodable: 1, hasGap: true });
    const strip = (result: typeof byInline) => ({ ...result, sceneId: undefined, versionId: undefined });
    expect(strip(byPool)).toEqual(strip(byInline));
    const live = async (sceneId: string) => (await new SceneLog(sql).load(sceneId)).map((row) => [row.seq, row.isCompacted, Buffer.from(row.update).toString('base64')]);
    expect(await live(there)).toEqual(await live(here));
  });

  it('derives the same snapshots, divergence reports and history', async () => {
    const { sceneIds } = await scenesWithTheSameLog(2);
    const [here, there] = sceneIds as [string, string];
    const inline = services(inlineYjsWork);
    const pooled = services(pool);

    const reportBefore = { here: await inline.divergence.checkScene(here), there: await pooled.divergence.checkScene(there) };
    const sameReport = (a: typeof reportBefore.here, b: typeof reportBefore.here) =>
      expect({ ...b, scene_id: a.scene_id, checked_at: a.checked_at }).toEqual(a);
    sameReport(reportBefore.here, reportBefore.there);
    expect(reportBefore.here.cause).toBe('snapshot_lag');

    const snapHere = await inline.snapshots.snapshotScene(here);
    const snapThere = await pooled.snapshots.snapshotScene(there);
    expect(snapHere.status).toBe('written');
    if (snapHere.status !== 'written' || snapThere.status !== 'written') throw new Error('both snapshots are written');
    expect(snapThere.blocks).toEqual(snapHere.blocks);
    expect(snapThere.checksum).toBe(snapHere.checksum);
    expect(snapHere.blocks.length).toBeGreaterThan(10);
    sameReport(await inline.divergence.checkScene(here), await pooled.divergence.checkScene(there));

    const at = new Date();
    const pastHere = await inline.sceneLog.history.stateAt(here, at);
    const pastThere = await pooled.sceneLog.history.stateAt(there, at);
    expect(Buffer.from(pastThere.state!).equals(Buffer.from(pastHere.state!))).toBe(true);
    expect({ ...pastThere, state: null }).toEqual({ ...pastHere, state: null });
    expect(await deriveAt(pooled.sceneLog, there, at, pool)).toEqual(await deriveAt(inline.sceneLog, here, at, inlineYjsWork));
    const atSeqHere = await inline.sceneLog.history.stateAtSeq(here, 300n);
    const atSeqThere = await pooled.sceneLog.history.stateAtSeq(there, 300n);
    expect(Buffer.from(atSeqThere).equals(Buffer.from(atSeqHere))).toBe(true);
  });

  it('computes PATCH changes that give the same content, and no change for the same content', async () => {
    const { sceneIds } = await scenesWithTheSameLog(1);
    const base = (await inlineYjsWork.replay(await new SceneLog(db().database.sql).load(sceneIds[0]!))).state;
    const current = await inlineYjsWork.blocksFromState(base);
    const edited = { blocks: [{ type: 'scene_heading', text: 'INT. WORKER THREAD - NIGHT' }, ...current.slice(1)] };
    const applied = (update: Uint8Array | null) => {
      const doc = new Y.Doc();
      Y.applyUpdate(doc, base);
      if (update) Y.applyUpdate(doc, update);
      return yDocToRestBlocks(doc);
    };
    const here = await inlineYjsWork.contentUpdate(base, edited);
    const there = await pool.contentUpdate(base, edited);
    expect(there).not.toBeNull();
    expect(applied(there)).toEqual(applied(here));
    expect(applied(there)[0]).toMatchObject({ type: 'scene_heading', text: 'INT. WORKER THREAD - NIGHT' });
    expect(await pool.contentUpdate(base, { blocks: current })).toBeNull();
    expect(await inlineYjsWork.contentUpdate(base, { blocks: current })).toBeNull();
  });

  it('refuses unconvertible content with the same error class, code and message', async () => {
    const state = unconvertibleState();
    const here = await inlineYjsWork.blocksFromState(state).then(() => null, (error: unknown) => error);
    const there = await pool.blocksFromState(state).then(() => null, (error: unknown) => error);
    expect(here).toBeInstanceOf(ScreenplayConversionError);
    expect(there).toBeInstanceOf(ScreenplayConversionError);
    const fields = (error: unknown) => {
      const e = error as ScreenplayConversionError;
      return { name: e.name, code: e.code, message: e.message, location: e.location };
    };
    expect(fields(there)).toEqual(fields(here));

    // The same refusal reaches the snapshot service, which leaves the REST copy alone.
    const { sceneIds } = await createScript(db().prisma, { scenes: 1 });
    await storeRows(db().database.sql, sceneIds[0]!, [state]);
    const refusal = await services(pool).snapshots.snapshotScene(sceneIds[0]!).then(() => null, (error: unknown) => error);
    expect(refusal).toBeInstanceOf(SnapshotConversionError);
    expect((refusal as SnapshotConversionError).message).toContain((here as ScreenplayConversionError).code);
  });

  it('reads and writes screenplay files as this thread does, and refuses a broken one with the same error and location', async () => {
    const fountain = await readFile(new URL('../interchange/fixtures/night-shift.fountain', import.meta.url));
    const fdx = await readFile(new URL('../interchange/fixtures/night-shift.fdx', import.meta.url));
    for (const [bytes, format] of [[fountain, 'fountain'], [fdx, 'fdx']] as const) {
      const here = await inlineYjsWork.parseScreenplay(bytes, format);
      const there = await pool.parseScreenplay(bytes, format);
      expect(there).toEqual(here);
      for (const out of ['fountain', 'fdx'] as const) expect(await pool.writeScreenplay(there, out, {})).toEqual(await inlineYjsWork.writeScreenplay(here, out, {}));
      const pdf = await pool.writeScreenplay(there, 'pdf', { sceneNumbers: true });
      expect(pdf).toBeInstanceOf(Uint8Array);
      expect(Buffer.from(pdf as Uint8Array).subarray(0, 5).toString('latin1')).toBe('%PDF-');
    }

    const broken = new TextEncoder().encode('<?xml version="1.0"?>\n<FinalDraft>\n  <Content>\n    <Paragraph Type="Action">\n  </Content>\n</FinalDraft>\n');
    const here = await inlineYjsWork.parseScreenplay(broken, 'fdx').then(() => null, (error: unknown) => error);
    const there = await pool.parseScreenplay(broken, 'fdx').then(() => null, (error: unknown) => error);
    expect(here).toBeInstanceOf(InterchangeParseError);
    expect(there).toBeInstanceOf(InterchangeParseError);
    const fields = (error: unknown) => {
      const e = error as InterchangeParseError;
      return { code: e.code, format: e.format, message: e.message, location: e.location };
    };
    expect(fields(there)).toEqual(fields(here));
    expect((there as InterchangeParseError).location.line).toBeGreaterThan(1);
  });
});
