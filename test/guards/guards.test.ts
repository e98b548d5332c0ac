import { afterEach, beforeAll, expect, it } from 'vitest';
import * as Y from 'yjs';
import { replayUpdates } from '../../src/log/replay.ts';
import { CURRENT_EDITOR, type TestClient, waitFor, waitForAcked, waitForSynced } from '../helpers/clients.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { foreignRow, storedOnceProblem } from '../helpers/logContent.ts';
import { describeEachServer } from '../helpers/server.ts';
import { captureExpectedConsoleErrors, HOOK_REFUSALS, OVERSIZE_FRAME_ERRORS } from '../helpers/console.ts';
import { counterValue } from '../helpers/metrics.ts';
import { typeInto, typingUpdates } from '../helpers/typing.ts';
import { tokenFor } from '../helpers/auth.ts';
import { textOf } from '../helpers/documents.ts';
import { closeReasons, openScene } from '../auth/support.ts';
import { frames, RawClient, SYNC, type ServerMessage } from './frames.ts';

const MAX_UPDATE_BYTES = 4096;
const PER_MINUTE = 40;

const isClose = (m: ServerMessage): m is Extract<ServerMessage, { type: 'close' }> => m.type === 'close';

const GUARDS_ENV = { MAX_UPDATE_BYTES: String(MAX_UPDATE_BYTES), RATE_LIMIT_UPDATES_PER_MINUTE: String(PER_MINUTE) };

