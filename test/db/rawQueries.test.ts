import { expect, it } from 'vitest';
import { Prisma } from '../../src/db/client.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';

/**
 * What the append log relies on, proved on both adapters: bytea through raw queries with
 * Uint8Array parameters, BIGINT as bigint, multi-row INSERT ... RETURNING built with
 * Prisma.sql/Prisma.join, interactive transactions and transaction-scoped advisory locks.
 */

const EVERY_BYTE = Uint8Array.from({ length: 256 }, (_, i) => i);

describeEachDatabase('raw queries', (db) => {
  it('round-trips every byte value through bytea with $executeRaw and $queryRaw', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const inserted = await db().prisma.$executeRaw`
      INSERT INTO scene_versions (scene_id, seq, yjs_update) VALUES (${sceneIds[0]}::uuid, ${1n}, ${EVERY_BYTE})`;
    expect(inserted).toBe(1);

    const rows = await db().prisma.$queryRaw<{ seq: bigint; yjs_update: Uint8Array; size: number }[]>`
      SELECT seq, yjs_update, length(yjs_update) AS size FROM scene_versions WHERE scene_id = ${sceneIds[0]}::uuid`;

    expect(rows).toHaveLength(1);
    expect(rows[0]!.seq).toBe(1n);
    expect(rows[0]!.size).toBe(256);
    expect(rows[0]!.yjs_update).toBeInstanceOf(Uint8Array);
    expect(Array.from(rows[0]!.yjs_update)).toEqual(Array.from(EVERY_BYTE));
  });

  it('round-trips bytea through the model API', async () => {
    const { sceneIds } = await createScript(db().prisma);
    await db().prisma.sceneVersion.create({ data: { sceneId: sceneIds[0]!, seq: 1n, yjsUpdate: EVERY_BYTE } });
    const row = await db().prisma.sceneVersion.findFirstOrThrow({ where: { sceneId: sceneIds[0]! } });
    expect(Array.from(row.yjsUpdate)).toEqual(Array.from(EVERY_BYTE));
    expect(row.seq).toBe(1n);
  });

  it('inserts several rows with one INSERT ... VALUES (...), (...) RETURNING', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const updates = [new Uint8Array([1, 0]), new Uint8Array([2, 0, 255]), new Uint8Array([3])];
    const values = updates.map(
      (update, i) => Prisma.sql`(${sceneIds[0]}::uuid, ${BigInt(i + 1)}, ${update})`,
    );

    const rows = await db().prisma.$queryRaw<{ version_id: string; seq: bigint; created_at: Date }[]>`
      INSERT INTO scene_versions (scene_id, seq, yjs_update)
      VALUES ${Prisma.join(values)}
      RETURNING version_id, seq, created_at`;

    expect(rows.map((row) => row.seq)).toEqual([1n, 2n, 3n]);
    for (const row of rows) {
      expect(row.version_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.created_at).toBeInstanceOf(Date);
    }
    const stored = await db().prisma.sceneVersion.findMany({ where: { sceneId: sceneIds[0]! }, orderBy: { seq: 'asc' } });
    expect(stored.map((row) => Array.from(row.yjsUpdate))).toEqual(updates.map((update) => Array.from(update)));
  });

  it('rolls an interactive transaction back when its callback throws', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const failed = db().prisma.$transaction(async (tx) => {
      await tx.sceneVersion.create({ data: { sceneId: sceneIds[0]!, seq: 1n, yjsUpdate: new Uint8Array([1]) } });
      throw new Error('abort');
    });
    await expect(failed).rejects.toThrow('abort');
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: sceneIds[0]! } })).toBe(0);
  });

  it('serialises transactions on a transaction-scoped advisory lock (via $executeRaw: it returns void)', async () => {
    const events: string[] = [];
    const holdLock = (name: string) =>
      db().prisma.$transaction(async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(${42n})`;
        events.push(`${name} locked`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        events.push(`${name} done`);
      });

    await Promise.all([holdLock('a'), holdLock('b')]);

    // Whoever locked first finishes before the other one gets the lock.
    const first = events[0]!.split(' ')[0];
    const second = first === 'a' ? 'b' : 'a';
    expect(events).toEqual([`${first} locked`, `${first} done`, `${second} locked`, `${second} done`]);
  });

  it('locks a row with SELECT ... FOR UPDATE inside a transaction', async () => {
    const { sceneIds } = await createScript(db().prisma);
    const sceneId = sceneIds[0]!;
    await db().prisma.sceneLogHead.create({ data: { sceneId } });
    const next = await db().prisma.$transaction(async (tx) => {
      const [head] = await tx.$queryRaw<{ last_seq: bigint }[]>`
        SELECT last_seq FROM scene_log_heads WHERE scene_id = ${sceneId}::uuid FOR UPDATE`;
      const seq = head!.last_seq + 1n;
      await tx.$executeRaw`UPDATE scene_log_heads SET last_seq = ${seq} WHERE scene_id = ${sceneId}::uuid`;
      return seq;
    });
    expect(next).toBe(1n);
  });
});
