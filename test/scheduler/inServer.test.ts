import { afterAll, expect, it } from 'vitest';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createScript } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';
import { textOf } from '../helpers/documents.ts';
import { logRows } from '../compaction/support.ts';

const JOBS_ENV = {
  JOBS_ENABLED: 'true',
  COMPACTION_INTERVAL_MS: '100',
  COMPACTION_HOT_LIVE_ROWS: '40',
  SNAPSHOT_INTERVAL_MS: '150',
  RETENTION_INTERVAL_MS: '0',
  DIVERGENCE_INTERVAL_MS: '200',
};

describeEachServer('background jobs inside the server', { env: JOBS_ENV }, ({ db, app }) => {
  const clients: TestClient[] = [];

  afterAll(() => {
    for (const client of clients) client.destroy();
  });

  it('compacts a busy scene and snapshots it on their intervals while an editor types', async () => {
    const { sceneIds, userId } = await createScript(db().prisma);
    const sceneId = sceneIds[0]!;
    const token = await tokenFor(userId);
    const writer = connectClient(app().wsUrl, sceneId, { token });
    clients.push(writer);
    await waitForSynced(writer);

    let typed = 0;
    const typing = setInterval(() => typeInto(writer.doc, 'abcdefghijklmnopqrstuvwxyz'[typed++ % 26]!), 3);
    try {
      await waitFor(async () => (await logRows(db().database.sql, sceneId)).some((row) => row.isCompacted), 'the compaction job merges the scene', 20_000);
      await waitFor(
        async () => (await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } })).snapshotAt !== null,
        'the snapshot job writes the REST copy',
        20_000,
      );
    } finally {
      clearInterval(typing);
    }
    await waitForAcked(writer);

    const status = Object.fromEntries(app().scheduler.status().map((s) => [s.name, s]));
    expect(status.compaction!.lastSummary).toMatchObject({ scenesFailed: 0 });
    expect(status.retention!.nextRunAt).toBeNull(); // interval 0: not scheduled
    await waitFor(() => app().scheduler.status().find((s) => s.name === 'divergence')!.lastFinishedAt !== null, 'a divergence sweep ran', 20_000);

    // Whatever the jobs did, a fresh editor loads exactly what the writer has.
    const reader = connectClient(app().wsUrl, sceneId, { token });
    clients.push(reader);
    await waitForSynced(reader);
    expect(textOf(reader.doc)).toBe(textOf(writer.doc));
    const snapshot = await app().snapshots.snapshotScene(sceneId, { trigger: 'yjs' });
    expect(['written', 'superseded']).toContain(snapshot.status);
  });

  it('reports no Redis fan-out without REDIS_URL (one instance)', async () => {
    const ready = (await (await fetch(`${app().httpUrl}/api/health/ready`)).json()) as { redis_fanout: unknown };
    expect(ready.redis_fanout).toEqual({ enabled: false, connected: false, mode: 'disabled' });
    expect(app().fanout).toBeNull();
  });
});
