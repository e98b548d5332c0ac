import { afterEach, beforeAll, expect, it } from 'vitest';
import * as Y from 'yjs';
import { CONNECTION_REFUSALS } from '../../src/collab/closeReasons.ts';
import { silentLogger } from '../../src/logger.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { retentionJob } from '../../jobs/retention.ts';
import { tokenFor } from '../helpers/auth.ts';
import { waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { captureExpectedConsoleErrors } from '../helpers/console.ts';
import { textOf } from '../helpers/documents.ts';
import { createUser } from '../helpers/fixtures.ts';
import { counterValue } from '../helpers/metrics.ts';
import { describeEachServer } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';
import { request } from '../http/support.ts';
import { openWatched } from './support.ts';

/** Open connections are checked again every 100 ms here, so an ended connection is seen in a fraction of a second. */
const WATCH_ENV = { AUTH_RECHECK_INTERVAL_MS: '100' };
const DAY_MS = 24 * 60 * 60 * 1000;

describeEachServer('deleted scenes: refused, connections ended, restored, purged', { env: WATCH_ENV }, ({ db, app }) => {
  captureExpectedConsoleErrors();
  let owner: string;
  let editor: string;
  let ownerToken: string;
  let editorToken: string;
  let strangerToken: string;
  let clients: TestClient[] = [];

  beforeAll(async () => {
    owner = await createUser(db().prisma);
    editor = await createUser(db().prisma);
    ownerToken = await tokenFor(owner);
    editorToken = await tokenFor(editor);
    strangerToken = await tokenFor(await createUser(db().prisma));
  });
  afterEach(() => {
    for (const client of clients) client.destroy();
    clients = [];
  });

  const open = (sceneId: string, token: string) => {
    const opened = openWatched(app().wsUrl, sceneId, token);
    clients.push(opened.client);
    return opened;
  };
  /** A script with `count` scenes, the editor a collaborator; returns the ids. */
  const newScript = async (count: number) => {
    const scriptId = (await request(app(), 'POST', '/api/scripts', { token: ownerToken, body: { title: 'Deletions' } })).body.scriptUUID as string;
    await db().prisma.scriptCollaborator.create({ data: { scriptId, userId: editor, role: 'editor' } });
    const sceneIds: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const added = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes`, { token: ownerToken, body: { heading: `INT. ${i}` } });
      sceneIds.push(added.body.scene.sceneUUID);
    }
    return { scriptId, sceneIds };
  };
  const storedText = async (sceneId: string) => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, replayUpdates(await app().sceneLog.load(sceneId)).state);
    return textOf(doc);
  };
  const livePositions = async (scriptId: string) =>
    (await db().prisma.scene.findMany({ where: { scriptId, deletedAt: null }, orderBy: { position: 'asc' } })).map((scene) => [scene.sceneId, scene.position]);

  it('ends open connections to a deleted scene with scene-deleted and refuses new ones; the log keeps what was acknowledged', async () => {
    const { scriptId, sceneIds } = await newScript(3);
    const sceneId = sceneIds[1]!;
    const writer = open(sceneId, editorToken);
    const other = open(sceneIds[0]!, editorToken);
    expect(await writer.outcome).toMatchObject({ ok: true });
    expect(await other.outcome).toMatchObject({ ok: true });
    await waitForSynced(writer.client);
    typeInto(writer.client.doc, 'kept');
    await waitForAcked(writer.client);
    const ended = await counterValue(app().metrics.connectionsEnded, { reason: 'scene-deleted' });

    const deleted = await request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${sceneId}`, { token: ownerToken });
    expect(deleted.status).toBe(200);
    expect(deleted.body.scene).toMatchObject({ sceneUUID: sceneId, sceneIndex: null });
    expect(deleted.body.scenes.map((scene: { sceneUUID: string }) => scene.sceneUUID)).toEqual([sceneIds[0], sceneIds[2]]);
    expect(Date.parse(deleted.body.restorable_until) - Date.parse(deleted.body.scene.deleted_at)).toBe(30 * DAY_MS);
    expect(await livePositions(scriptId)).toEqual([
      [sceneIds[0], 0],
      [sceneIds[2], 1],
    ]);

    await waitFor(() => writer.closes.some((close) => close.reason.startsWith('scene-deleted: ')), 'the connection to the deleted scene to be ended');
    // A document connection's close message carries the reason only (Hocuspocus's CloseMessage); 4410 is
    // the code a caller that closes a whole socket over this refusal uses, and 410 the HTTP API's status.
    expect(CONNECTION_REFUSALS['scene-deleted']).toEqual({ closeCode: 4410, httpStatus: 410 });
    expect(await counterValue(app().metrics.connectionsEnded, { reason: 'scene-deleted' })).toBe(ended + 1);
    // Nothing typed afterwards reaches the log.
    typeInto(writer.client.doc, ' lost');
    // The connection to another scene of the script stays.
    typeInto(other.client.doc, 'still here');
    await waitForAcked(other.client);
    expect(other.closes).toEqual([]);
    expect(await storedText(sceneId)).toBe('<paragraph>kept</paragraph>');

    const again = open(sceneId, ownerToken);
    const outcome = await again.outcome;
    expect(outcome.ok).toBe(false);
    expect((outcome as { reason: string }).reason).toMatch(/^scene-deleted: scene .* was deleted; the script's owner or an editor can restore it$/);
  });

  it('answers REST reads and writes of a deleted scene with 410 SCENE_DELETED, a stranger with 403, and leaves it out of listings', async () => {
    const { scriptId, sceneIds } = await newScript(2);
    const sceneId = sceneIds[0]!;
    await request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${sceneId}`, { token: ownerToken });
    for (const [method, path, body] of [
      ['GET', `/api/scenes/${sceneId}`],
      ['GET', `/api/scenes/${sceneId}/versions`],
      ['GET', `/api/scenes/${sceneId}/labels`],
      ['PATCH', `/api/scenes/${sceneId}/content`, { blocks: [] }],
      ['POST', `/api/scenes/${sceneId}/labels`, { name: 'x' }],
    ] as const) {
      const response = await request(app(), method, path, { token: editorToken, body });
      expect([method, path, response.status, response.body?.code]).toEqual([method, path, 410, 'SCENE_DELETED']);
    }
    const stranger = await request(app(), 'GET', `/api/scenes/${sceneId}`, { token: strangerToken });
    expect([stranger.status, stranger.body.code]).toEqual([403, 'NO_ACCESS']);

    const listed = await request(app(), 'GET', `/api/scripts/${scriptId}/scenes`, { token: editorToken });
    expect(listed.body.scenes.map((scene: { sceneUUID: string; sceneIndex: number }) => [scene.sceneUUID, scene.sceneIndex])).toEqual([[sceneIds[1], 0]]);
    const script = await request(app(), 'GET', `/api/scripts/${scriptId}`, { token: editorToken });
    expect(script.body.scene_count).toBe(1);
    const deletedList = await request(app(), 'GET', `/api/scripts/${scriptId}/deleted-scenes`, { token: editorToken });
    expect(deletedList.body).toMatchObject({ retention_days: 30, scenes: [{ sceneUUID: sceneId, sceneIndex: null, slugline: 'INT. 0' }] });

    const twice = await request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${sceneId}`, { token: ownerToken });
    expect([twice.status, twice.body.code]).toEqual([410, 'SCENE_DELETED']);
    const move = await request(app(), 'PATCH', `/api/scripts/${scriptId}/scenes/${sceneId}`, { token: ownerToken, body: { position: 0 } });
    expect([move.status, move.body.code]).toEqual([410, 'SCENE_DELETED']);
  });

  it('restores a deleted scene at the end or at a position, positions dense, and it opens with its log as it was', async () => {
    const { scriptId, sceneIds } = await newScript(4);
    const writer = open(sceneIds[2]!, editorToken);
    await waitForSynced(writer.client);
    typeInto(writer.client.doc, 'before the delete');
    await waitForAcked(writer.client);
    writer.client.destroy();

    await request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${sceneIds[2]}`, { token: ownerToken });
    await request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${sceneIds[0]}`, { token: editorToken });
    expect(await livePositions(scriptId)).toEqual([
      [sceneIds[1], 0],
      [sceneIds[3], 1],
    ]);

    const atEnd = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes/${sceneIds[2]}/restore`, { token: editorToken });
    expect(atEnd.status).toBe(200);
    expect(atEnd.body.scene).toMatchObject({ sceneUUID: sceneIds[2], sceneIndex: 2, deleted_at: null });
    const atStart = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes/${sceneIds[0]}/restore`, { token: ownerToken, body: { position: 0 } });
    expect(atStart.body.scenes.map((scene: { sceneUUID: string }) => scene.sceneUUID)).toEqual([sceneIds[0], sceneIds[1], sceneIds[3], sceneIds[2]]);
    expect(await livePositions(scriptId)).toEqual([
      [sceneIds[0], 0],
      [sceneIds[1], 1],
      [sceneIds[3], 2],
      [sceneIds[2], 3],
    ]);

    const reader = open(sceneIds[2]!, ownerToken);
    expect(await reader.outcome).toMatchObject({ ok: true });
    await waitForSynced(reader.client);
    expect(textOf(reader.client.doc)).toBe('<paragraph>before the delete</paragraph>');
    const read = await request(app(), 'GET', `/api/scenes/${sceneIds[2]}`, { token: editorToken });
    expect(read.status).toBe(200);

    const notDeleted = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes/${sceneIds[2]}/restore`, { token: ownerToken });
    expect([notDeleted.status, notDeleted.body.code]).toEqual([409, 'SCENE_NOT_DELETED']);
    await request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${sceneIds[1]}`, { token: ownerToken });
    for (const [body, status, code] of [
      [{ position: 4 }, 400, 'POSITION_OUT_OF_RANGE'],
      [{ position: -1 }, 400, 'BAD_REQUEST'],
      [{ at: 0 }, 400, 'BAD_REQUEST'],
    ] as const) {
      const refused = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes/${sceneIds[1]}/restore`, { token: ownerToken, body });
      expect([refused.status, refused.body.code]).toEqual([status, code]);
    }
    const broken = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes/${sceneIds[1]}/restore`, { token: ownerToken, rawBody: '{', contentType: 'application/json' });
    expect([broken.status, broken.body.code]).toEqual([400, 'INVALID_JSON']);
  });

  it('refuses a restore after the retention period; the retention job then purges the scene with its log, and nothing younger', async () => {
    const { scriptId, sceneIds } = await newScript(3);
    const writer = open(sceneIds[0]!, ownerToken);
    await waitForSynced(writer.client);
    typeInto(writer.client.doc, 'doomed');
    await waitForAcked(writer.client);
    writer.client.destroy();
    await request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${sceneIds[0]}`, { token: ownerToken });
    await request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${sceneIds[1]}`, { token: ownerToken });
    // The first deletion is 31 days old, the second 29: one past SCENE_DELETE_RETENTION_DAYS (30), one not.
    await db().prisma.$executeRaw`UPDATE scenes SET deleted_at = now() - interval '31 days' WHERE scene_id = ${sceneIds[0]}::uuid`;
    await db().prisma.$executeRaw`UPDATE scenes SET deleted_at = now() - interval '29 days' WHERE scene_id = ${sceneIds[1]}::uuid`;
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: sceneIds[0] } })).toBeGreaterThan(0);

    const late = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes/${sceneIds[0]}/restore`, { token: ownerToken });
    expect([late.status, late.body.code]).toEqual([410, 'SCENE_NOT_RESTORABLE']);

    const job = retentionJob({ sql: db().database.sql, logger: silentLogger(), intervalMs: 0, retentionMs: 30 * DAY_MS, batchSize: 100, sceneDeleteRetentionMs: 30 * DAY_MS });
    const summary = await job.run({ signal: new AbortController().signal, progress: () => undefined, pace: async () => undefined });
    expect(summary.deletedScenesPurged).toBe(1);
    expect(await db().prisma.scene.findUnique({ where: { sceneId: sceneIds[0] } })).toBeNull();
    expect(await db().prisma.sceneVersion.count({ where: { sceneId: sceneIds[0] } })).toBe(0);
    expect(await db().prisma.sceneLogHead.count({ where: { sceneId: sceneIds[0] } })).toBe(0);
    expect(await db().prisma.scene.findUnique({ where: { sceneId: sceneIds[1] } })).not.toBeNull();
    expect(await livePositions(scriptId)).toEqual([[sceneIds[2], 0]]);

    const purged = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes/${sceneIds[0]}/restore`, { token: ownerToken });
    expect([purged.status, purged.body.code]).toEqual([404, 'UNKNOWN_SCENE']);
    const younger = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes/${sceneIds[1]}/restore`, { token: ownerToken, body: { position: 0 } });
    expect(younger.status).toBe(200);
    expect(await livePositions(scriptId)).toEqual([
      [sceneIds[1], 0],
      [sceneIds[2], 1],
    ]);
    const gone = await request(app(), 'GET', `/api/scenes/${sceneIds[0]}`, { token: ownerToken });
    expect([gone.status, gone.body.code]).toEqual([404, 'UNKNOWN_SCENE']);
  });
});
