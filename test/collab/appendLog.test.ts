import { afterEach, expect, it } from 'vitest';
import * as Y from 'yjs';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type ConnectOptions, type TestClient } from '../helpers/clients.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createScript } from '../helpers/fixtures.ts';
import { storedOnceProblem } from '../helpers/logContent.ts';
import { typeInto } from '../helpers/typing.ts';
import { describeEachServer } from '../helpers/server.ts';
import { captureExpectedConsoleErrors } from '../helpers/console.ts';
import { counterValue } from '../helpers/metrics.ts';
import { textOf } from '../helpers/documents.ts';

/** The document a fresh load from the log gives, as text of the `default` fragment. */
async function loadFromLog(log: SceneLog, sceneId: string): Promise<Y.Doc> {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, replayUpdates(await log.load(sceneId)).state);
  return doc;
}

/** A paragraph typed one character per update, as an editor sends it: the document and its updates. */
function typedParagraph(text: string): { doc: Y.Doc; updates: Uint8Array[] } {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const paragraph = new Y.XmlElement('paragraph');
  doc.getXmlFragment('default').insert(0, [paragraph]);
  const xmlText = new Y.XmlText();
  paragraph.insert(0, [xmlText]);
  for (const [i, char] of [...text].entries()) xmlText.insert(i, char);
  return { doc, updates };
}

