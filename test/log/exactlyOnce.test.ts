import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { clearYjs } from '../../jobs/clearYjs.ts';
import { SceneLoader } from '../../src/collab/sceneLoading.ts';
import { SceneNotFoundError } from '../../src/errors.ts';
import { splitAtSharedStructs, structsOf } from '../../src/log/arbitration.ts';
import { GroupCommitQueue } from '../../src/log/groupCommit.ts';
import { applyAll } from '../../src/log/replay.ts';
import { AlreadyInLog, SceneLog, type AppendedVersion, type AppendOutcome } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { SceneSeeder } from '../../src/restCopy/seeding.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { structRanges, structStoredTwice } from '../helpers/logContent.ts';
import { counterValue } from '../helpers/metrics.ts';
import { SCENE_BLOCKS } from '../seeding/support.ts';

/** An editor's document and every update it produced, in order. */
function typist(clientId: number) {
  const doc = new Y.Doc();
  doc.clientID = clientId;
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const text = doc.getText('t');
  return {
    doc,
    updates,
    type(chars: string) {
      for (const ch of chars) text.insert(text.length, ch);
      return updates.slice(-chars.length);
    },
  };
}

function stored(result: AppendOutcome | SceneNotFoundError | undefined): AppendedVersion {
  if (!result || result instanceof SceneNotFoundError || result instanceof AlreadyInLog) throw new Error(`expected a stored row, got ${String(result)}`);
  return result;
}

describe('splitAtSharedStructs', () => {
  const entry = (sceneId: string, ranges: Array<[number, number, number]>) => ({
    sceneId,
    structs: new Map(ranges.map(([client, from, to]) => [client, [[from, to] as [number, number]]])),
  });

  it.each([
    { why: 'a writer’s consecutive updates', entries: [entry('a', [[1, 0, 3]]), entry('a', [[1, 3, 5]]), entry('a', [[1, 5, 9]])], later: [] },
    { why: 'different clients', entries: [entry('a', [[1, 0, 3]]), entry('a', [[2, 0, 3]])], later: [] },
    { why: 'the same structs in another scene', entries: [entry('a', [[1, 0, 3]]), entry('b', [[1, 0, 3]])], later: [] },
    { why: 'the same update twice', entries: [entry('a', [[1, 0, 3]]), entry('a', [[1, 0, 3]])], later: [1] },
    {
      why: 'an overlap defers the entry and the rest of its scene, not other scenes',
      entries: [entry('a', [[1, 0, 3]]), entry('a', [[1, 2, 4]]), entry('b', [[1, 0, 1]]), entry('a', [[2, 0, 1]])],
      later: [1, 3],
    },
  ])('$why', ({ entries, later }) => {
    const split = splitAtSharedStructs(entries);
    expect(split.later).toEqual(later.map((i) => entries[i]));
    expect(split.now).toEqual(entries.filter((_, i) => !later.includes(i)));
  });
});

