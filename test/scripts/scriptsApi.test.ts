import { beforeAll, expect, it } from 'vitest';
import { tokenFor } from '../helpers/auth.ts';
import { createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { request } from '../http/support.ts';

describeEachServer('HTTP scripts: create, list, read, rename', ({ db, app }) => {
  let owner: string;
  let ownerToken: string;
  let editorToken: string;
  let viewerToken: string;
  let strangerToken: string;
  let editor: string;
  let viewer: string;

  beforeAll(async () => {
    [owner, editor, viewer] = [await createUser(db().prisma), await createUser(db().prisma), await createUser(db().prisma)];
    ownerToken = await tokenFor(owner);
    editorToken = await tokenFor(editor);
    viewerToken = await tokenFor(viewer);
    strangerToken = await tokenFor(await createUser(db().prisma));
  });

  const createScript = async (body: unknown, token = ownerToken) => request(app(), 'POST', '/api/scripts', { token, body });
  const share = async (scriptId: string) => {
    await db().prisma.scriptCollaborator.createMany({
      data: [
        { scriptId, userId: editor, role: 'editor' },
        { scriptId, userId: viewer, role: 'viewer' },
      ],
    });
  };

  it('creates a script whose owner is the caller, with its title page', async () => {
    const created = await createScript({ title: '  Night Diner  ', title_page: { title: 'NIGHT DINER', author: 'A. Writer', contact: 'a@example.test\n555-0100' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      title: 'Night Diner',
      title_page: { title: 'NIGHT DINER', author: 'A. Writer', contact: 'a@example.test\n555-0100' },
      owner_id: owner,
      role: 'owner',
      scene_count: 0,
    });
    const row = await db().prisma.script.findUniqueOrThrow({ where: { scriptId: created.body.scriptUUID } });
    expect(row.ownerId).toBe(owner);

    const read = await request(app(), 'GET', `/api/scripts/${created.body.scriptUUID}`, { token: ownerToken });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ scriptUUID: created.body.scriptUUID, title: 'Night Diner', role: 'owner', scenes: [] });

    const plain = await createScript({ title: 'No title page' });
    expect(plain.status).toBe(201);
    expect(plain.body.title_page).toBeNull();
  });

  it('lists the scripts I own or collaborate on, each with my role, and no other', async () => {
    const mine = (await createScript({ title: 'Mine' })).body.scriptUUID as string;
    const shared = (await createScript({ title: 'Shared with me' }, strangerToken)).body.scriptUUID as string;
    const other = (await createScript({ title: 'Not shared' }, strangerToken)).body.scriptUUID as string;
    await db().prisma.scriptCollaborator.create({ data: { scriptId: shared, userId: owner, role: 'viewer' } });
    const listed = await request(app(), 'GET', '/api/scripts', { token: ownerToken });
    expect(listed.status).toBe(200);
    const roles = new Map((listed.body.scripts as { scriptUUID: string; role: string }[]).map((script) => [script.scriptUUID, script.role]));
    expect(roles.get(mine)).toBe('owner');
    expect(roles.get(shared)).toBe('viewer');
    expect(roles.has(other)).toBe(false);
    for (const script of listed.body.scripts) expect(Object.keys(script).sort()).toEqual(['created_at', 'owner_id', 'role', 'scene_count', 'scriptUUID', 'title', 'title_page', 'updated_at']);
  });

  it('renames a script and sets or clears its title page: owner or editor, not a viewer or a stranger', async () => {
    const scriptId = (await createScript({ title: 'Draft' })).body.scriptUUID as string;
    await share(scriptId);
    const byOwner = await request(app(), 'PATCH', `/api/scripts/${scriptId}`, { token: ownerToken, body: { title: 'Draft 2' } });
    expect(byOwner.status).toBe(200);
    expect(byOwner.body).toMatchObject({ title: 'Draft 2', title_page: null, role: 'owner' });
    const byEditor = await request(app(), 'PATCH', `/api/scripts/${scriptId}`, { token: editorToken, body: { title_page: { title: 'DRAFT', draft_date: '2026-12-03' } } });
    expect(byEditor.status).toBe(200);
    expect(byEditor.body).toMatchObject({ title: 'Draft 2', title_page: { title: 'DRAFT', draft_date: '2026-12-03' }, role: 'editor' });

    const byViewer = await request(app(), 'PATCH', `/api/scripts/${scriptId}`, { token: viewerToken, body: { title: 'Mine now' } });
    expect(byViewer.status).toBe(403);
    expect(byViewer.body.code).toBe('READ_ONLY');
    const byStranger = await request(app(), 'PATCH', `/api/scripts/${scriptId}`, { token: strangerToken, body: { title: 'Mine now' } });
    expect(byStranger.status).toBe(403);
    expect(byStranger.body.code).toBe('NO_ACCESS');

    const cleared = await request(app(), 'PATCH', `/api/scripts/${scriptId}`, { token: ownerToken, body: { title_page: null } });
    expect(cleared.body).toMatchObject({ title: 'Draft 2', title_page: null });
    const row = await db().prisma.script.findUniqueOrThrow({ where: { scriptId } });
    expect(row).toMatchObject({ title: 'Draft 2', titlePage: null });
  });

  it('refuses bad input with a 400 and a code, and changes nothing', async () => {
    const scriptId = (await createScript({ title: 'Untouched' })).body.scriptUUID as string;
    const before = await db().prisma.script.count();
    const cases: { method: string; path: string; body?: unknown; rawBody?: string; contentType?: string; code: string }[] = [
      { method: 'POST', path: '/api/scripts', body: {}, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: '' }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: '   ' }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: 'x'.repeat(301) }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: 'two\nlines' }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: 'nul\u0000' }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: 42 }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: 'ok', owner_id: owner }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: 'ok', title_page: ['title'] }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: 'ok', title_page: { title: 7 } }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: 'ok', title_page: { 'Draft Date': 'x' } }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: 'ok', title_page: { notes: 'x'.repeat(2001) } }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: 'ok', title_page: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, 'x'])) }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', body: { title: 'ok', title_page: Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`f${i}`, 'x'.repeat(1900)])) }, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts', rawBody: '{"title": "broken', contentType: 'application/json', code: 'INVALID_JSON' },
      { method: 'POST', path: '/api/scripts', rawBody: 'title=x', contentType: 'application/x-www-form-urlencoded', code: 'UNSUPPORTED_CONTENT_TYPE' },
      { method: 'GET', path: '/api/scripts/not-a-uuid', code: 'BAD_REQUEST' },
      { method: 'GET', path: `/api/scripts/${scriptId.toUpperCase()}`, code: 'BAD_REQUEST' },
      { method: 'PATCH', path: '/api/scripts/1234', body: { title: 'x' }, code: 'BAD_REQUEST' },
      { method: 'PATCH', path: `/api/scripts/${scriptId}`, body: {}, code: 'BAD_REQUEST' },
      { method: 'PATCH', path: `/api/scripts/${scriptId}`, body: { title: null }, code: 'BAD_REQUEST' },
      { method: 'PATCH', path: `/api/scripts/${scriptId}`, body: { name: 'x' }, code: 'BAD_REQUEST' },
      { method: 'PATCH', path: `/api/scripts/${scriptId}`, rawBody: '[', contentType: 'application/json', code: 'INVALID_JSON' },
    ];
    for (const testCase of cases) {
      const response = await request(app(), testCase.method, testCase.path, { token: ownerToken, body: testCase.body, rawBody: testCase.rawBody, contentType: testCase.contentType });
      expect({ ...testCase, body: undefined, status: response.status, code: response.body?.code }).toEqual({ ...testCase, body: undefined, status: 400, code: testCase.code });
    }
    expect(await db().prisma.script.count()).toBe(before);
    expect((await db().prisma.script.findUniqueOrThrow({ where: { scriptId } })).title).toBe('Untouched');
  });

  it('refuses a body over HTTP_BODY_LIMIT_BYTES with a 413 and creates nothing', async () => {
    const before = await db().prisma.script.count();
    const huge = await createScript({ title: 'Huge', title_page: { notes: 'x'.repeat(3 * 1024 * 1024) } });
    expect([huge.status, huge.body.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(await db().prisma.script.count()).toBe(before);
  });

  it('answers 401 without a token or for a user that no longer exists, 404 for an unknown script', async () => {
    expect((await request(app(), 'POST', '/api/scripts', { body: { title: 'x' } })).body.code).toBe('MISSING_TOKEN');
    expect((await request(app(), 'GET', '/api/scripts')).status).toBe(401);
    const ghost = await tokenFor('00000000-0000-4000-8000-000000000001');
    const created = await request(app(), 'POST', '/api/scripts', { token: ghost, body: { title: 'x' } });
    expect([created.status, created.body.code]).toEqual([401, 'UNKNOWN_USER']);
    const listed = await request(app(), 'GET', '/api/scripts', { token: ghost });
    expect([listed.status, listed.body.code]).toEqual([401, 'UNKNOWN_USER']);
    const unknown = await request(app(), 'GET', '/api/scripts/00000000-0000-4000-8000-000000000002', { token: ownerToken });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'UNKNOWN_SCRIPT']);
  });

  it('describes every route in OpenAPI', async () => {
    const document = (await request(app(), 'GET', '/api/openapi.json')).body;
    const expected: [string, string][] = [
      ['/api/scripts', 'post'],
      ['/api/scripts', 'get'],
      ['/api/scripts/{scriptId}', 'get'],
      ['/api/scripts/{scriptId}', 'patch'],
      ['/api/scripts/{scriptId}/scenes', 'post'],
      ['/api/scripts/{scriptId}/deleted-scenes', 'get'],
      ['/api/scripts/{scriptId}/scenes/{sceneId}', 'patch'],
      ['/api/scripts/{scriptId}/scenes/{sceneId}', 'delete'],
      ['/api/scripts/{scriptId}/scenes/{sceneId}/restore', 'post'],
      ['/api/scripts/{scriptId}/collaborators', 'get'],
      ['/api/scripts/{scriptId}/collaborators', 'put'],
      ['/api/scripts/{scriptId}/collaborators/{email}', 'delete'],
    ];
    for (const [path, method] of expected) expect(document.paths[path]?.[method], `${method} ${path}`).toBeDefined();
  });
});
