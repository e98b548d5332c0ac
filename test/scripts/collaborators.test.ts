import { afterEach, beforeAll, expect, it } from 'vitest';
import { tokenFor } from '../helpers/auth.ts';
import { waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { captureExpectedConsoleErrors } from '../helpers/console.ts';
import { createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';
import { request } from '../http/support.ts';
import { openWatched } from './support.ts';

/** Open connections are checked again every 100 ms here. */
const WATCH_ENV = { AUTH_RECHECK_INTERVAL_MS: '100' };

describeEachServer('HTTP collaborators: owner only, by email; removed and downgraded users lose their open connections', { env: WATCH_ENV }, ({ db, app }) => {
  captureExpectedConsoleErrors();
  let owner: string;
  let ownerToken: string;
  let clients: TestClient[] = [];
  let counter = 0;

  beforeAll(async () => {
    owner = await createUser(db().prisma, 'owner@example.test');
    ownerToken = await tokenFor(owner);
  });
  afterEach(() => {
    for (const client of clients) client.destroy();
    clients = [];
  });

  /** A user with a fresh email, and a token for them. */
  const newPerson = async () => {
    counter += 1;
    const email = `Writer.${counter}@Example.test`;
    const userId = await createUser(db().prisma, email);
    return { userId, email, token: await tokenFor(userId) };
  };
  const newScript = async () => {
    const scriptId = (await request(app(), 'POST', '/api/scripts', { token: ownerToken, body: { title: 'Shared' } })).body.scriptUUID as string;
    const sceneId = (await request(app(), 'POST', `/api/scripts/${scriptId}/scenes`, { token: ownerToken, body: {} })).body.scene.sceneUUID as string;
    return { scriptId, sceneId };
  };
  const put = (scriptId: string, body: unknown, token = ownerToken) => request(app(), 'PUT', `/api/scripts/${scriptId}/collaborators`, { token, body });
  const open = (sceneId: string, token: string) => {
    const opened = openWatched(app().wsUrl, sceneId, token);
    clients.push(opened.client);
    return opened;
  };

  it('adds a collaborator by email (any case), changes the role, lists and removes them', async () => {
    const { scriptId } = await newScript();
    const person = await newPerson();
    const added = await put(scriptId, { email: person.email.toLowerCase(), role: 'viewer' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ created: true, collaborator: { user_id: person.userId, email: person.email, role: 'viewer' } });
    const changed = await put(scriptId, { email: person.email.toUpperCase(), role: 'editor' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ created: false, collaborator: { user_id: person.userId, role: 'editor' } });
    expect(await db().prisma.scriptCollaborator.findMany({ where: { scriptId }, select: { userId: true, role: true } })).toEqual([{ userId: person.userId, role: 'editor' }]);

    const listed = await request(app(), 'GET', `/api/scripts/${scriptId}/collaborators`, { token: ownerToken });
    expect(listed.body.collaborators).toEqual([{ user_id: person.userId, email: person.email, role: 'editor', created_at: added.body.collaborator.created_at }]);
    // The collaborator sees the script in their list, with their role.
    const mine = await request(app(), 'GET', '/api/scripts', { token: person.token });
    expect(mine.body.scripts.find((script: { scriptUUID: string }) => script.scriptUUID === scriptId)).toMatchObject({ role: 'editor' });

    const removed = await request(app(), 'DELETE', `/api/scripts/${scriptId}/collaborators/${encodeURIComponent(person.email)}`, { token: ownerToken });
    expect(removed.status).toBe(200);
    expect(removed.body.removed).toMatchObject({ user_id: person.userId, role: 'editor' });
    expect(await db().prisma.scriptCollaborator.count({ where: { scriptId } })).toBe(0);
    const again = await request(app(), 'DELETE', `/api/scripts/${scriptId}/collaborators/${encodeURIComponent(person.email)}`, { token: ownerToken });
    expect([again.status, again.body.code]).toEqual([404, 'UNKNOWN_COLLABORATOR']);
  });

  it('ends the open connection of a removed collaborator with no-access after the route call', async () => {
    const { scriptId, sceneId } = await newScript();
    const person = await newPerson();
    await put(scriptId, { email: person.email, role: 'editor' });
    const writer = open(sceneId, person.token);
    expect(await writer.outcome).toMatchObject({ ok: true, scope: 'read-write' });
    await waitForSynced(writer.client);
    typeInto(writer.client.doc, 'mine');
    await waitForAcked(writer.client);
    expect(writer.closes).toEqual([]);

    const removed = await request(app(), 'DELETE', `/api/scripts/${scriptId}/collaborators/${encodeURIComponent(person.email)}`, { token: ownerToken });
    expect(removed.status).toBe(200);
    await waitFor(() => writer.closes.some((close) => close.reason.startsWith('no-access: ')), 'the removed collaborator to be ended with no-access');
    const refused = await open(sceneId, person.token).outcome;
    expect(refused).toMatchObject({ ok: false });
    expect((refused as { reason: string }).reason).toMatch(/^no-access: /);
  });

  it('ends the open connection of an editor made a viewer with access-changed; they come back read-only', async () => {
    const { scriptId, sceneId } = await newScript();
    const person = await newPerson();
    await put(scriptId, { email: person.email, role: 'editor' });
    const writer = open(sceneId, person.token);
    expect(await writer.outcome).toMatchObject({ ok: true, scope: 'read-write' });
    await waitForSynced(writer.client);

    expect((await put(scriptId, { email: person.email, role: 'viewer' })).status).toBe(200);
    await waitFor(() => writer.closes.some((close) => close.reason.startsWith('access-changed: ')), 'the downgraded editor to be ended with access-changed');
    const reader = open(sceneId, person.token);
    expect(await reader.outcome).toMatchObject({ ok: true, scope: 'readonly' });
  });

  it('lets only the owner manage collaborators: not an editor, a viewer, an administrator or a stranger', async () => {
    const { scriptId } = await newScript();
    const [editor, viewer, admin, stranger, target] = [await newPerson(), await newPerson(), await newPerson(), await newPerson(), await newPerson()];
    await put(scriptId, { email: editor.email, role: 'editor' });
    await put(scriptId, { email: viewer.email, role: 'viewer' });
    const adminToken = await tokenFor(admin.userId, { admin: true });
    for (const [token, status, code] of [
      [editor.token, 403, 'OWNER_REQUIRED'],
      [viewer.token, 403, 'OWNER_REQUIRED'],
      [adminToken, 403, 'OWNER_REQUIRED'],
      [stranger.token, 403, 'NO_ACCESS'],
    ] as const) {
      for (const [method, path, body] of [
        ['GET', `/api/scripts/${scriptId}/collaborators`],
        ['PUT', `/api/scripts/${scriptId}/collaborators`, { email: target.email, role: 'editor' }],
        ['DELETE', `/api/scripts/${scriptId}/collaborators/${encodeURIComponent(viewer.email)}`],
      ] as const) {
        const response = await request(app(), method, path, { token, body });
        expect([method, response.status, response.body?.code]).toEqual([method, status, code]);
      }
    }
    expect(await db().prisma.scriptCollaborator.count({ where: { scriptId } })).toBe(2);
  });

  it('refuses bad input: unknown email (users are not created here), unknown role, the owner, malformed ids and bodies', async () => {
    const { scriptId } = await newScript();
    const person = await newPerson();
    const usersBefore = await db().prisma.user.count();
    const base = `/api/scripts/${scriptId}/collaborators`;
    for (const [method, path, body, rawBody, status, code] of [
      ['PUT', base, { email: 'nobody@example.test', role: 'editor' }, undefined, 404, 'UNKNOWN_USER_EMAIL'],
      ['PUT', base, { email: person.email, role: 'owner' }, undefined, 400, 'BAD_REQUEST'],
      ['PUT', base, { email: person.email, role: 'admin' }, undefined, 400, 'BAD_REQUEST'],
      ['PUT', base, { email: person.email }, undefined, 400, 'BAD_REQUEST'],
      ['PUT', base, { email: 'not an email', role: 'viewer' }, undefined, 400, 'BAD_REQUEST'],
      ['PUT', base, { email: `${'x'.repeat(320)}@example.test`, role: 'viewer' }, undefined, 400, 'BAD_REQUEST'],
      ['PUT', base, { email: person.email, role: 'viewer', userId: person.userId }, undefined, 400, 'BAD_REQUEST'],
      ['PUT', base, { email: 'owner@example.test', role: 'editor' }, undefined, 409, 'OWNER_NOT_A_COLLABORATOR'],
      ['PUT', base, undefined, '{"email":', 400, 'INVALID_JSON'],
      ['PUT', '/api/scripts/not-a-uuid/collaborators', { email: person.email, role: 'viewer' }, undefined, 400, 'BAD_REQUEST'],
      ['PUT', '/api/scripts/00000000-0000-4000-8000-000000000004/collaborators', { email: person.email, role: 'viewer' }, undefined, 404, 'UNKNOWN_SCRIPT'],
      ['DELETE', `${base}/not-an-email`, undefined, undefined, 400, 'BAD_REQUEST'],
      ['DELETE', `${base}/${encodeURIComponent('nobody@example.test')}`, undefined, undefined, 404, 'UNKNOWN_USER_EMAIL'],
      ['DELETE', `${base}/${encodeURIComponent(person.email)}`, undefined, undefined, 404, 'UNKNOWN_COLLABORATOR'],
      ['GET', '/api/scripts/ABC/collaborators', undefined, undefined, 400, 'BAD_REQUEST'],
    ] as const) {
      const response = await request(app(), method, path, { token: ownerToken, body, rawBody, contentType: rawBody === undefined ? undefined : 'application/json' });
      expect([method, path, body, response.status, response.body?.code]).toEqual([method, path, body, status, code]);
    }
    expect(await db().prisma.user.count()).toBe(usersBefore);
    expect(await db().prisma.scriptCollaborator.count({ where: { scriptId } })).toBe(0);
  });
});