describeEachServer('update guards', { env: GUARDS_ENV }, ({ db, app }) => {
  // Every refusal below is also reported by Hocuspocus on the console, the oversize frame by the socket layer.
  captureExpectedConsoleErrors([...HOOK_REFUSALS, ...OVERSIZE_FRAME_ERRORS]);
  let clients: TestClient[] = [];
  let raws: RawClient[] = [];
  let owner: string;
  let editor: string;

  const open = async (scene: string, userId: string) => {
    const opened = openScene(app().wsUrl, scene, await tokenFor(userId));
    clients.push(opened.client);
    expect(await opened.outcome).toEqual({ ok: true, scope: 'read-write' });
    await waitForSynced(opened.client);
    return opened.client;
  };
  const raw = () => {
    const client = new RawClient(app().wsUrl, CURRENT_EDITOR);
    raws.push(client);
    return client;
  };
  const newScene = async () => {
    const { sceneIds, scriptId } = await createScript(db().prisma, { ownerId: owner });
    await db().prisma.scriptCollaborator.create({ data: { scriptId, userId: editor, role: 'editor' } });
    return sceneIds[0]!;
  };
  const storedRows = async (sceneId: string) =>
    (await db().prisma.sceneVersion.findMany({ where: { sceneId }, orderBy: { seq: 'asc' }, select: { yjsUpdate: true, compactedCount: true } })).map(
      (row) => ({ update: new Uint8Array(row.yjsUpdate), updateCount: row.compactedCount }),
    );
  const storedUpdates = async (sceneId: string) => (await storedRows(sceneId)).map((row) => row.update);
  const updatesStored = async (sceneId: string) => (await storedRows(sceneId)).reduce((sum, row) => sum + row.updateCount, 0);

  beforeAll(async () => {
    owner = await createUser(db().prisma);
    editor = await createUser(db().prisma);
  });
  afterEach(() => {
    for (const client of clients) client.destroy();
    for (const client of raws) client.close();
    clients = [];
    raws = [];
  });

  it('refuses an oversize update without storing it, without a reconnect loop, and without disturbing the other editor', async () => {
    const scene = await newScene();
    const honest = await open(scene, editor);
    const big = await open(scene, owner);
    const reasons = closeReasons(big.provider);
    let disconnects = 0;
    big.socket.on('disconnect', () => (disconnects += 1));
    const refusedBefore = await counterValue(app().metrics.updatesRefused, { reason: 'too_large' });

    typeInto(honest.doc, 'before ');
    await waitForAcked(honest);
    big.doc.getText('paste').insert(0, 'x'.repeat(MAX_UPDATE_BYTES + 100));
    await waitFor(() => reasons.length > 0, 'the provider reports the refusal');
    expect(reasons[0]).toMatch(/^update-too-large: the update is \d+ bytes; the limit is 4096$/);
    expect(await counterValue(app().metrics.updatesRefused, { reason: 'too_large' })).toBe(refusedBefore + 1);

    typeInto(honest.doc, 'after');
    await waitForAcked(honest);
    await new Promise((resolve) => setTimeout(resolve, 500));
    // The socket stayed open, so the provider did not reconnect and resend the same content.
    expect(disconnects).toBe(0);
    expect(big.socket.status).toBe('connected');
    const stored = await storedUpdates(scene);
    expect(stored.every((update) => update.byteLength <= MAX_UPDATE_BYTES)).toBe(true);
    const fromLog = new Y.Doc();
    for (const update of stored) Y.applyUpdate(fromLog, update);
    expect(fromLog.getText('paste').length).toBe(0);
    expect(textOf(fromLog)).toBe(textOf(honest.doc));
    expect(textOf(honest.doc)).toContain('before after');
  });

  it('refuses malformed updates, including ones that decode but cannot apply, and stores none', async () => {
    const scene = await newScene();
    const honest = await open(scene, editor);
    const honestSent: Uint8Array[] = [];
    honest.doc.on('update', (update: Uint8Array, origin: unknown) => origin !== honest.provider && honestSent.push(update));
    typeInto(honest.doc, 'steady');
    await waitForAcked(honest);
    const storedBefore = await updatesStored(scene);
    const refusedBefore = await counterValue(app().metrics.updatesRefused, { reason: 'malformed' });

    const garbage = new Uint8Array([1, 1, 9, 0, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    // Decodes, but item 7:0's left origin is 7:5, which Yjs looks up and cannot find.
    const selfReference = new Uint8Array([1, 1, 7, 0, 0x84, 7, 5, 1, 0x78, 0]);
    for (const [syncType, payload] of [
      [SYNC.Update, garbage],
      [SYNC.Step2, garbage],
      [SYNC.Update, selfReference],
    ] as const) {
      const client = raw();
      expect(await client.authenticate(scene, await tokenFor(editor))).toBe('read-write');
      client.send(frames.sync(scene, syncType, payload));
      const closed = await client.next(isClose);
      expect(closed.reason).toMatch(/^malformed-update: /);
      // The socket stays open: only that document connection was closed.
      expect(client.closed).toBeNull();
    }
    expect(await counterValue(app().metrics.updatesRefused, { reason: 'malformed' })).toBe(refusedBefore + 3);

    typeInto(honest.doc, ' on');
    await waitForAcked(honest);
    expect(await updatesStored(scene)).toBe(storedBefore + 3);
    expect(foreignRow(await storedRows(scene), honestSent)).toBeNull();
    expect(honest.provider.isSynced).toBe(true);
  });

  it('rate-limits a connection: stores exactly the updates before the limit and closes the socket with 4429', async () => {
    const scene = await newScene();
    const client = raw();
    expect(await client.authenticate(scene, await tokenFor(editor))).toBe('read-write');
    const updates = typingUpdates(PER_MINUTE + 20);
    for (const update of updates) client.send(frames.sync(scene, SYNC.Update, update));
    const closed = await client.closedPromise;
    expect(closed.code).toBe(4429);
    expect(closed.reason).toMatch(/^rate-limited: more than 40 updates per minute/);

    // The first PER_MINUTE updates, each once, and nothing after the refusal: no gap in the log.
    const stored = await storedRows(scene);
    expect(storedOnceProblem(stored, updates.slice(0, PER_MINUTE))).toBeNull();
    expect(replayUpdates(await app().sceneLog.load(scene)).hasGap).toBe(false);
    expect(await counterValue(app().metrics.updatesRefused, { reason: 'rate_limited' })).toBeGreaterThanOrEqual(1);
  });

  it('an honest burst over the rate limit heals itself: the provider reconnects and resends', async () => {
    const scene = await newScene();
    const fast = await open(scene, editor);
    const codes: number[] = [];
    fast.socket.on('disconnect', ({ event }: { event: { code: number } }) => codes.push(event.code));
    typeInto(fast.doc, 'x'.repeat(PER_MINUTE + 30));
    await waitFor(() => codes.includes(4429), 'rate limit closes the socket');
    await waitForAcked(fast, 20_000);
    const fromLog = new Y.Doc();
    for (const update of await storedUpdates(scene)) Y.applyUpdate(fromLog, update);
    expect(textOf(fromLog)).toBe(textOf(fast.doc));
  });

  it('a frame larger than the socket limit closes only that socket; the server and other editors carry on', async () => {
    const scene = await newScene();
    const honest = await open(scene, editor);
    const client = raw();
    expect(await client.authenticate(scene, await tokenFor(editor))).toBe('read-write');
    client.send(frames.sync(scene, SYNC.Update, new Uint8Array(MAX_UPDATE_BYTES + 8192)));
    expect((await client.closedPromise).code).toBe(1009);
    typeInto(honest.doc, 'still here');
    await waitForAcked(honest);
    expect(textOf(honest.doc)).toContain('still here');
  });

  it('refuses an update from a read-only connection without closing it, and counts it', async () => {
    const scene = await newScene();
    const viewer = await createUser(db().prisma);
    const scriptId = (await db().prisma.scene.findUniqueOrThrow({ where: { sceneId: scene } })).scriptId;
    await db().prisma.scriptCollaborator.create({ data: { scriptId, userId: viewer, role: 'viewer' } });
    const client = raw();
    expect(await client.authenticate(scene, await tokenFor(viewer))).toBe('readonly');
    const before = await counterValue(app().metrics.updatesRefused, { reason: 'read_only' });
    client.send(frames.sync(scene, SYNC.Update, typingUpdates(1)[0]!));
    const status = await client.next((m): m is Extract<ServerMessage, { type: 'sync-status' }> => m.type === 'sync-status');
    expect(status.applied).toBe(false);
    expect(await counterValue(app().metrics.updatesRefused, { reason: 'read_only' })).toBe(before + 1);
    expect(client.messages.some(isClose)).toBe(false);
    expect(await storedUpdates(scene)).toEqual([]);
  });
});
