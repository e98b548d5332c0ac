import { expect, it } from 'vitest';
import { tokenFor } from '../helpers/auth.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { canonical } from '../helpers/documents.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { appendVersions, request } from './support.ts';

const REST_BLOCKS = [
  { type: 'scene_heading', text: 'INT. DINER - NIGHT' },
  { type: 'action', text: 'Rain against the glass.' },
];
const V1 = [
  { type: 'scene_heading', text: 'INT. KITCHEN - DAY' },
  { type: 'action', text: 'The kettle screams.' },
];
const V2 = [...V1, { type: 'character', text: 'ANNA' }, { type: 'dialogue', text: 'Someone get that.' }];

describeEachServer('HTTP scenes API', ({ db, app }) => {
  it('lists a script’s scenes by position: REST copies without a log, Yjs content (with its seq) with one', async () => {
    const fixture = await createScript(db().prisma, { scenes: 3, contentBlocks: REST_BLOCKS });
    const token = await tokenFor(fixture.userId);
    // Scene 1 gets a Yjs log; scenes 0 and 2 stay REST-only.
    const seqs = await appendVersions(app(), fixture.sceneIds[1]!, [V1, V2]);

    const res = await request(app(), 'GET', `/api/scripts/${fixture.scriptId}/scenes`, { token });
    expect(res.status).toBe(200);
    expect(res.body.scriptUUID).toBe(fixture.scriptId);
    const scenes = res.body.scenes as any[];
    expect(scenes.map((scene) => scene.sceneUUID)).toEqual(fixture.sceneIds);
    expect(scenes.map((scene) => scene.sceneIndex)).toEqual([0, 1, 2]);

    expect(scenes[0]).toMatchObject({ slugline: 'INT. ROOM 0 - DAY', seq: null, metadata: { source: 'rest', derived_from: 'rest_copy', yjs_update_count: 0 } });
    expect(scenes[0].content.blocks).toEqual(REST_BLOCKS);

    expect(scenes[1]).toMatchObject({ seq: Number(seqs[1]), metadata: { source: 'yjs', derived_from: 'replay', yjs_update_count: 2, snapshot_freshness: 'never' } });
    expect(canonical(scenes[1].content.blocks)).toBe(canonical(V2));
    expect(typeof scenes[1].metadata.last_modified).toBe('string');
  });

  it('serves a current snapshot without reading the log, and replays again once the log moves past it', async () => {
    const fixture = await createScript(db().prisma, { scenes: 1 });
    const token = await tokenFor(fixture.userId);
    const sceneId = fixture.sceneIds[0]!;
    await appendVersions(app(), sceneId, [V1]);
    const snapshot = await app().snapshots.snapshotScene(sceneId);
    expect(snapshot.status).toBe('written');

    const current = await request(app(), 'GET', `/api/scenes/${sceneId}`, { token });
    expect(current.status).toBe(200);
    expect(current.body).toMatchObject({ seq: 1, metadata: { source: 'yjs', derived_from: 'snapshot', snapshot_seq: 1, snapshot_freshness: 'fresh', yjs_update_count: 1 } });
    expect(canonical(current.body.content.blocks)).toBe(canonical(V1));

    // Once the log moves past the snapshot, the scene is replayed again.
    await appendVersions(app(), sceneId, [V2]);
    const after = await request(app(), 'GET', `/api/scenes/${sceneId}`, { token });
    expect(after.body.metadata.derived_from).toBe('replay');
    expect(after.body.seq).toBe(2);
    expect(canonical(after.body.content.blocks)).toBe(canonical(V2));
  });

  it('lists a long script from current snapshots without replaying a single log', async () => {
    const fixture = await createScript(db().prisma, { scenes: 40 });
    const token = await tokenFor(fixture.userId);
    for (const sceneId of fixture.sceneIds) await appendVersions(app(), sceneId, [V1]);
    for (const sceneId of fixture.sceneIds) expect((await app().snapshots.snapshotScene(sceneId)).status).toBe('written');
    // Every replay the reader does is timed in scene_load_time_seconds: its count shows replays.
    const replays = async () => (await app().metrics.sceneLoadTime.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;

    const before = await replays();
    const res = await request(app(), 'GET', `/api/scripts/${fixture.scriptId}/scenes`, { token });
    expect(res.status).toBe(200);
    expect(res.body.scenes).toHaveLength(40);
    expect(new Set(res.body.scenes.map((scene: any) => scene.metadata.derived_from))).toEqual(new Set(['snapshot']));
    expect(await replays()).toBe(before);

    // Two scenes edited since: exactly those two are replayed.
    await appendVersions(app(), fixture.sceneIds[3]!, [V2]);
    await appendVersions(app(), fixture.sceneIds[17]!, [V2]);
    const again = await request(app(), 'GET', `/api/scripts/${fixture.scriptId}/scenes`, { token });
    const replayed = again.body.scenes.filter((scene: any) => scene.metadata.derived_from === 'replay').map((scene: any) => scene.sceneUUID);
    expect(replayed).toEqual([fixture.sceneIds[3], fixture.sceneIds[17]]);
    expect(await replays()).toBe(before + 2);
    expect(canonical(again.body.scenes[3].content.blocks)).toBe(canonical(V2));
  });

  it('does not serve a stored copy that was rewritten behind the snapshot’s back', async () => {
    const fixture = await createScript(db().prisma, { scenes: 1 });
    const token = await tokenFor(fixture.userId);
    const sceneId = fixture.sceneIds[0]!;
    await appendVersions(app(), sceneId, [V1]);
    await app().snapshots.snapshotScene(sceneId);
    await db().prisma.scene.update({ where: { sceneId }, data: { contentBlocks: [{ type: 'action', text: 'tampered' }] } });
    const res = await request(app(), 'GET', `/api/scenes/${sceneId}`, { token });
    expect(res.body.metadata.derived_from).toBe('replay');
    expect(canonical(res.body.content.blocks)).toBe(canonical(V1));
  });

  it('lets collaborators and administrators read, and refuses everyone else with the right status', async () => {
    const fixture = await createScript(db().prisma, { scenes: 1, contentBlocks: REST_BLOCKS });
    const sceneId = fixture.sceneIds[0]!;
    const viewer = await createUser(db().prisma);
    await db().prisma.scriptCollaborator.create({ data: { scriptId: fixture.scriptId, userId: viewer, role: 'viewer' } });
    const stranger = await createUser(db().prisma);
    const admin = await createUser(db().prisma);

    const get = async (path: string, token?: string) => request(app(), 'GET', path, { token });
    const scenePath = `/api/scenes/${sceneId}`;
    const listPath = `/api/scripts/${fixture.scriptId}/scenes`;

    expect((await get(scenePath, await tokenFor(viewer))).status).toBe(200);
    expect((await get(listPath, await tokenFor(viewer))).status).toBe(200);
    expect((await get(scenePath, await tokenFor(admin, { admin: true }))).status).toBe(200);

    const forbidden = await get(scenePath, await tokenFor(stranger));
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toMatchObject({ code: 'NO_ACCESS' });
    expect(typeof forbidden.body.error).toBe('string');
    expect((await get(listPath, await tokenFor(stranger))).status).toBe(403);

    const missing = await get(scenePath);
    expect(missing.status).toBe(401);
    expect(missing.body.code).toBe('MISSING_TOKEN');
    const notBearer = await request(app(), 'GET', scenePath, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
    expect(notBearer.status).toBe(401);
    const garbage = await get(scenePath, 'not-a-jwt');
    expect(garbage.status).toBe(401);
    expect(garbage.body.code).toBe('INVALID_TOKEN');
    const expired = await get(scenePath, await tokenFor(fixture.userId, { ttlSeconds: -60 }));
    expect(expired.status).toBe(401);
    expect(expired.body.code).toBe('TOKEN_EXPIRED');
    const deletedUser = await get(scenePath, await tokenFor('00000000-0000-4000-8000-000000000000'));
    expect(deletedUser.status).toBe(401);
    expect(deletedUser.body.code).toBe('UNKNOWN_USER');

    const owner = await tokenFor(fixture.userId);
    const malformed = await get('/api/scenes/not-a-uuid', owner);
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('BAD_REQUEST');
    expect((await get(`/api/scenes/${sceneId.toUpperCase()}`, owner)).status).toBe(400);
    expect((await get('/api/scripts/1234/scenes', owner)).status).toBe(400);
    const unknownScene = await get('/api/scenes/00000000-0000-4000-8000-000000000001', owner);
    expect(unknownScene.status).toBe(404);
    expect(unknownScene.body.code).toBe('UNKNOWN_SCENE');
    expect((await get('/api/scripts/00000000-0000-4000-8000-000000000001/scenes', owner)).status).toBe(404);
    expect((await get('/api/no/such/route', owner)).status).toBe(404);
  });

  it('returns the scene as it was at an instant from the retained log, and refuses a bad time', async () => {
    const fixture = await createScript(db().prisma, { scenes: 1 });
    const token = await tokenFor(fixture.userId);
    const sceneId = fixture.sceneIds[0]!;
    const beforeAnyEdit = new Date(Date.now() - 60_000);
    await appendVersions(app(), sceneId, [V1]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const between = new Date();
    await new Promise((resolve) => setTimeout(resolve, 30));
    await appendVersions(app(), sceneId, [V2]);

    const at = async (instant: string) => request(app(), 'GET', `/api/scenes/${sceneId}/history?at=${encodeURIComponent(instant)}`, { token });
    const empty = await at(beforeAnyEdit.toISOString());
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ seq: null, update_count: 0, content: { blocks: [] } });
    const first = await at(between.toISOString());
    expect(first.status).toBe(200);
    expect(first.body.seq).toBe(1);
    expect(canonical(first.body.content.blocks)).toBe(canonical(V1));
    const now = await at(new Date(Date.now() + 1000).toISOString().replace('Z', '+00:00'));
    expect(now.body.seq).toBe(2);
    expect(canonical(now.body.content.blocks)).toBe(canonical(V2));

    for (const bad of ['yesterday', '2025-13-45T00:00:00Z', '2025-01-22T10:30:00', '']) {
      const res = await at(bad);
      expect(res.status, bad).toBe(400);
      expect(res.body.code).toBe('BAD_REQUEST');
    }
    expect((await request(app(), 'GET', `/api/scenes/${sceneId}/history`, { token })).status).toBe(400);
    expect((await request(app(), 'GET', `/api/scenes/${sceneId}/history?at=2025-01-01T00:00:00Z&at=2025-01-02T00:00:00Z`, { token })).status).toBe(400);
    expect((await request(app(), 'GET', `/api/scenes/${sceneId}/history?at=2025-01-01T00:00:00Z`, { token: await tokenFor(await createUser(db().prisma)) })).status).toBe(403);
  });

  it('answers 410 for history before the compaction and 409 for a PATCH base that retention already deleted, and serves history after it', async () => {
    const fixture = await createScript(db().prisma, { scenes: 1 });
    const token = await tokenFor(fixture.userId);
    const sceneId = fixture.sceneIds[0]!;
    await appendVersions(app(), sceneId, [V1]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const between = new Date();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await appendVersions(app(), sceneId, [V2]);
    // Compaction merges rows 1-2 into one row, then retention deletes the originals.
    const rows = await app().sceneLog.load(sceneId);
    const merged = replayUpdates(rows).state;
    const compacted = await db().prisma.sceneVersion.create({ data: { sceneId, seq: 2n, yjsUpdate: new Uint8Array(merged), isCompacted: true, compactedCount: 2 } });
    await db().prisma.sceneVersion.updateMany({ where: { sceneId, isCompacted: false }, data: { compactedBy: compacted.versionId } });
    await db().prisma.sceneVersion.deleteMany({ where: { sceneId, compactedBy: compacted.versionId } });

    const history = await request(app(), 'GET', `/api/scenes/${sceneId}/history?at=${between.toISOString()}`, { token });
    expect(history.status).toBe(410);
    expect(history.body.code).toBe('HISTORY_NOT_RETAINED');
    // History from the compaction on is still there: it starts from the compacted row.
    const latest = await request(app(), 'GET', `/api/scenes/${sceneId}/history?at=${new Date(Date.now() + 1000).toISOString()}`, { token });
    expect(latest.status).toBe(200);
    expect(latest.body.seq).toBe(2);
    expect(canonical(latest.body.content.blocks)).toBe(canonical(V2));
    const current = await request(app(), 'GET', `/api/scenes/${sceneId}`, { token });
    expect(current.body.seq).toBe(2);
    expect(canonical(current.body.content.blocks)).toBe(canonical(V2));

    const patch = await request(app(), 'PATCH', `/api/scenes/${sceneId}/content`, { token, body: { blocks: V1, base_seq: 1 } });
    expect(patch.status).toBe(409);
    expect(patch.body.code).toBe('BASE_NOT_RETAINED');
    const atHead = await request(app(), 'PATCH', `/api/scenes/${sceneId}/content`, { token, body: { blocks: V1, base_seq: 2 } });
    expect(atHead.status).toBe(200);
    expect(canonical(atHead.body.content.blocks)).toBe(canonical(V1));
  });
});
