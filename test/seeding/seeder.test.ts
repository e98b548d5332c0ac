import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import * as Y from 'yjs';
import { SceneSeeder, type SeedResult } from '../../src/restCopy/seeding.ts';
import { createDatabase } from '../../src/db/client.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { checksumBlocks, encodeRestBlocksAsUpdate, seedClientIdFor } from '../../src/screenplay/index.ts';
import { canonicalBlocksJSON } from '../../src/screenplay/restBlocks.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { blocksOf, canonical } from '../helpers/documents.ts';
import { deleteAllUpdate, deleteOnlyUpdate, OTHER_BLOCKS, otherRootUpdate, SCENE_BLOCKS } from './support.ts';

const LOAD = { corruptionPolicy: 'log', replayExistingLog: true } as const;

describeEachDatabase('SceneSeeder.seedIfEmpty', (db, kind) => {
  const setup = async (contentBlocks: unknown = SCENE_BLOCKS) => {
    const { prisma } = db();
    const fixture = await createScript(prisma, { contentBlocks: contentBlocks as unknown[] });
    const sceneLog = new SceneLog(db().database.sql);
    return { sceneId: fixture.sceneIds[0]!, sceneLog, seeder: new SceneSeeder({ prisma, sceneLog }) };
  };
  const replayedBlocks = async (sceneLog: SceneLog, sceneId: string) => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, replayUpdates(await sceneLog.load(sceneId)).state);
    return blocksOf(doc);
  };

  it('seeds an empty scene once, as the system, and marks it migrated', async () => {
    const { sceneId, sceneLog, seeder } = await setup();
    const first = await seeder.seedIfEmpty(sceneId, LOAD);
    expect(first.outcome).toBe('seeded');
    if (first.outcome !== 'seeded') return;
    expect(Buffer.from(first.seed.update).equals(Buffer.from(encodeRestBlocksAsUpdate(SCENE_BLOCKS)))).toBe(true);
    expect(first.seed.version.seq).toBe(1n);

    const rows = await db().prisma.sceneVersion.findMany({ where: { sceneId } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.createdBy).toBeNull();
    const scene = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } });
    expect(scene.yjsSeededAt).not.toBeNull();
    expect(scene.snapshotSource).toBe('migrated');
    expect(scene.yjsDerived).toBe(true);
    expect(scene.snapshotSeq).toBe(1n);
    expect(scene.yjsChecksum).toBe(checksumBlocks(SCENE_BLOCKS));
    expect(await replayedBlocks(sceneLog, sceneId)).toBe(canonical(SCENE_BLOCKS));

    // A reload never seeds again, even though nobody edited.
    const second = await seeder.seedIfEmpty(sceneId, LOAD);
    expect(second).toMatchObject({ outcome: 'log-has-content', storedRows: 1, replayedBlockCount: SCENE_BLOCKS.length });
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(1);
  });

  it('seeds exactly once when ten callers race for the same empty scene', async () => {
    const { sceneId, sceneLog, seeder } = await setup();
    const results = await Promise.all(Array.from({ length: 10 }, () => seeder.seedIfEmpty(sceneId, LOAD)));
    expect(results.filter((r) => r.outcome === 'seeded')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'log-has-content')).toHaveLength(9);
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(1);
    expect(await replayedBlocks(sceneLog, sceneId)).toBe(canonical(SCENE_BLOCKS));
  });

  if (kind === 'postgres') {
    it('seeds exactly once when two connection pools (two instances) race', async () => {
      const { sceneId, seeder } = await setup();
      const other = await createDatabase({ databaseUrl: db().databaseUrl, dataDir: '', poolSize: 4, logger: silentLogger() });
      try {
        const otherSeeder = new SceneSeeder({ prisma: other.prisma, sceneLog: new SceneLog(other.sql) });
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? seeder : otherSeeder).seedIfEmpty(sceneId, LOAD)),
        );
        expect(results.filter((r) => r.outcome === 'seeded')).toHaveLength(1);
        expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(1);
      } finally {
        await other.close();
      }
    });
  }

  it('keeps client appends out while it checks and seeds (they land after the seed)', async () => {
    const { sceneId, sceneLog, seeder } = await setup();
    const typed = new Y.Doc();
    typed.getXmlFragment('default').insert(0, [new Y.XmlElement('paragraph')]);
    const [seeded, appended] = await Promise.all([
      seeder.seedIfEmpty(sceneId, LOAD),
      sceneLog.append([{ sceneId, update: Y.encodeStateAsUpdate(typed), createdBy: null }]),
    ]);
    const seqs = (await sceneLog.load(sceneId)).map((r) => r.seq);
    // Either the seed committed first and the append landed after it, or the append did and the
    // seeder found a log with content; never a seed on top of a log the check thought empty.
    if (seeded.outcome === 'seeded') {
      expect(seeded.seed.version.seq).toBe(1n);
      expect(seqs).toEqual([1n, 2n]);
    } else {
      expect(seeded.outcome).toBe('log-has-content');
      expect(seqs).toEqual([1n]);
    }
    expect(appended).toHaveLength(1);
  });

  it('holds appends back while a transaction holds the head lock', async () => {
    const { sceneId, sceneLog } = await setup();
    let committed = false;
    let append: Promise<unknown> | undefined;
    await db().prisma.$transaction(async (tx) => {
      await sceneLog.withTransaction(tx).lockHead(sceneId);
      append = sceneLog.append([{ sceneId, update: deleteOnlyUpdate(), createdBy: null }]).then(() => (committed = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(committed).toBe(false);
    });
    await append;
    expect(committed).toBe(true);
  });

  it('stores nothing in a dry run', async () => {
    const { sceneId, seeder } = await setup();
    const result = await seeder.seedIfEmpty(sceneId, { ...LOAD, replayExistingLog: false, dryRun: true });
    expect(result).toMatchObject({ outcome: 'would-seed', blockCount: SCENE_BLOCKS.length });
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(0);
    expect((await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } })).yjsSeededAt).toBeNull();
    // Not even the log head row the lock creates: the dry run's transaction is rolled back.
    expect(await db().prisma.sceneLogHead.count({ where: { sceneId } })).toBe(0);
  });

  it('never seeds REST content that fails validation', async () => {
    for (const bad of [{ not: 'an array' }, [{ type: 'action', text: 42 }], [{ type: '', text: 'x' }]]) {
      const { sceneId, seeder } = await setup(bad);
      const result = await seeder.seedIfEmpty(sceneId, LOAD);
      expect(result).toMatchObject({ outcome: 'invalid-rest', corruption: null, problem: { code: 'INVALID_REST_BLOCKS' } });
      expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(0);
      expect((await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } })).yjsSeededAt).toBeNull();
    }
  });

  it('does nothing for an empty REST copy or an unknown scene', async () => {
    const { sceneId, seeder } = await setup([]);
    expect(await seeder.seedIfEmpty(sceneId, LOAD)).toMatchObject({ outcome: 'nothing-to-seed', storedRows: 0 });
    expect(await seeder.seedIfEmpty(randomUUID(), LOAD)).toMatchObject({ outcome: 'scene-not-found' });
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(0);
  });

  it('only counts existing rows when asked not to replay them (migration)', async () => {
    const { sceneId, sceneLog, seeder } = await setup();
    await sceneLog.append([{ sceneId, update: encodeRestBlocksAsUpdate(OTHER_BLOCKS), createdBy: null }]);
    expect(await seeder.seedIfEmpty(sceneId, { ...LOAD, replayExistingLog: false })).toMatchObject({ outcome: 'has-log', storedRows: 1, state: null });
  });

  for (const [name, craft] of [
    ['an update that only deletes', () => [deleteOnlyUpdate()]],
    ['a valid update to another root type', () => [otherRootUpdate()]],
    ['the seed followed by a delete of everything', () => [encodeRestBlocksAsUpdate(SCENE_BLOCKS), deleteAllUpdate(encodeRestBlocksAsUpdate(SCENE_BLOCKS))]],
  ] as const) {
    it(`detects a log that replays empty (${name}); reseeds only under 'reseed', deleting nothing`, async () => {
      const { sceneId, sceneLog, seeder } = await setup();
      const crafted = craft();
      await sceneLog.append(crafted.map((update) => ({ sceneId, update, createdBy: null })));
      const before = await db().prisma.sceneVersion.findMany({ where: { sceneId }, orderBy: { seq: 'asc' } });

      const logged: SeedResult = await seeder.seedIfEmpty(sceneId, LOAD);
      expect(logged).toMatchObject({ outcome: 'corrupt', kind: 'replays-empty', storedRows: crafted.length, reseed: null, reseedRequested: false });
      expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(crafted.length);

      const reseeded = await seeder.seedIfEmpty(sceneId, { ...LOAD, corruptionPolicy: 'reseed' });
      expect(reseeded).toMatchObject({ outcome: 'corrupt', kind: 'replays-empty', reseedRequested: true });
      if (reseeded.outcome !== 'corrupt' || !reseeded.reseed) throw new Error('expected a reseed');
      const after = await db().prisma.sceneVersion.findMany({ where: { sceneId }, orderBy: { seq: 'asc' } });
      expect(after).toHaveLength(crafted.length + 1);
      // The old rows are untouched; the reseed is a new version by the system.
      expect(after.slice(0, before.length).map((r) => [r.versionId, Buffer.from(r.yjsUpdate).toString('base64')])).toEqual(
        before.map((r) => [r.versionId, Buffer.from(r.yjsUpdate).toString('base64')]),
      );
      expect(after.at(-1)!.createdBy).toBeNull();
      expect(await replayedBlocks(sceneLog, sceneId)).toBe(canonical(SCENE_BLOCKS));

      // Once repaired, the scene loads with content: no second reseed.
      expect(await seeder.seedIfEmpty(sceneId, { ...LOAD, corruptionPolicy: 'reseed' })).toMatchObject({ outcome: 'log-has-content' });
    });
  }

  it('reseeds under a client id the document has no items from', async () => {
    const { sceneId, sceneLog, seeder } = await setup();
    const seed = encodeRestBlocksAsUpdate(SCENE_BLOCKS);
    await sceneLog.append([seed, deleteAllUpdate(seed)].map((update) => ({ sceneId, update, createdBy: null })));
    const result = await seeder.seedIfEmpty(sceneId, { ...LOAD, corruptionPolicy: 'reseed' });
    if (result.outcome !== 'corrupt' || !result.reseed) throw new Error('expected a reseed');
    expect(result.reseed.clientId).not.toBe(seedClientIdFor(canonicalBlocksJSON(SCENE_BLOCKS)));
  });

  it('reports a scene marked seeded whose log is gone, and reseeds it only under reseed', async () => {
    const { sceneId, sceneLog, seeder } = await setup();
    await db().prisma.scene.update({ where: { sceneId }, data: { yjsSeededAt: new Date() } });
    expect(await seeder.seedIfEmpty(sceneId, LOAD)).toMatchObject({ outcome: 'corrupt', kind: 'seeded-log-missing', reseed: null });
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(0);
    const result = await seeder.seedIfEmpty(sceneId, { ...LOAD, corruptionPolicy: 'reseed' });
    expect(result).toMatchObject({ outcome: 'corrupt', kind: 'seeded-log-missing' });
    expect(await replayedBlocks(sceneLog, sceneId)).toBe(canonical(SCENE_BLOCKS));
  });

  it('reports invalid REST over a log that replays empty as corruption it cannot repair', async () => {
    const { sceneId, sceneLog, seeder } = await setup([{ type: 'action', text: 7 }]);
    await sceneLog.append([{ sceneId, update: deleteOnlyUpdate(), createdBy: null }]);
    expect(await seeder.seedIfEmpty(sceneId, { ...LOAD, corruptionPolicy: 'reseed' })).toMatchObject({
      outcome: 'invalid-rest',
      corruption: 'replays-empty',
    });
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(1);
  });
});