describeEachServer('append-log persistence', ({ db, app }) => {
  // Refused writes and loads the tests provoke are also reported by Hocuspocus on the console.
  captureExpectedConsoleErrors();
  let clients: TestClient[] = [];

  /** A scene of a new script and a token of its owner. */
  const newScene = async (scenes = 1) => {
    const fixture = await createScript(db().prisma, { scenes });
    return { ...fixture, token: await tokenFor(fixture.userId) };
  };
  const connect = (sceneId: string, token: string, options: Partial<ConnectOptions> = {}) => {
    const client = connectClient(app().wsUrl, sceneId, { token, ...options });
    clients.push(client);
    return client;
  };

  afterEach(() => {
    for (const client of clients) client.destroy();
    clients = [];
  });
  it('stores every acknowledged update of many clients typing into one scene, once', async () => {
    const { sceneIds, token } = await newScene();
    const scene = sceneIds[0]!;
    const writers = Array.from({ length: 5 }, () => connect(scene, token));
    await Promise.all(writers.map((c) => waitForSynced(c)));
    const sent: Uint8Array[] = [];
    for (const c of writers) c.doc.on('update', (update: Uint8Array, origin: unknown) => origin !== c.provider && sent.push(update));
    writers.forEach((c, i) => typeInto(c.doc, `w${i}:` + 'abcdefghij'.repeat(3)));
    await Promise.all(writers.map((c) => waitForAcked(c)));
    await waitFor(() => new Set(writers.map((c) => textOf(c.doc))).size === 1, 'writers converge');

    const fromLog = await loadFromLog(app().sceneLog, scene);
    expect(textOf(fromLog)).toBe(textOf(writers[0]!.doc));
    // Each acknowledged typing update is stored once (a writer's run may share a merged row).
    expect(sent).toHaveLength(5 * 33);
    const rows = (await app().sceneLog.load(scene)).map((row) => ({ update: row.update, updateCount: row.compactedCount }));
    expect(storedOnceProblem(rows, sent)).toBeNull();
    expect(rows.length).toBeLessThanOrEqual(writers.reduce((n, c) => n + c.acks(), 0));
  });

  it('keeps scenes apart when many clients type into many scenes', async () => {
    const { sceneIds, token } = await newScene(10);
    const writers = sceneIds.map((scene) => connect(scene, token));
    await Promise.all(writers.map((c) => waitForSynced(c)));
    writers.forEach((c, i) => typeInto(c.doc, `scene ${i}`));
    await Promise.all(writers.map((c) => waitForAcked(c)));
    for (const [i, scene] of sceneIds.entries()) {
      const fromLog = await loadFromLog(app().sceneLog, scene);
      expect(textOf(fromLog)).toBe(textOf(writers[i]!.doc));
      expect(textOf(fromLog)).toContain(`scene ${i}`);
    }
  });

  it('serves the stored state to a client that connects later', async () => {
    const { sceneIds, token } = await newScene();
    const writer = connect(sceneIds[0]!, token);
    await waitForSynced(writer);
    typeInto(writer.doc, 'INT. KITCHEN - NIGHT');
    await waitForAcked(writer);
    writer.destroy();
    await waitFor(() => app().collab.hocuspocus.getDocumentsCount() === 0, 'scene unloads after its last client leaves');

    const reader = connect(sceneIds[0]!, token);
    await waitForSynced(reader);
    await waitFor(() => textOf(reader.doc).includes('INT. KITCHEN - NIGHT'), 'reader sees the stored text');
  });

  it('does not grow the log when a client reconnects with what the server already has', async () => {
    const { sceneIds, token } = await newScene();
    const scene = sceneIds[0]!;
    const writer = connect(scene, token);
    await waitForSynced(writer);
    typeInto(writer.doc, 'hello world');
    writer.doc.transact(() => ((writer.doc.getXmlFragment('default').get(0) as Y.XmlElement).get(0) as Y.XmlText).delete(0, 6));
    await waitForAcked(writer);
    const before = await db().prisma.sceneVersion.count({ where: { sceneId: scene } });

    writer.socket.disconnect();
    await waitFor(() => !writer.provider.isSynced, 'client notices the disconnect');
    await writer.socket.connect();
    await waitForSynced(writer);
    await waitForAcked(writer);
    await new Promise((r) => setTimeout(r, 100));
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: scene } })).toBe(before);
  });

  it('refuses unacknowledged updates while the database refuses writes, and stores them once after', async () => {
    const { sceneIds, token } = await newScene();
    const scene = sceneIds[0]!;
    const writer = connect(scene, token, { persistent: true });
    await waitForSynced(writer);
    typeInto(writer.doc, 'saved ');
    await waitForAcked(writer);

    await db().prisma.$executeRawUnsafe(`
      CREATE OR REPLACE FUNCTION refuse_writes() RETURNS trigger AS $$
      BEGIN RAISE EXCEPTION 'writes refused by test'; END $$ LANGUAGE plpgsql`);
    await db().prisma.$executeRawUnsafe(
      `CREATE TRIGGER refuse_writes BEFORE INSERT ON scene_versions FOR EACH STATEMENT EXECUTE FUNCTION refuse_writes()`,
    );
    const acksBefore = writer.acks();
    typeInto(writer.doc, 'pending');
    await waitFor(async () => Number(await app().metrics.registry.getSingleMetricAsString('update_persist_errors_total').then((s) => /update_persist_errors_total\{reason="database"\} (\d+)/.exec(s)?.[1] ?? 0)) > 0, 'a refused append');
    expect(writer.provider.hasUnsyncedChanges).toBe(true);
    expect(writer.acks()).toBe(acksBefore);
    await db().prisma.$executeRawUnsafe(`DROP TRIGGER refuse_writes ON scene_versions`);

    await waitForAcked(writer, 20_000);
    const fromLog = await loadFromLog(app().sceneLog, scene);
    const paragraph = fromLog.getXmlFragment('default').get(0) as Y.XmlElement;
    expect((paragraph.get(0) as Y.XmlText).toString()).toBe('saved pending');
  });

  it('quarantines a stored update that cannot be applied and still loads the rest', async () => {
    const { sceneIds, token } = await newScene();
    const scene = sceneIds[0]!;
    const before = new Y.Doc();
    const p = new Y.XmlElement('paragraph');
    p.insert(0, [new Y.XmlText('kept text')]);
    before.getXmlFragment('default').insert(0, [p]);
    // Written straight to the log, as disk corruption would leave it: the guards never saw it.
    const garbage = new Uint8Array([1, 1, 200, 1, 0, 4, 1, 255, 255, 255, 255, 15]);
    await app().sceneLog.append([
      { sceneId: scene, update: Y.encodeStateAsUpdate(before), createdBy: null },
      { sceneId: scene, update: garbage, createdBy: null },
    ]);
    const client = connect(scene, token);
    await waitForSynced(client);
    expect(textOf(client.doc)).toContain('kept text');
    const quarantined = await db().prisma.quarantinedUpdate.findMany({ where: { sceneId: scene } });
    expect(quarantined).toHaveLength(1);
    expect(Array.from(quarantined[0]!.yjsUpdate)).toEqual(Array.from(garbage));
    expect(await app().sceneLog.load(scene)).toHaveLength(1);
  });

  it('checks on a reload only the rows appended since, and everything again once a stored row changed', async () => {
    const { sceneIds, token } = await newScene();
    const scene = sceneIds[0]!;
    const { doc: typed, updates } = typedParagraph('INT. DINER - NIGHT');
    await app().sceneLog.append(updates.slice(0, 15).map((update) => ({ sceneId: scene, update, createdBy: null })));
    const open = async () => {
      const before = await counterValue(app().metrics.loadRowsChecked);
      const client = connect(scene, token);
      await waitForSynced(client);
      const text = textOf(client.doc);
      client.destroy();
      await waitFor(() => app().collab.hocuspocus.getDocumentsCount() === 0, 'the scene unloads');
      return { checked: (await counterValue(app().metrics.loadRowsChecked)) - before, text };
    };

    expect((await open()).checked).toBe(15);
    expect((await open()).checked).toBe(0);
    await app().sceneLog.append(updates.slice(15).map((update) => ({ sceneId: scene, update, createdBy: null })));
    expect(await open()).toEqual({ checked: updates.length - 15, text: textOf(typed) });

    // A row changed in the database after it was checked, keeping its length: the whole log is
    // checked again, and the corrupt row is quarantined rather than applied.
    const corrupt = Buffer.alloc(updates[17]!.byteLength, 0xff);
    corrupt.set([1, 1]);
    await db().database.sql.query('test_corrupt_row', 'UPDATE scene_versions SET yjs_update = $2 WHERE scene_id = $1::uuid AND seq = 18', [scene, corrupt]);
    const afterCorruption = await open();
    expect(afterCorruption.checked).toBe(updates.length);
    expect(afterCorruption.text).toContain('INT. DINER');
    expect(await db().prisma.quarantinedUpdate.count({ where: { sceneId: scene } })).toBe(1);
  });

  it('sends a stored scene to the editor that opens it once, not also as a broadcast of the load', async () => {
    const { sceneIds, token } = await newScene();
    const scene = sceneIds[0]!;
    const { doc: typed, updates } = typedParagraph('abcdefghij'.repeat(200));
    await app().sceneLog.append(updates.map((update) => ({ sceneId: scene, update, createdBy: null })));
    const stateBytes = Y.encodeStateAsUpdate(typed).byteLength;

    const client = connect(scene, token);
    const received: number[] = [];
    client.provider.on('message', ({ event }: { event: MessageEvent<ArrayBuffer> }) => received.push(event.data.byteLength));
    await waitForSynced(client);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(textOf(client.doc)).toBe(textOf(typed));
    // Every message big enough to carry the scene.
    expect(received.filter((bytes) => bytes >= stateBytes / 2)).toHaveLength(1);
  });

  it('reports a gap in the log instead of serving the scene as complete', async () => {
    const { sceneIds, token } = await newScene();
    const scene = sceneIds[0]!;
    const { updates } = typedParagraph('abcd');
    // The update that typed "b" is missing: "c" and "d" depend on it.
    const stored = updates.filter((_, i) => i !== 3);
    await app().sceneLog.append(stored.map((update) => ({ sceneId: scene, update, createdBy: null })));
    const gapsBefore = await counterValue(app().metrics.loadGaps);

    const client = connect(scene, token);
    await waitForSynced(client);
    expect(await counterValue(app().metrics.loadGaps)).toBe(gapsBefore + 1);
    expect(textOf(client.doc)).toContain('a');
    expect(textOf(client.doc)).not.toContain('abcd');
  });

  it('refuses a connection with a clear reason when the scene cannot be loaded', async () => {
    const { sceneIds, token } = await newScene();
    await db().prisma.$executeRawUnsafe(`ALTER TABLE scene_versions RENAME TO scene_versions_hidden`);
    try {
      let reason = '';
      const client = connect(sceneIds[0]!, token, { onAuthenticationFailed: (r: string) => (reason = r) });
      await waitFor(() => reason !== '', 'the connection is refused');
      expect(reason).toMatch(/scene-load-failed/);
      expect(client.provider.isSynced).toBe(false);
    } finally {
      await db().prisma.$executeRawUnsafe(`ALTER TABLE scene_versions_hidden RENAME TO scene_versions`);
    }
  });
});
