import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { RunningApp } from '../../src/server/app.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { tokenFor } from '../helpers/auth.ts';
import { waitFor, waitForAcked, waitForSynced, type ConnectOptions, type TestClient } from '../helpers/clients.ts';
import { captureExpectedConsoleErrors } from '../helpers/console.ts';
import { textOf } from '../helpers/documents.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { counterValue } from '../helpers/metrics.ts';
import { describeEachServer, startTestServer } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';
import { closeReasons, openScene } from './support.ts';

/** Open connections are checked often in these tests, so each waits a fraction of a second, not seconds. */
const WATCH_ENV = { AUTH_RECHECK_INTERVAL_MS: '100', AUTH_TOKEN_REFRESH_LEAD_MS: '3000' };

/** Tokens that expire within this many seconds (their `exp` has a resolution of one second). */
const SHORT_TTL_SECONDS = 2;

/**
 * Tokens that are renewed: the server asks for the next one half-way through (about 3 s before
 * `exp`), which leaves a loaded machine seconds to sign and verify it.
 */
const RENEWED_TTL_SECONDS = 6;

/** The scene the log replays to, as `textOf` gives it. */
async function storedText(app: RunningApp, sceneId: string): Promise<string> {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, replayUpdates(await app.sceneLog.load(sceneId)).state);
  return textOf(doc);
}

/** `textOf` a scene whose one paragraph holds `text` (what `typeInto` types). */
const paragraph = (text: string) => `<paragraph>${text}</paragraph>`;

function reasonStartingWith(reasons: string[], code: string): string | undefined {
  return reasons.find((reason) => reason.startsWith(`${code}: `));
}

