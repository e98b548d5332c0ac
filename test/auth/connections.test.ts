import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { secretKey } from '../../src/auth/tokens.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { SCREENPLAY_SCHEMA_VERSION } from '../../src/screenplay/schema.ts';
import { waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { captureExpectedConsoleErrors } from '../helpers/console.ts';
import { counterValue } from '../helpers/metrics.ts';
import { TEST_JWT_AUDIENCE, TEST_JWT_ISSUER, TEST_JWT_SECRET, tokenFor } from '../helpers/auth.ts';
import { typeInto } from '../helpers/typing.ts';
import { textOf } from '../helpers/documents.ts';
import { openScene } from './support.ts';

describeEachServer('who may open a scene', ({ db, app }) => {
  // Every refusal below is also reported by Hocuspocus on the console.
  captureExpectedConsoleErrors();
  let clients: TestClient[] = [];
  let owner: string;
  let scriptId: string;
  let sceneId: string;

  const open = (scene: string, token: string, options = {}) => {
    const opened = openScene(app().wsUrl, scene, token, options);
    clients.push(opened.client);
    return opened;
  };
  const reasonFor = async (scene: string, token: string, options = {}) => {
    const outcome = await open(scene, token, options).outcome;
    return outcome.ok ? `ok ${outcome.scope}` : outcome.reason;
  };
  const addCollaborator = async (role: 'editor' | 'viewer', toScript = scriptId) => {
    const userId = await createUser(db().prisma);
    await db().prisma.scriptCollaborator.create({ data: { scriptId: toScript, userId, role } });
    return userId;
  };
  const loadText = async (scene: string) => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, replayUpdates(await app().sceneLog.load(scene)).state);
    return textOf(doc);
  };

  beforeAll(async () => {
    ({ userId: owner, scriptId, sceneIds: [sceneId] } = (await createScript(db().prisma)) as { userId: string; scriptId: string; sceneIds: [string] });
  });
  afterEach(() => {
    for (const client of clients) client.destroy();
    clients = [];
  });

  it('lets the owner in read-write and attributes the stored updates to them', async () => {
    const { client, outcome } = open(sceneId, await tokenFor(owner));
    expect(await outcome).toEqual({ ok: true, scope: 'read-write' });
    await waitForSynced(client);
    typeInto(client.doc, 'owner');
    await waitForAcked(client);
    const authors = await db().prisma.sceneVersion.groupBy({ by: ['createdBy'], where: { sceneId }, _count: true });
    expect(authors.map((a) => a.createdBy)).toEqual([owner]);
  });

  it.each<[string, () => Promise<{ scene?: string; token: string; parameters?: Record<string, string> }>, string]>([
    ['a token signed with another secret', async () => ({ token: await sign({ sub: owner }, secretKey('x'.repeat(40))) }), 'invalid-token: bad signature'],
    ['an expired token', async () => ({ token: await sign({ sub: owner, exp: nowSeconds() - 5 }) }), 'token-expired: '],
    ['a token from another issuer', async () => ({ token: await sign({ sub: owner, iss: 'someone-else' }) }), 'invalid-token: claim "iss"'],
    ['a token for another audience', async () => ({ token: await sign({ sub: owner, aud: 'another-app' }) }), 'invalid-token: claim "aud"'],
    ['a token that is not a JWT', async () => ({ token: 'hello' }), 'invalid-token: '],
    ['an empty token', async () => ({ token: '' }), 'invalid-token: no token was sent'],
    ['a token for a user that does not exist', async () => ({ token: await tokenFor(randomUUID()) }), 'unknown-user: '],
    ['a scene that does not exist', async () => ({ scene: randomUUID(), token: await tokenFor(owner) }), 'unknown-scene: '],
    ['a document name that is not a UUID', async () => ({ scene: 'INT. KITCHEN', token: await tokenFor(owner) }), 'invalid-scene-id: '],
    ['an upper-case scene id', async () => ({ scene: sceneId.toUpperCase(), token: await tokenFor(owner) }), 'invalid-scene-id: '],
    ['a user with no role in the script', async () => ({ token: await tokenFor(await createUser(db().prisma)) }), 'no-access: '],
    [
      'an editor older than the server schema',
      async () => ({ token: await tokenFor(owner), parameters: { schemaVersion: String(SCREENPLAY_SCHEMA_VERSION - 1) } }),
      'outdated-editor: the editor runs screenplay schema',
    ],
    ['an editor that sends no schema version', async () => ({ token: await tokenFor(owner), parameters: {} }), 'outdated-editor: '],
    ['an editor that sends a garbled schema version', async () => ({ token: await tokenFor(owner), parameters: { schemaVersion: 'v2' } }), 'outdated-editor: '],
  ])('refuses %s with a reason the provider reports', async (_name, make, expected) => {
    const { scene, token, parameters } = await make();
    const reason = await reasonFor(scene ?? sceneId, token, parameters ? { parameters } : {});
    expect(reason.startsWith(expected), reason).toBe(true);
  });

  it('refuses a malformed scene id and an outdated editor before verifying the token or reading a row', async () => {
    const before = await counterValue(app().metrics.authTokenVerifications);
    expect(await reasonFor('not-a-scene', await tokenFor(owner))).toMatch(/^invalid-scene-id: /);
    expect(await reasonFor(sceneId, await tokenFor(owner), { parameters: {} })).toMatch(/^outdated-editor: /);
    expect(await counterValue(app().metrics.authTokenVerifications)).toBe(before);
    expect(await counterValue(app().metrics.connectionsRefused, { reason: 'invalid-scene-id' })).toBeGreaterThanOrEqual(1);
  });

  it('accepts a newer editor', async () => {
    const reason = await reasonFor(sceneId, await tokenFor(owner), { parameters: { schemaVersion: String(SCREENPLAY_SCHEMA_VERSION + 1) } });
    expect(reason).toBe('ok read-write');
  });

  it("stores and broadcasts an editor's edits, but neither stores nor broadcasts a viewer's", async () => {
    const { sceneIds, scriptId: otherScript } = await createScript(db().prisma, { ownerId: owner });
    const scene = sceneIds[0]!;
    const editorId = await addCollaborator('editor', otherScript);
    const viewerId = await addCollaborator('viewer', otherScript);

    const editor = open(scene, await tokenFor(editorId));
    const viewer = open(scene, await tokenFor(viewerId));
    const watcher = open(scene, await tokenFor(owner));
    expect(await editor.outcome).toEqual({ ok: true, scope: 'read-write' });
    expect(await viewer.outcome).toEqual({ ok: true, scope: 'readonly' });
    await Promise.all([editor, viewer, watcher].map((c) => waitForSynced(c.client)));

    typeInto(editor.client.doc, 'EDITOR');
    await waitForAcked(editor.client);
    await waitFor(() => textOf(watcher.client.doc).includes('EDITOR') && textOf(viewer.client.doc).includes('EDITOR'), 'editor text reaches everyone');

    const refusedBefore = await counterValue(app().metrics.updatesRefused, { reason: 'read_only' });
    const viewerDoc = viewer.client.doc;
    const paragraph = viewerDoc.getXmlFragment('default').get(0) as Y.XmlElement;
    viewerDoc.transact(() => (paragraph.get(0) as Y.XmlText).insert(0, 'VIEWER'));
    // The server answers every viewer update with "not applied", so the viewer never counts as synced.
    await waitFor(async () => (await counterValue(app().metrics.updatesRefused, { reason: 'read_only' })) > refusedBefore, 'viewer update refused');
    // A later edit by the editor reaches the watcher; the viewer's, sent before it, still has not.
    typeInto(editor.client.doc, '!');
    await waitForAcked(editor.client);
    await waitFor(() => textOf(watcher.client.doc).includes('EDITOR!'), 'later editor edit arrives');
    expect(textOf(watcher.client.doc)).not.toContain('VIEWER');
    expect(textOf(editor.client.doc)).not.toContain('VIEWER');
    expect(viewer.client.provider.hasUnsyncedChanges).toBe(true);

    const rows = await db().prisma.sceneVersion.findMany({ where: { sceneId: scene }, select: { createdBy: true } });
    expect(new Set(rows.map((r) => r.createdBy))).toEqual(new Set([editorId]));
    expect(await loadText(scene)).not.toContain('VIEWER');
    expect(await loadText(scene)).toContain('EDITOR!');
  });

  it('lets an administrator with no role in the script write, as admin', async () => {
    const adminId = await createUser(db().prisma);
    const { client, outcome } = open(sceneId, await tokenFor(adminId, { admin: true }));
    expect(await outcome).toEqual({ ok: true, scope: 'read-write' });
    await waitForSynced(client);
    typeInto(client.doc, 'admin');
    await waitForAcked(client);
    expect(await db().prisma.sceneVersion.count({ where: { sceneId, createdBy: adminId } })).toBeGreaterThan(0);
  });

  describe('token cache', () => {
    it('a second connection with the same token costs no verification', async () => {
      // A lifetime no other test uses, so this token has never been seen (and cached) before.
      const token = await tokenFor(owner, { ttlSeconds: 4321 });
      const verifiedBefore = await counterValue(app().metrics.authTokenVerifications);
      const hitsBefore = await counterValue(app().metrics.authTokenCacheHits);
      for (let i = 0; i < 3; i += 1) expect(await reasonFor(sceneId, token)).toBe('ok read-write');
      expect(await counterValue(app().metrics.authTokenVerifications)).toBe(verifiedBefore + 1);
      expect(await counterValue(app().metrics.authTokenCacheHits)).toBe(hitsBefore + 2);
    });

    it('an expired token stops working when it expires, long before the cache TTL', async () => {
      const token = await tokenFor(owner, { ttlSeconds: 2 });
      expect(await reasonFor(sceneId, token)).toBe('ok read-write');
      const expiresAt = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAt - Date.now()) + 50));
      expect(await reasonFor(sceneId, token)).toMatch(/^token-expired: /);
    });

    it('a cached token stops working at once when its access is revoked or its user deleted', async () => {
      const editorId = await addCollaborator('editor');
      const token = await tokenFor(editorId);
      expect(await reasonFor(sceneId, token)).toBe('ok read-write');
      const hitsBefore = await counterValue(app().metrics.authTokenCacheHits);

      await db().prisma.scriptCollaborator.update({ where: { scriptId_userId: { scriptId, userId: editorId } }, data: { role: 'viewer' } });
      expect(await reasonFor(sceneId, token)).toBe('ok readonly');
      await db().prisma.scriptCollaborator.delete({ where: { scriptId_userId: { scriptId, userId: editorId } } });
      expect(await reasonFor(sceneId, token)).toMatch(/^no-access: /);
      await db().prisma.user.delete({ where: { userId: editorId } });
      expect(await reasonFor(sceneId, token)).toMatch(/^unknown-user: /);
      // All three answers came with the token served from the cache: revocation does not wait for the TTL.
      expect(await counterValue(app().metrics.authTokenCacheHits)).toBe(hitsBefore + 3);
    });
  });
});

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Signs arbitrary claims (defaults: this server's issuer and audience, one hour). */
function sign(claims: Record<string, unknown>, key = secretKey(TEST_JWT_SECRET)): Promise<string> {
  return new SignJWT({ iss: TEST_JWT_ISSUER, aud: TEST_JWT_AUDIENCE, exp: nowSeconds() + 3600, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(key);
}
