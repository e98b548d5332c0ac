import { beforeAll, expect, it } from 'vitest';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitForSynced } from '../helpers/clients.ts';
import { blocksOf, canonical } from '../helpers/documents.ts';
import { createUser } from '../helpers/fixtures.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { describeEachServer } from '../helpers/server.ts';
import { request } from '../http/support.ts';

const BLOCKS = [
  { type: 'scene_heading', text: 'INT. KITCHEN - DAY' },
  { type: 'action', text: 'Steam rises.', marks: [{ type: 'bold', from: 0, to: 5 }] },
  { type: 'character', text: 'ANA' },
  { type: 'dialogue', text: 'Again?' },
];

describeEachServer('HTTP scenes of a script: add, move, rename, order under concurrency', ({ db, app }) => {
  let owner: string;
  let ownerToken: string;
  let viewerToken: string;
  let viewer: string;

  beforeAll(async () => {
    owner = await createUser(db().prisma);
    viewer = await createUser(db().prisma);
    ownerToken = await tokenFor(owner);
    viewerToken = await tokenFor(viewer);
  });

  const newScript = async (title = 'Order test') => {
    const created = await request(app(), 'POST', '/api/scripts', { token: ownerToken, body: { title } });
    expect(created.status).toBe(201);
    const scriptId = created.body.scriptUUID as string;
    await db().prisma.scriptCollaborator.create({ data: { scriptId, userId: viewer, role: 'viewer' } });
    return scriptId;
  };
  const addScene = async (scriptId: string, body?: unknown) => {
    const added = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes`, { token: ownerToken, body });
    expect(added.status, added.text).toBe(201);
    return added.body.scene.sceneUUID as string;
  };
  /** The live scenes as the database holds them: [id, position] by position. */
  const storedOrder = async (scriptId: string) =>
    (await db().prisma.scene.findMany({ where: { scriptId, deletedAt: null }, orderBy: { position: 'asc' }, select: { sceneId: true, position: true } })).map(
      (scene) => [scene.sceneId, scene.position] as const,
    );
  const expectDense = async (scriptId: string, ids: readonly string[]) => {
    const order = await storedOrder(scriptId);
    expect(order.map(([, position]) => position)).toEqual(ids.map((_, index) => index));
    expect(order.map(([id]) => id)).toEqual(ids);
  };

  it('adds scenes at the end by default and at a given position, the others moving down', async () => {
    const scriptId = await newScript();
    const a = await addScene(scriptId);
    const b = await addScene(scriptId, { heading: 'INT. B' });
    const first = await addScene(scriptId, { position: 0, heading: 'INT. FIRST' });
    const middle = await addScene(scriptId, { position: 2, heading: 'INT. MIDDLE' });
    const end = await addScene(scriptId, { position: 4, heading: 'INT. END' });
    await expectDense(scriptId, [first, a, middle, b, end]);

    const listed = await request(app(), 'GET', `/api/scripts/${scriptId}/scenes`, { token: ownerToken });
    expect(listed.body.scenes.map((scene: { sceneUUID: string; sceneIndex: number; slugline: string | null }) => [scene.sceneUUID, scene.sceneIndex, scene.slugline])).toEqual([
      [first, 0, 'INT. FIRST'],
      [a, 1, null],
      [middle, 2, 'INT. MIDDLE'],
      [b, 3, 'INT. B'],
      [end, 4, 'INT. END'],
    ]);
    const script = await request(app(), 'GET', `/api/scripts/${scriptId}`, { token: viewerToken });
    expect(script.body).toMatchObject({ role: 'viewer', scene_count: 5 });
    expect(script.body.scenes.map((scene: { sceneUUID: string }) => scene.sceneUUID)).toEqual([first, a, middle, b, end]);
  });

  it('keeps initial blocks as the REST copy, seeded into the log exactly once on first load', async () => {
    const scriptId = await newScript();
    const added = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes`, { token: ownerToken, body: { heading: 'INT. KITCHEN - DAY', blocks: BLOCKS } });
    expect(added.status).toBe(201);
    expect(added.body.scene).toMatchObject({ slugline: 'INT. KITCHEN - DAY', sceneIndex: 0, seq: null, metadata: { source: 'rest', derived_from: 'rest_copy' } });
    expect(canonical(added.body.scene.content.blocks)).toBe(canonical(BLOCKS));
    const sceneId = added.body.scene.sceneUUID as string;
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(0);

    const clients = Array.from({ length: 3 }, () => connectClient(app().wsUrl, sceneId, { token: ownerToken }));
    try {
      await Promise.all(clients.map((client) => waitForSynced(client)));
      for (const client of clients) expect(blocksOf(client.doc)).toBe(canonical(BLOCKS));
    } finally {
      for (const client of clients) client.destroy();
    }
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(1);
    const read = await request(app(), 'GET', `/api/scenes/${sceneId}`, { token: ownerToken });
    expect(read.body).toMatchObject({ seq: 1, metadata: { source: 'yjs' } });
    expect(canonical(read.body.content.blocks)).toBe(canonical(BLOCKS));
  });

  it('moves a scene and renames its heading; positions stay 0..n-1', async () => {
    const scriptId = await newScript();
    const ids = [];
    for (let i = 0; i < 5; i += 1) ids.push(await addScene(scriptId, { heading: `INT. ${i}` }));
    const moved = await request(app(), 'PATCH', `/api/scripts/${scriptId}/scenes/${ids[4]}`, { token: ownerToken, body: { position: 0 } });
    expect(moved.status).toBe(200);
    expect(moved.body.scene).toMatchObject({ sceneUUID: ids[4], sceneIndex: 0, slugline: 'INT. 4' });
    expect(moved.body.scenes.map((scene: { sceneUUID: string }) => scene.sceneUUID)).toEqual([ids[4], ids[0], ids[1], ids[2], ids[3]]);
    await expectDense(scriptId, [ids[4]!, ids[0]!, ids[1]!, ids[2]!, ids[3]!]);

    const down = await request(app(), 'PATCH', `/api/scripts/${scriptId}/scenes/${ids[0]}`, { token: ownerToken, body: { position: 3, heading: 'EXT. RENAMED - NIGHT' } });
    expect(down.body.scene).toMatchObject({ sceneIndex: 3, slugline: 'EXT. RENAMED - NIGHT' });
    await expectDense(scriptId, [ids[4]!, ids[1]!, ids[2]!, ids[0]!, ids[3]!]);

    const same = await request(app(), 'PATCH', `/api/scripts/${scriptId}/scenes/${ids[1]}`, { token: ownerToken, body: { position: 1 } });
    expect(same.status).toBe(200);
    const renamedOnly = await request(app(), 'PATCH', `/api/scripts/${scriptId}/scenes/${ids[1]}`, { token: ownerToken, body: { heading: null } });
    expect(renamedOnly.body.scene).toMatchObject({ sceneIndex: 1, slugline: null });
    await expectDense(scriptId, [ids[4]!, ids[1]!, ids[2]!, ids[0]!, ids[3]!]);
  });

  it('makes a script with gaps in its positions (rows written by SQL) dense at its next change', async () => {
    const scriptId = await newScript();
    const made = [];
    for (const position of [3, 10, 11]) made.push((await db().prisma.scene.create({ data: { scriptId, position } })).sceneId);
    const added = await addScene(scriptId);
    await expectDense(scriptId, [...made, added]);
  });

  it('keeps positions dense and unique under many concurrent moves, adds and deletes', async () => {
    const scriptId = await newScript('Concurrent');
    const initial = [];
    for (let i = 0; i < 8; i += 1) initial.push(await addScene(scriptId, { heading: `INT. ${i}` }));
    const random = mulberry32(18);
    const doomed = new Set([initial[1]!, initial[6]!]);
    // 60 requests at once: 50 moves to random positions (of scenes that stay), 8 adds at random places, 2 deletes.
    const requests: Promise<{ status: number; text: string; body: any }>[] = [];
    const stays = initial.filter((id) => !doomed.has(id));
    for (let i = 0; i < 50; i += 1) {
      const sceneId = stays[Math.floor(random() * stays.length)]!;
      requests.push(request(app(), 'PATCH', `/api/scripts/${scriptId}/scenes/${sceneId}`, { token: ownerToken, body: { position: Math.floor(random() * 6) } }));
      if (i % 6 === 0) requests.push(request(app(), 'POST', `/api/scripts/${scriptId}/scenes`, { token: ownerToken, body: { position: Math.floor(random() * 6), heading: `INT. NEW ${i}` } }));
      if (i === 10 || i === 30) requests.push(request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${i === 10 ? initial[1] : initial[6]}`, { token: ownerToken }));
    }
    const responses = await Promise.all(requests);
    for (const response of responses) expect([200, 201], response.text).toContain(response.status);
    // Each answer's order is the order right after that change: dense too.
    for (const response of responses) {
      const positions = (response.body.scenes as { sceneIndex: number }[]).map((scene) => scene.sceneIndex);
      expect(positions).toEqual(positions.map((_, index) => index));
    }
    const added = responses.filter((response) => response.status === 201).map((response) => response.body.scene.sceneUUID as string);
    expect(added).toHaveLength(9);
    const order = await storedOrder(scriptId);
    expect(order.map(([, position]) => position)).toEqual(Array.from({ length: 6 + 9 }, (_, index) => index));
    expect(new Set(order.map(([id]) => id))).toEqual(new Set([...stays, ...added]));
    expect(await db().prisma.scene.count({ where: { scriptId, deletedAt: { not: null } } })).toBe(2);
  });

  it('has the database refuse two live scenes on one position (uq_scenes_live_position), but not a deleted one', async () => {
    const scriptId = await newScript();
    const sceneId = await addScene(scriptId);
    await expect(db().prisma.scene.create({ data: { scriptId, position: 0 } })).rejects.toThrow();
    await db().prisma.scene.update({ where: { sceneId }, data: { deletedAt: new Date() } });
    await db().prisma.scene.create({ data: { scriptId, position: 0 } });
  });

  it('refuses bad input, viewers and scenes of another script, changing nothing', async () => {
    const scriptId = await newScript();
    const ids = [await addScene(scriptId), await addScene(scriptId)];
    const otherScript = await newScript('Other');
    const foreign = await addScene(otherScript);
    const base = `/api/scripts/${scriptId}/scenes`;
    const cases: { method: string; path: string; token?: string; body?: unknown; rawBody?: string; status: number; code: string }[] = [
      { method: 'POST', path: base, body: { position: 3 }, status: 400, code: 'POSITION_OUT_OF_RANGE' },
      { method: 'POST', path: base, body: { position: -1 }, status: 400, code: 'BAD_REQUEST' },
      { method: 'POST', path: base, body: { position: 1.5 }, status: 400, code: 'BAD_REQUEST' },
      { method: 'POST', path: base, body: { position: '1' }, status: 400, code: 'BAD_REQUEST' },
      { method: 'POST', path: base, body: { heading: 'x'.repeat(501) }, status: 400, code: 'BAD_REQUEST' },
      { method: 'POST', path: base, body: { heading: 'two\nlines' }, status: 400, code: 'BAD_REQUEST' },
      { method: 'POST', path: base, body: { blocks: [{ text: 'no type' }] }, status: 400, code: 'INVALID_REST_BLOCKS' },
      { method: 'POST', path: base, body: { blocks: [{ type: 'action', text: 'x', marks: [{ type: 'bold', from: 0, to: 9 }] }] }, status: 400, code: 'INVALID_REST_BLOCKS' },
      { method: 'POST', path: base, body: { blocks: [{ type: 'action', text: 'nul \u0000' }] }, status: 400, code: 'INVALID_REST_BLOCKS' },
      { method: 'POST', path: base, body: { blocks: 'action' }, status: 400, code: 'BAD_REQUEST' },
      { method: 'POST', path: base, body: { content: [] }, status: 400, code: 'BAD_REQUEST' },
      { method: 'POST', path: base, rawBody: '{"heading":', status: 400, code: 'INVALID_JSON' },
      { method: 'POST', path: base, token: viewerToken, body: {}, status: 403, code: 'READ_ONLY' },
      { method: 'POST', path: '/api/scripts/not-a-uuid/scenes', body: {}, status: 400, code: 'BAD_REQUEST' },
      { method: 'POST', path: '/api/scripts/00000000-0000-4000-8000-000000000003/scenes', body: {}, status: 404, code: 'UNKNOWN_SCRIPT' },
      { method: 'PATCH', path: `${base}/${ids[0]}`, body: { position: 2 }, status: 400, code: 'POSITION_OUT_OF_RANGE' },
      { method: 'PATCH', path: `${base}/${ids[0]}`, body: {}, status: 400, code: 'BAD_REQUEST' },
      { method: 'PATCH', path: `${base}/${ids[0]}`, body: { position: 0, title: 'x' }, status: 400, code: 'BAD_REQUEST' },
      { method: 'PATCH', path: `${base}/${ids[0]}`, rawBody: 'position=1', status: 400, code: 'INVALID_JSON' },
      { method: 'PATCH', path: `${base}/${ids[0]!.toUpperCase()}`, body: { position: 1 }, status: 400, code: 'BAD_REQUEST' },
      { method: 'PATCH', path: `${base}/nope`, body: { position: 1 }, status: 400, code: 'BAD_REQUEST' },
      { method: 'PATCH', path: `${base}/${ids[0]}`, token: viewerToken, body: { position: 1 }, status: 403, code: 'READ_ONLY' },
      { method: 'PATCH', path: `${base}/${foreign}`, body: { position: 0 }, status: 404, code: 'UNKNOWN_SCENE' },
      { method: 'DELETE', path: `${base}/${foreign}`, status: 404, code: 'UNKNOWN_SCENE' },
      { method: 'DELETE', path: `${base}/${ids[0]}`, token: viewerToken, status: 403, code: 'READ_ONLY' },
    ];
    for (const testCase of cases) {
      const response = await request(app(), testCase.method, testCase.path, {
        token: testCase.token ?? ownerToken,
        body: testCase.body,
        rawBody: testCase.rawBody,
        contentType: testCase.rawBody !== undefined ? 'application/json' : undefined,
      });
      expect({ method: testCase.method, path: testCase.path, body: testCase.body, status: response.status, code: response.body?.code }).toEqual({
        method: testCase.method,
        path: testCase.path,
        body: testCase.body,
        status: testCase.status,
        code: testCase.code,
      });
    }
    await expectDense(scriptId, ids);
    await expectDense(otherScript, [foreign]);
  });
});