describeEachServer('open connections: tokens that expire, tokens that are refreshed', { env: WATCH_ENV }, ({ db, app }) => {
  captureExpectedConsoleErrors();
  let clients: TestClient[] = [];
  let owner: string;

  /** A scene of its own for each test, in a script the owner owns. */
  const newScene = async () => (await createScript(db().prisma, { ownerId: owner })).sceneIds[0]!;
  const open = (sceneId: string, token: ConnectOptions['token']) => {
    const opened = openScene(app().wsUrl, sceneId, token);
    clients.push(opened.client);
    return opened;
  };

  beforeAll(async () => {
    owner = await createUser(db().prisma);
  });
  afterEach(() => {
    for (const client of clients) client.destroy();
    clients = [];
  });

  it('ends a connection whose token expired with token-expired, and stores nothing it sends afterwards', async () => {
    const sceneId = await newScene();
    const { client, outcome } = open(sceneId, await tokenFor(owner, { ttlSeconds: SHORT_TTL_SECONDS }));
    const reasons = closeReasons(client.provider);
    expect(await outcome).toMatchObject({ ok: true });
    await waitForSynced(client);
    typeInto(client.doc, 'before');
    await waitForAcked(client);
    const ended = await counterValue(app().metrics.connectionsEnded, { reason: 'token-expired' });

    await waitFor(() => reasonStartingWith(reasons, 'token-expired') !== undefined, 'the connection to be ended with token-expired');
    expect(reasonStartingWith(reasons, 'token-expired')).toMatch(/^token-expired: the token expired at .*; send a fresh token and connect again$/);
    expect(await counterValue(app().metrics.connectionsEnded, { reason: 'token-expired' })).toBe(ended + 1);

    typeInto(client.doc, ' after');
    // A second editor that connects afterwards sees what the server holds.
    const { client: reader } = open(sceneId, await tokenFor(owner));
    await waitForSynced(reader);
    expect(textOf(reader.doc)).toBe(paragraph('before'));
    expect(await storedText(app(), sceneId)).toBe(paragraph('before'));
    expect(client.provider.hasUnsyncedChanges).toBe(true);
  });

  it('asks a provider with a token function for a fresh token before exp, and keeps it writing across several expiries', async () => {
    const sceneId = await newScene();
    let issued = 0;
    const { client, outcome } = open(sceneId, async () => {
      issued += 1;
      return tokenFor(owner, { ttlSeconds: RENEWED_TTL_SECONDS });
    });
    const reasons = closeReasons(client.provider);
    expect(await outcome).toMatchObject({ ok: true });
    await waitForSynced(client);
    const extended = await counterValue(app().metrics.tokenRefreshes, { result: 'extended' });

    // Sized by refreshes, not by time: write until the server has asked for three fresh tokens, each
    // of which outlives the one before it.
    let typed = '';
    for (let i = 0; issued < 4; i += 1) {
      const word = `w${i} `;
      typeInto(client.doc, word);
      typed += word;
      await waitForAcked(client);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // The third fresh token has left the provider; the server counts it once it has read and checked it.
    await waitFor(async () => (await counterValue(app().metrics.tokenRefreshes, { result: 'extended' })) >= extended + 3, 'the server to take three fresh tokens');
    expect(reasons).toEqual([]);
    expect(await storedText(app(), sceneId)).toBe(paragraph(typed));
  });

  it('takes a token the provider sends on its own (sendToken), and ends the connection for a token of another user', async () => {
    const sceneId = await newScene();
    let next = await tokenFor(owner, { ttlSeconds: 3600 });
    const { client, outcome } = open(sceneId, () => next);
    const reasons = closeReasons(client.provider);
    expect(await outcome).toMatchObject({ ok: true });
    await waitForSynced(client);

    const unchanged = await counterValue(app().metrics.tokenRefreshes, { result: 'unchanged' });
    await client.provider.sendToken();
    await waitFor(async () => (await counterValue(app().metrics.tokenRefreshes, { result: 'unchanged' })) === unchanged + 1, 'the same token to change nothing');

    const extended = await counterValue(app().metrics.tokenRefreshes, { result: 'extended' });
    next = await tokenFor(owner, { ttlSeconds: 7200 });
    await client.provider.sendToken();
    await waitFor(async () => (await counterValue(app().metrics.tokenRefreshes, { result: 'extended' })) === extended + 1, 'a later exp to extend the connection');
    typeInto(client.doc, 'still mine');
    await waitForAcked(client);
    expect(reasons).toEqual([]);

    next = await tokenFor(await createUser(db().prisma));
    await client.provider.sendToken();
    await waitFor(() => reasonStartingWith(reasons, 'invalid-token') !== undefined, 'a token of another user to end the connection');
    expect(reasonStartingWith(reasons, 'invalid-token')).toContain('another user');
    expect(await storedText(app(), sceneId)).toBe(paragraph('still mine'));
  });

  it('loses nothing when an editor typing through an expiry gets a fresh token and connects again, as the page does', async () => {
    const sceneId = await newScene();
    let current = await tokenFor(owner, { ttlSeconds: SHORT_TTL_SECONDS });
    // The token function hands out the short token until the connection ends, like a page whose
    // refresh failed once; then, told `token-expired`, the page fetches a fresh one and reconnects.
    const { client, outcome } = open(sceneId, () => current);
    expect(await outcome).toMatchObject({ ok: true });
    await waitForSynced(client);
    let ended = 0;
    client.provider.on('close', ({ event }: { event: { reason: string } }) => {
      if (!event.reason.startsWith('token-expired: ')) return;
      ended += 1;
      void tokenFor(owner, { ttlSeconds: 3600 }).then((fresh) => {
        current = fresh;
        client.socket.webSocket?.close();
      });
    });

    let typed = '';
    for (let i = 0; ended === 0 || i < 40; i += 1) {
      const word = `k${i} `;
      typeInto(client.doc, word);
      typed += word;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(ended).toBe(1);
    await waitFor(() => client.provider.isSynced && !client.provider.hasUnsyncedChanges, 'the reconnected editor to have everything stored', 20_000);
    expect(await storedText(app(), sceneId)).toBe(paragraph(typed));
  });
});

describeEachServer('open connections: access that changes while they are open', { env: WATCH_ENV }, ({ db, app }) => {
  captureExpectedConsoleErrors();
  let clients: TestClient[] = [];
  let scriptId: string;
  let sceneId: string;

  const collaborator = async (role: 'editor' | 'viewer') => {
    const userId = await createUser(db().prisma);
    await db().prisma.scriptCollaborator.create({ data: { scriptId, userId, role } });
    return userId;
  };
  const openAs = async (userId: string) => {
    const opened = openScene(app().wsUrl, sceneId, await tokenFor(userId));
    clients.push(opened.client);
    const reasons = closeReasons(opened.client.provider);
    expect(await opened.outcome).toMatchObject({ ok: true });
    await waitForSynced(opened.client);
    return { client: opened.client, reasons };
  };

  beforeAll(async () => {
    const fixture = await createScript(db().prisma);
    scriptId = fixture.scriptId;
    sceneId = fixture.sceneIds[0]!;
  });
  afterEach(() => {
    for (const client of clients) client.destroy();
    clients = [];
  });

  it('ends the connection of a collaborator who is removed, with no-access', async () => {
    const editor = await collaborator('editor');
    const { client, reasons } = await openAs(editor);
    typeInto(client.doc, 'x');
    await waitForAcked(client);
    await db().prisma.scriptCollaborator.delete({ where: { scriptId_userId: { scriptId, userId: editor } } });
    await waitFor(() => reasonStartingWith(reasons, 'no-access') !== undefined, 'the removed collaborator to be ended with no-access');
  });

  it('ends an editor made a viewer with access-changed; connecting again gives a read-only connection', async () => {
    const editor = await collaborator('editor');
    const { client, reasons } = await openAs(editor);
    await db().prisma.scriptCollaborator.update({ where: { scriptId_userId: { scriptId, userId: editor } }, data: { role: 'viewer' } });
    await waitFor(() => reasonStartingWith(reasons, 'access-changed') !== undefined, 'the downgraded editor to be told access-changed');
    expect(reasonStartingWith(reasons, 'access-changed')).toContain('viewer');

    let scope: string | null = null;
    client.provider.on('authenticated', ({ scope: granted }: { scope: string }) => (scope = granted));
    client.socket.webSocket?.close();
    await waitFor(() => scope !== null, 'the editor to connect again');
    expect(scope).toBe('readonly');
  });

  it('ends a viewer made an editor with access-changed, so it can connect again to write', async () => {
    const viewer = await collaborator('viewer');
    const { reasons } = await openAs(viewer);
    await db().prisma.scriptCollaborator.update({ where: { scriptId_userId: { scriptId, userId: viewer } }, data: { role: 'editor' } });
    await waitFor(() => reasonStartingWith(reasons, 'access-changed') !== undefined, 'the promoted viewer to be told access-changed');
    expect(reasonStartingWith(reasons, 'access-changed')).toContain('may now edit');
  });

  it('ends the connection of a user who is deleted, with unknown-user, and leaves everyone else connected', async () => {
    const doomed = await collaborator('editor');
    const staying = await collaborator('editor');
    const { reasons } = await openAs(doomed);
    const other = await openAs(staying);
    await db().prisma.user.delete({ where: { userId: doomed } });
    await waitFor(() => reasonStartingWith(reasons, 'unknown-user') !== undefined, 'the deleted user to be ended with unknown-user');
    typeInto(other.client.doc, 'carry on');
    await waitForAcked(other.client);
    expect(other.reasons).toEqual([]);
  });
});

describe('open connections on two instances sharing one database and Redis', () => {
  captureExpectedConsoleErrors();
  let db: TestDatabase;
  let instances: RunningApp[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const env = { ...WATCH_ENV, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `wr-test-${randomUUID()}` };
    instances = await Promise.all([startTestServer(db, env), startTestServer(db, env)]);
  });
  afterAll(async () => {
    for (const client of clients) client.destroy();
    await Promise.all(instances.map((instance) => instance.stop()));
    await db.close();
  });

  it('ends a removed collaborator on every instance', async () => {
    const { scriptId, sceneIds } = await createScript(db.prisma, { scenes: 2 });
    const editor = await createUser(db.prisma);
    await db.prisma.scriptCollaborator.create({ data: { scriptId, userId: editor, role: 'editor' } });
    const opened = await Promise.all(
      instances.flatMap((instance) =>
        sceneIds.map(async (sceneId) => {
          const { client, outcome } = openScene(instance.wsUrl, sceneId, await tokenFor(editor));
          clients.push(client);
          const reasons = closeReasons(client.provider);
          expect(await outcome).toMatchObject({ ok: true });
          return reasons;
        }),
      ),
    );
    await db.prisma.scriptCollaborator.delete({ where: { scriptId_userId: { scriptId, userId: editor } } });
    await waitFor(() => opened.every((reasons) => reasonStartingWith(reasons, 'no-access') !== undefined), 'every connection of the removed collaborator to be ended');
    for (const instance of instances) expect(await counterValue(instance.metrics.connectionsEnded, { reason: 'no-access' })).toBe(sceneIds.length);
  });
});
