import { beforeAll, expect, it } from 'vitest';
import { SceneNotFoundError } from '../../src/errors.ts';
import { AlreadyInLog, SceneLog, type AppendedVersion, type AppendOutcome } from '../../src/log/sceneLog.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { textUpdate } from '../helpers/typing.ts';

function versions(results: Array<AppendOutcome | SceneNotFoundError>): AppendedVersion[] {
  return results.map((r) => {
    if (r instanceof Error) throw r;
    if (r instanceof AlreadyInLog) throw new Error(`not stored: already in the log of ${r.sceneId}`);
    return r;
  });
}

// One conformance suite, run against each database the server supports.
describeEachDatabase('SceneLog', (db) => {
  let log: SceneLog;

  beforeAll(() => {
    log = new SceneLog(db().database.sql);
  });

  it('numbers a scene’s updates 1, 2, 3… in array order', async () => {
    const { sceneIds, userId } = await createScript(db().prisma);
    const [scene] = sceneIds as [string];
    const first = versions(await log.append([{ sceneId: scene, update: textUpdate('a'), createdBy: userId }]));
    const batch = versions(
      await log.append(['b', 'c', 'd'].map((t) => ({ sceneId: scene, update: textUpdate(t), createdBy: null }))),
    );
    expect([...first, ...batch].map((v) => v.seq)).toEqual([1n, 2n, 3n, 4n]);
    const loaded = await log.load(scene);
    expect(loaded.map((r) => r.seq)).toEqual([1n, 2n, 3n, 4n]);
  });

  it('appends to many scenes in one statement with a sequence per scene', async () => {
    const { sceneIds } = await createScript(db().prisma, { scenes: 3 });
    const entries = [0, 1, 2, 0, 1, 0].map((i, n) => ({ sceneId: sceneIds[i]!, update: textUpdate(`u${n}`), createdBy: null }));
    const result = versions(await log.append(entries));
    expect(result.map((v) => [sceneIds.indexOf(v.sceneId), v.seq])).toEqual([
      [0, 1n],
      [1, 1n],
      [2, 1n],
      [0, 2n],
      [1, 2n],
      [0, 3n],
    ]);
  });

  it('keeps each scene’s sequence gap-free and unique when batches commit concurrently', async () => {
    const { sceneIds } = await createScript(db().prisma, { scenes: 2 });
    const batches = Array.from({ length: 20 }, (_, b) =>
      log.append(
        Array.from({ length: 5 }, (_, i) => ({ sceneId: sceneIds[(b + i) % 2]!, update: textUpdate(`${b}.${i}`), createdBy: null })),
      ),
    );
    await Promise.all(batches);
    for (const sceneId of sceneIds) {
      const seqs = (await log.load(sceneId)).map((r) => Number(r.seq));
      expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    }
  });

  it('stores the bytes exactly as given', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const bytes = new Uint8Array(256).map((_, i) => i);
    const sub = new Uint8Array(bytes.buffer, 10, 100);
    versions(await log.append([{ sceneId: sceneIds[0]!, update: bytes, createdBy: null }]));
    versions(await log.append([{ sceneId: sceneIds[0]!, update: sub, createdBy: null }]));
    const [a, b] = await log.load(sceneIds[0]!);
    expect(Array.from(a!.update)).toEqual(Array.from(bytes));
    expect(Array.from(b!.update)).toEqual(Array.from(sub));
  });

  it('refuses only the entries whose scene does not exist', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const missing = '00000000-0000-4000-8000-000000000000';
    const result = await log.append([
      { sceneId: sceneIds[0]!, update: textUpdate('kept'), createdBy: null },
      { sceneId: missing, update: textUpdate('lost'), createdBy: null },
    ]);
    expect(result[0]).not.toBeInstanceOf(Error);
    expect(result[1]).toBeInstanceOf(SceneNotFoundError);
    expect(result[1]).toMatchObject({ code: 'SCENE_NOT_FOUND', sceneId: missing, message: expect.stringMatching(/; the update was not stored$/) });
    expect(await log.load(sceneIds[0]!)).toHaveLength(1);
  });

  it('stores an author unknown to users as NULL instead of failing the batch', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const known = await createUser(db().prisma);
    versions(
      await log.append([
        { sceneId: sceneIds[0]!, update: textUpdate('x'), createdBy: '11111111-1111-4111-8111-111111111111' },
        { sceneId: sceneIds[0]!, update: textUpdate('y'), createdBy: known },
      ]),
    );
    const rows = await db().prisma.sceneVersion.findMany({ where: { sceneId: sceneIds[0]! }, orderBy: { seq: 'asc' } });
    expect(rows.map((r) => r.createdBy)).toEqual([null, known]);
  });

  it('rejects an empty update at the database (yjs_update_not_empty)', async () => {
    const { sceneIds } = await createScript(db().prisma);
    await expect(log.append([{ sceneId: sceneIds[0]!, update: new Uint8Array(0), createdBy: null }])).rejects.toThrow();
    expect(await log.load(sceneIds[0]!)).toHaveLength(0);
  });

  it('counts live rows and their first and last times', async () => {
    const { sceneIds } = await createScript(db().prisma);
    expect(await log.counts(sceneIds[0]!)).toMatchObject({ live: 0, updates: 0, stored: 0, latestSeq: null });
    expect(await log.hasUpdates(sceneIds[0]!)).toBe(false);
    versions(await log.append(['a', 'b'].map((t) => ({ sceneId: sceneIds[0]!, update: textUpdate(t), createdBy: null }))));
    const counts = await log.counts(sceneIds[0]!);
    expect(counts).toMatchObject({ live: 2, updates: 2, stored: 2, latestSeq: 2n });
    expect(counts.firstAt).toBeInstanceOf(Date);
    expect(await log.hasUpdates(sceneIds[0]!)).toBe(true);
  });

  it('moves a row to quarantine once, keeping its bytes', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const [v] = versions(await log.append([{ sceneId: sceneIds[0]!, update: new Uint8Array([9, 9, 9]), createdBy: null }]));
    expect(await log.quarantine(sceneIds[0]!, v!.versionId, 'test: undecodable')).toBe(true);
    expect(await log.quarantine(sceneIds[0]!, v!.versionId, 'again')).toBe(false);
    expect(await log.load(sceneIds[0]!)).toHaveLength(0);
    const kept = await db().prisma.quarantinedUpdate.findMany({ where: { sceneId: sceneIds[0]! } });
    expect(kept).toHaveLength(1);
    expect(Array.from(kept[0]!.yjsUpdate)).toEqual([9, 9, 9]);
    expect(kept[0]!.reason).toBe('test: undecodable');
  });

  it('loads the live updates packed in one value, in sequence order', async () => {
    const { sceneIds } = await createScript(db().prisma);
    expect(await log.loadUpdates(sceneIds[0]!)).toEqual({ updates: [], packed: new Uint8Array(0), latestSeq: null, clocksUnrecordedAt: null });
    const sizes = [1, 300, 70_000, 2];
    const originals = sizes.map((n, i) => new Uint8Array(n).map((_, j) => (i * 31 + j) % 256));
    versions(await log.append(originals.map((u) => ({ sceneId: sceneIds[0]!, update: u, createdBy: null }))));
    const { updates, latestSeq } = await log.loadUpdates(sceneIds[0]!);
    expect(latestSeq).toBe(4n);
    expect(updates.map((u) => Array.from(u))).toEqual(originals.map((u) => Array.from(u)));
    expect(updates.map((u) => Array.from(u))).toEqual((await log.load(sceneIds[0]!)).map((r) => Array.from(r.update)));
  });

  it('loads history up to an instant', async () => {
    const { sceneIds } = await createScript(db().prisma);
    versions(await log.append([{ sceneId: sceneIds[0]!, update: textUpdate('old'), createdBy: null }]));
    const between = new Date();
    await new Promise((r) => setTimeout(r, 20));
    versions(await log.append([{ sceneId: sceneIds[0]!, update: textUpdate('new'), createdBy: null }]));
    expect(await log.history.loadUntil(sceneIds[0]!, between)).toHaveLength(1);
    expect(await log.history.loadUntil(sceneIds[0]!, new Date())).toHaveLength(2);
  });
});
