import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createScript } from '../helpers/fixtures.ts';
import { collectGarbage } from '../helpers/gc.ts';
import { describeEachServer } from '../helpers/server.ts';
import { soakOr } from '../helpers/soak.ts';
import { typeInto } from '../helpers/typing.ts';

/**
 * Every document the server loads is checked (a WeakRef each), so a leak fails the first cycle it
 * happens in; the cycles after it prove that a scene loaded again right after it unloaded (a new
 * Y.Doc under the same name, a new Redis subscription to the same channel) is released as well.
 * Six cycles do that five times over 36 documents and take the direct-connection path twice; with
 * Redis each cycle costs the fan-out's one-second unload delay, so `SOAK=1` runs the old 20.
 */
const CYCLES = soakOr(6, 20);
const SCENES = 6;

/**
 * A loaded scene must cost nothing once its last editor has gone: the server's document, its
 * Y.Doc and everything hanging off them (awareness, the Redis subscription, pending appends) are
 * released, cycle after cycle. What is held is proved by the collector, not by a memory figure:
 * a WeakRef to every document the server ever loaded must be empty after a full collection.
 * (The benchmark reports the heap figures: `npm run bench`, scenario "memory".)
 */
// With Redis fan-out on PostgreSQL, without it on PGlite (one process, so never several instances).
const redisOnPostgres = (kind: string): Record<string, string> =>
  kind === 'postgres' ? { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `wr-unload-${randomUUID()}` } : {};

describeEachServer('documents unload and are freed', { env: redisOnPostgres }, ({ db, app }) => {
  it(`releases every scene after ${CYCLES} load/unload cycles of ${SCENES} scenes`, async () => {
    const fixture = await createScript(db().prisma, { scenes: SCENES });
    const token = await tokenFor(fixture.userId);
    const documents = app().collab.hocuspocus.documents;
    const loaded: Array<WeakRef<object>> = [];
    // A function of its own: a suspended async frame can keep its last local alive.
    const track = (sceneId: string, cycle: number) => {
      const document = documents.get(sceneId);
      if (!document) throw new Error(`scene ${sceneId} is not loaded in cycle ${cycle}`);
      loaded.push(new WeakRef(document));
    };

    for (let cycle = 0; cycle < CYCLES; cycle += 1) {
      // Two editors per scene: one types, the other receives it through the server.
      const clients: TestClient[] = fixture.sceneIds.flatMap((sceneId) => [
        connectClient(app().wsUrl, sceneId, { token }),
        connectClient(app().wsUrl, sceneId, { token }),
      ]);
      await Promise.all(clients.map((client) => waitForSynced(client)));
      for (const sceneId of fixture.sceneIds) track(sceneId, cycle);
      const writers = clients.filter((_, i) => i % 2 === 0);
      writers.forEach((writer, i) => typeInto(writer.doc, `cycle ${cycle} scene ${i}`));
      await Promise.all(writers.map((writer) => waitForAcked(writer)));
      // A direct connection too, as the server's own writes open one, so that path loads and unloads as well.
      if (cycle % 5 === 0) {
        const direct = await app().collab.hocuspocus.openDirectConnection(fixture.sceneIds[0]!, {});
        await direct.disconnect();
      }
      for (const client of clients) client.destroy();
      await waitFor(() => app().collab.hocuspocus.getDocumentsCount() === 0, `every scene unloads after cycle ${cycle}`);
    }

    await collectGarbage();
    const retained = loaded.filter((ref) => ref.deref() !== undefined).length;
    expect(loaded).toHaveLength(CYCLES * SCENES);
    expect(retained, `documents still reachable after unload (of ${loaded.length} loaded)`).toBe(0);

    // Each cycle's edits are in the log and come back on the next load.
    const reader = connectClient(app().wsUrl, fixture.sceneIds[1]!, { token });
    try {
      await waitForSynced(reader);
      await waitFor(() => reader.doc.getXmlFragment('default').toString().includes(`cycle ${CYCLES - 1} scene 1`), 'the last cycle is stored');
    } finally {
      reader.destroy();
    }
  });
});
