import { afterEach, expect, it } from 'vitest';
import * as Y from 'yjs';
import { replayUpdates } from '../../src/log/replay.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createScript } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { counterValue } from '../helpers/metrics.ts';
import { blocksOf, canonical } from '../helpers/documents.ts';
import { OTHER_BLOCKS, SCENE_BLOCKS } from './support.ts';

describeEachServer('seeding on load through real providers', ({ db, app, restart }) => {
  let clients: TestClient[] = [];

  const newScene = async (contentBlocks: unknown = SCENE_BLOCKS) => {
    const fixture = await createScript(db().prisma, { contentBlocks: contentBlocks as unknown[] });
    return { sceneId: fixture.sceneIds[0]!, token: await tokenFor(fixture.userId) };
  };
  const connect = (sceneId: string, token: string) => {
    const client = connectClient(app().wsUrl, sceneId, { token });
    clients.push(client);
    return client;
  };
  const disconnectAll = async () => {
    for (const client of clients) client.destroy();
    clients = [];
    await waitFor(() => app().collab.hocuspocus.getDocumentsCount() === 0, 'every scene unloads once its clients leave');
  };
  const rowsOf = (sceneId: string) => db().prisma.sceneVersion.findMany({ where: { sceneId }, orderBy: { seq: 'asc' } });

  afterEach(async () => {
    await disconnectAll();
  });

  it('ten clients opening the same empty scene at once get one copy of the REST content', async () => {
    const { sceneId, token } = await newScene();
    // All ten attach in the same tick, before any of them has been answered.
    const ten = Array.from({ length: 10 }, () => connect(sceneId, token));
    await Promise.all(ten.map((c) => waitForSynced(c)));
    await Promise.all(ten.map((c) => waitFor(() => blocksOf(c.doc) === canonical(SCENE_BLOCKS), 'client sees the seeded scene once')));

    const rows = await rowsOf(sceneId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.createdBy).toBeNull();
    const scene = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } });
    expect(scene.yjsSeededAt).not.toBeNull();
    expect(scene.snapshotSource).toBe('migrated');
    expect(await counterValue(app().metrics.sceneLoadChecks, { result: 'seeded' })).toBeGreaterThanOrEqual(1);
  });

  it('never seeds again on reload, even if nobody edited, and not after a restart', async () => {
    const { sceneId, token } = await newScene();
    const first = connect(sceneId, token);
    await waitForSynced(first);
    await waitFor(() => blocksOf(first.doc) === canonical(SCENE_BLOCKS), 'seeded');
    await disconnectAll();

    for (let reload = 0; reload < 3; reload += 1) {
      const again = connect(sceneId, token);
      await waitForSynced(again);
      expect(blocksOf(again.doc)).toBe(canonical(SCENE_BLOCKS));
      await disconnectAll();
    }
    await restart();
    const afterRestart = connect(sceneId, token);
    await waitForSynced(afterRestart);
    expect(blocksOf(afterRestart.doc)).toBe(canonical(SCENE_BLOCKS));
    expect(await rowsOf(sceneId)).toHaveLength(1);
  });

  it('serves Yjs content as it is when the REST copy differs, and reports the divergence', async () => {
    const { sceneId, token } = await newScene();
    const writer = connect(sceneId, token);
    await waitForSynced(writer);
    await waitFor(() => blocksOf(writer.doc) === canonical(SCENE_BLOCKS), 'seeded');
    // An edit in the editor: the Yjs state moves ahead of REST.
    const action = writer.doc.getXmlFragment('default').get(1) as Y.XmlElement;
    (action.get(0) as Y.XmlText).insert(0, 'Thunder. ');
    await waitForAcked(writer);
    const edited = blocksOf(writer.doc);
    await disconnectAll();
    // And the REST copy is rewritten by someone else in the meantime.
    await db().prisma.scene.update({ where: { sceneId }, data: { contentBlocks: OTHER_BLOCKS } });
    const rowsBefore = (await rowsOf(sceneId)).length;
    const divergedBefore = await counterValue(app().metrics.sceneLoadChecks, { result: 'diverged' });

    const reader = connect(sceneId, token);
    await waitForSynced(reader);
    expect(blocksOf(reader.doc)).toBe(edited);
    expect(blocksOf(reader.doc)).not.toContain('EXT. PIER');
    expect(await rowsOf(sceneId)).toHaveLength(rowsBefore);
    // The comparison of a scene with content follows its load.
    await waitFor(async () => (await counterValue(app().metrics.sceneLoadChecks, { result: 'diverged' })) === divergedBefore + 1, 'divergence reported');
  });

  it('does not seed REST content that fails validation; serves the (empty) log', async () => {
    const { sceneId, token } = await newScene([{ type: 'dialogue', text: 'Hi', marks: [{ type: 'bold', from: 0, to: 99 }] }]);
    const client = connect(sceneId, token);
    await waitForSynced(client);
    expect(client.doc.getXmlFragment('default').length).toBe(0);
    expect(await rowsOf(sceneId)).toHaveLength(0);
    expect((await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } })).yjsSeededAt).toBeNull();
    expect(await counterValue(app().metrics.sceneLoadChecks, { result: 'invalid-rest' })).toBeGreaterThanOrEqual(1);
  });

  it('leaves a scene with an empty REST copy empty, and stores what the editor types', async () => {
    const { sceneId, token } = await newScene([]);
    const client = connect(sceneId, token);
    await waitForSynced(client);
    expect(client.doc.getXmlFragment('default').length).toBe(0);
    client.doc.getXmlFragment('default').insert(0, [new Y.XmlElement('action')]);
    await waitForAcked(client);
    const rows = await rowsOf(sceneId);
    expect(rows).toHaveLength(1);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, replayUpdates(await app().sceneLog.load(sceneId)).state);
    expect(doc.getXmlFragment('default').length).toBe(1);
  });
});