describeEachDatabase('the log stores every update once', (db) => {
  let log: SceneLog;
  beforeAll(() => {
    log = new SceneLog(db().database.sql);
  });

  const scene = async () => (await createScript(db().prisma)).sceneIds[0]!;
  const rowsOf = (sceneId: string) => log.load(sceneId);
  const replayed = async (sceneId: string) => {
    const doc = new Y.Doc();
    applyAll(doc, (await rowsOf(sceneId)).map((row) => row.update));
    return doc.getText('t').toString();
  };
  const storedTwice = async (sceneId: string) => structStoredTwice((await rowsOf(sceneId)).map((row) => row.update));
  const clocksOf = async (sceneId: string) => {
    const [row] = await db().database.sql.query<{ committed_clocks: unknown }>(
      'test_clocks_of',
      'SELECT committed_clocks FROM scene_log_heads WHERE scene_id = $1::uuid',
      [sceneId],
    );
    return row?.committed_clocks ?? null;
  };

  it('does not store an update again, in a later batch or in the same one', async () => {
    const sceneId = await scene();
    const writer = typist(101);
    const [a, b, c] = writer.type('abc') as [Uint8Array, Uint8Array, Uint8Array];
    const first = await log.append([a, b].map((update) => ({ sceneId, update, createdBy: null })));
    expect(first.map((r) => stored(r).seq)).toEqual([1n, 2n]);

    const again = await log.append([b, c, c].map((update) => ({ sceneId, update, createdBy: null })));
    expect(again[0]).toEqual(new AlreadyInLog(sceneId, 2n));
    expect(stored(again[1]).seq).toBe(3n);
    expect(again[2]).toBeInstanceOf(AlreadyInLog);

    expect((await rowsOf(sceneId)).map((row) => row.seq)).toEqual([1n, 2n, 3n]);
    expect(await replayed(sceneId)).toBe('abc');
    expect(await storedTwice(sceneId)).toBeNull();
    expect(await clocksOf(sceneId)).toEqual({ 101: 3 });
  });

  it('stores of an overlapping update only what the log lacks', async () => {
    const sceneId = await scene();
    const writer = typist(202);
    writer.type('hello');
    stored((await log.append(writer.updates.slice(0, 3).map((update) => ({ sceneId, update, createdBy: null }))))[2]);
    // An editor that reconnects elsewhere sends all it has: what the log holds and what it lacks.
    const [result] = await log.append([{ sceneId, update: Y.encodeStateAsUpdate(writer.doc), createdBy: null }]);
    stored(result);
    expect(await replayed(sceneId)).toBe('hello');
    expect(await storedTwice(sceneId)).toBeNull();
    const newest = (await rowsOf(sceneId)).at(-1)!;
    expect(structRanges([newest.update])).toEqual(new Map([[202, [[3, 5]]]]));
  });

  it('stores the deletions of an update whose structs the log holds, and a deletion on its own', async () => {
    const sceneId = await scene();
    const writer = typist(303);
    writer.type('abcdef');
    await log.append(writer.updates.map((update) => ({ sceneId, update, createdBy: null })));
    writer.doc.getText('t').delete(0, 2);
    const deletion = writer.updates.at(-1)!;
    expect(structsOf(deletion).size).toBe(0);
    stored((await log.append([{ sceneId, update: deletion, createdBy: null }]))[0]);
    expect(await replayed(sceneId)).toBe('cdef');

    // Every struct is in the log; the deletion of "c" is not: only it is stored.
    writer.doc.getText('t').delete(0, 1);
    const [result] = await log.append([{ sceneId, update: Y.encodeStateAsUpdate(writer.doc), createdBy: null }]);
    stored(result);
    const newest = (await rowsOf(sceneId)).at(-1)!;
    expect(structRanges([newest.update]).size).toBe(0);
    expect(Y.decodeUpdate(newest.update).ds.clients.size).toBe(1);
    expect(await replayed(sceneId)).toBe('def');
    expect(await storedTwice(sceneId)).toBeNull();
  });

  it('stores an update beyond a gap, and the update that fills the gap when it comes', async () => {
    const sceneId = await scene();
    const writer = typist(404);
    const [a, b, c] = writer.type('abc') as [Uint8Array, Uint8Array, Uint8Array];
    await log.append([a, c].map((update) => ({ sceneId, update, createdBy: null })));
    // The clocks stop at the gap: they never claim "b", which the log has not got.
    expect(await clocksOf(sceneId)).toEqual({ 404: 1 });
    stored((await log.append([{ sceneId, update: b, createdBy: null }]))[0]);
    expect(await replayed(sceneId)).toBe('abc');
    expect(await clocksOf(sceneId)).toEqual({ 404: 2 });
  });

  it('stores one copy when several callers append the same updates at the same moment', async () => {
    const sceneId = await scene();
    const writer = typist(505);
    const updates = writer.type('concurrent');
    // Fresh scene (its head does not exist yet) and a running one: both races.
    const rounds = [updates.slice(0, 5), updates.slice(5)];
    for (const round of rounds) {
      const callers = Array.from({ length: 3 }, () => new SceneLog(db().database.sql));
      const results = await Promise.all(callers.map((caller) => caller.append(round.map((update) => ({ sceneId, update, createdBy: null })))));
      for (const [i] of round.entries()) {
        const outcomes = results.map((r) => r[i]);
        expect(outcomes.filter((o) => o instanceof AlreadyInLog).length).toBe(2);
        expect(outcomes.filter((o) => o && 'versionId' in o)).toHaveLength(1);
      }
    }
    expect(await replayed(sceneId)).toBe('concurrent');
    expect(await rowsOf(sceneId)).toHaveLength(updates.length);
    expect(await storedTwice(sceneId)).toBeNull();
  });

  it('arbitrates inside a caller’s Prisma transaction too', async () => {
    const sceneId = await scene();
    const writer = typist(606);
    const updates = writer.type('tx');
    await log.append([{ sceneId, update: updates[0]!, createdBy: null }]);
    const results = await db().prisma.$transaction((tx) =>
      log.withTransaction(tx).append([{ sceneId, update: Y.encodeStateAsUpdate(writer.doc), createdBy: null }]),
    );
    stored(results[0]);
    expect(await replayed(sceneId)).toBe('tx');
    expect(await storedTwice(sceneId)).toBeNull();
  });

  it('resolves a queued update the log already holds, and counts it', async () => {
    const sceneId = await scene();
    const metrics = createMetrics();
    const queue = new GroupCommitQueue(log, { maxBatch: 100, lanes: 1, maxUpdatesPerRow: 16, retries: 0, logger: silentLogger(), metrics });
    const writer = typist(707);
    const updates = writer.type('queued');
    await Promise.all(updates.map((update) => queue.append({ sceneId, update, createdBy: null })));
    const outcomes = await Promise.all(updates.slice(2).map((update) => queue.append({ sceneId, update, createdBy: null })));
    expect(outcomes.every((o) => o instanceof AlreadyInLog)).toBe(true);
    expect(await counterValue(metrics.updatesSkipped, { reason: 'already_in_log' })).toBe(updates.length - 2);
    expect(await replayed(sceneId)).toBe('queued');
    await queue.close();
  });

  it('checks nothing while a log’s clocks are not recorded, and everything once a load recorded them', async () => {
    const sceneId = await scene();
    const writer = typist(808);
    const [a, b] = writer.type('ab') as [Uint8Array, Uint8Array];
    await log.append([{ sceneId, update: a, createdBy: null }]);
    // As the migration leaves a log stored before the clocks existed.
    await db().database.sql.query('test_forget_clocks', 'UPDATE scene_log_heads SET committed_clocks = NULL WHERE scene_id = $1::uuid', [sceneId]);
    stored((await log.append([{ sceneId, update: a, createdBy: null }]))[0]);
    expect(await clocksOf(sceneId)).toBeNull();

    const loaded = await log.loadUpdates(sceneId);
    expect(loaded.clocksUnrecordedAt).toBe(2n);
    const doc = new Y.Doc();
    applyAll(doc, loaded.updates);
    // Only at the head the load read: an append since would have gone unrecorded.
    expect(await log.recordCommittedClocks(sceneId, Y.decodeStateVector(Y.encodeStateVector(doc)), 1n)).toBe(false);
    expect(await log.recordCommittedClocks(sceneId, Y.decodeStateVector(Y.encodeStateVector(doc)), 2n)).toBe(true);
    expect((await log.loadUpdates(sceneId)).clocksUnrecordedAt).toBeNull();

    expect((await log.append([{ sceneId, update: a, createdBy: null }]))[0]).toBeInstanceOf(AlreadyInLog);
    stored((await log.append([{ sceneId, update: b, createdBy: null }]))[0]);
    expect(await clocksOf(sceneId)).toEqual({ 808: 2 });
  });

  it('has a load record the clocks of a log that has none, so the next duplicate is refused', async () => {
    const sceneId = await scene();
    const writer = typist(1001);
    const [a, b] = writer.type('ab') as [Uint8Array, Uint8Array];
    await log.append([a, b].map((update) => ({ sceneId, update, createdBy: null })));
    await db().database.sql.query('test_forget_clocks', 'UPDATE scene_log_heads SET committed_clocks = NULL WHERE scene_id = $1::uuid', [sceneId]);

    const document = new Y.Doc();
    await new SceneLoader({ log, metrics: createMetrics(), logger: silentLogger() }).load(document, sceneId);
    expect(document.getText('t').toString()).toBe('ab');
    expect(await clocksOf(sceneId)).toEqual({ 1001: 2 });
    expect((await log.append([{ sceneId, update: b, createdBy: null }]))[0]).toBeInstanceOf(AlreadyInLog);
  });

  it('forgets the clocks of a scene a row was quarantined from', async () => {
    const sceneId = await scene();
    const writer = typist(909);
    const [a] = writer.type('a') as [Uint8Array];
    await log.append([{ sceneId, update: a, createdBy: null }]);
    const [corrupt] = await log.append([{ sceneId, update: new Uint8Array([9, 9, 9]), createdBy: null }]);
    expect(await clocksOf(sceneId)).toEqual({ 909: 1 });
    expect(await log.quarantine(sceneId, stored(corrupt).versionId, 'test: undecodable')).toBe(true);
    expect(await clocksOf(sceneId)).toBeNull();
    expect((await log.loadUpdates(sceneId)).clocksUnrecordedAt).toBe(2n);
  });

  describe('after clear-yjs', () => {
    let exportDir: string;
    beforeAll(async () => {
      exportDir = await mkdtemp(path.join(tmpdir(), 'wr-exactly-once-'));
    });
    afterAll(async () => {
      await rm(exportDir, { recursive: true, force: true });
    });

    it('stores the reseed, whose client id and clocks are the first seed’s', async () => {
      const { sceneIds } = await createScript(db().prisma, { sceneContents: [SCENE_BLOCKS] });
      const sceneId = sceneIds[0]!;
      const seeder = new SceneSeeder({ prisma: db().prisma, sceneLog: log });
      const first = await seeder.seedIfEmpty(sceneId, { corruptionPolicy: 'log', replayExistingLog: true });
      if (first.outcome !== 'seeded') throw new Error(`expected a seed, got ${first.outcome}`);

      const now = new Date(Date.now() + 3_600_000);
      await clearYjs({ prisma: db().prisma, sceneLog: log, now: () => now }, { id: sceneId, execute: true, force: false, allowActive: true, exportDir });
      expect(await clocksOf(sceneId)).toEqual({});

      const again = await seeder.seedIfEmpty(sceneId, { corruptionPolicy: 'log', replayExistingLog: true });
      if (again.outcome !== 'seeded') throw new Error(`expected a reseed, got ${again.outcome}`);
      expect(Array.from(again.seed.update)).toEqual(Array.from(first.seed.update));
      expect(await rowsOf(sceneId)).toHaveLength(1);
    });
  });
});
