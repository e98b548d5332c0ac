import { expect, it } from 'vitest';
import { Prisma } from '../../src/db/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';

/** The constraint a rejected write violated, from Prisma's error (raw and model queries alike). */
async function violatedCheck(write: Promise<unknown>): Promise<string | undefined> {
  const error = await write.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Prisma.PrismaClientKnownRequestError);
  const message = (error as Error).message;
  return /violates check constraint "([^"]+)"/.exec(message)?.[1];
}

describeEachDatabase('CHECK constraints of the init migration', (db) => {
  it('rejects an empty Yjs update', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const insert = db().prisma.$executeRaw`
      INSERT INTO scene_versions (scene_id, seq, yjs_update) VALUES (${sceneIds[0]}::uuid, ${1n}, ${new Uint8Array(0)})`;
    expect(await violatedCheck(insert)).toBe('yjs_update_not_empty');
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: sceneIds[0] } })).toBe(0);
  });

  it('rejects an empty Yjs update written through the model API too', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const create = db().prisma.sceneVersion.create({
      data: { sceneId: sceneIds[0]!, seq: 1n, yjsUpdate: new Uint8Array(0) },
    });
    expect(await violatedCheck(create)).toBe('yjs_update_not_empty');
  });

  it('rejects a compacted row that merged nothing', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const create = db().prisma.sceneVersion.create({
      data: { sceneId: sceneIds[0]!, seq: 1n, yjsUpdate: new Uint8Array([0]), isCompacted: true, compactedCount: 0 },
    });
    expect(await violatedCheck(create)).toBe('compacted_count_positive');
  });

  it('rejects a negative last sequence number', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const create = db().prisma.sceneLogHead.create({ data: { sceneId: sceneIds[0]!, lastSeq: -1n } });
    expect(await violatedCheck(create)).toBe('last_seq_not_negative');
  });

  it('accepts a one-byte update, a positive count and a zero sequence', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const sceneId = sceneIds[0]!;
    await db().prisma.sceneLogHead.create({ data: { sceneId, lastSeq: 0n } });
    const row = await db().prisma.sceneVersion.create({
      data: { sceneId, seq: 1n, yjsUpdate: new Uint8Array([0]), isCompacted: true, compactedCount: 1 },
    });
    expect(row.compactedCount).toBe(1);
  });
});
