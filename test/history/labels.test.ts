import { expect, it } from 'vitest';
import { compactScene } from '../../src/log/compaction.ts';
import { purgeMergedRows } from '../../src/log/retention.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { ageRows, JOB_DEFAULTS, retireMergedOriginals } from '../compaction/support.ts';
import { appendVersions, request } from '../http/support.ts';

const DAY = 24 * 60 * 60 * 1000;
const block = (text: string) => [{ type: 'action', text }];

describeEachServer('labels over HTTP', ({ db, app }) => {
  const scriptWithRoles = async (scenes = 1) => {
    const fixture = await createScript(db().prisma, { scenes });
    const [editorId, viewerId, strangerId] = [await createUser(db().prisma), await createUser(db().prisma), await createUser(db().prisma)];
    await db().prisma.scriptCollaborator.createMany({
      data: [
        { scriptId: fixture.scriptId, userId: editorId, role: 'editor' },
        { scriptId: fixture.scriptId, userId: viewerId, role: 'viewer' },
      ],
    });
    return {
      ...fixture,
      sceneId: fixture.sceneIds[0]!,
      owner: await tokenFor(fixture.userId),
      editor: await tokenFor(editorId),
      viewer: await tokenFor(viewerId),
      stranger: await tokenFor(strangerId),
    };
  };

  it('labels the current state, lists labels to a viewer, refuses a duplicate name and deletes a label', async () => {
    const { sceneId, owner, editor, viewer } = await scriptWithRoles();
    const [, second] = await appendVersions(app(), sceneId, [block('one'), block('two')]);

    const made = await request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { token: editor, body: { name: '  Draft 2 to producer ' } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ sceneUUID: sceneId, name: 'Draft 2 to producer', seq: Number(second), script_label_id: null });

    const duplicate = await request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { token: owner, body: { name: 'Draft 2 to producer' } });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('LABEL_NAME_TAKEN');

    const listed = await request(app(), 'GET', `/api/scenes/${sceneId}/labels`, { token: viewer });
    expect(listed.status).toBe(200);
    expect(listed.body.labels).toEqual([made.body]);

    const byViewer = await request(app(), 'DELETE', `/api/scenes/${sceneId}/labels/${made.body.labelUUID}`, { token: viewer });
    expect(byViewer.status).toBe(403);
    const deleted = await request(app(), 'DELETE', `/api/scenes/${sceneId}/labels/${made.body.labelUUID}`, { token: owner });
    expect(deleted.status).toBe(200);
    expect(deleted.body.deleted.labelUUID).toBe(made.body.labelUUID);
    const again = await request(app(), 'DELETE', `/api/scenes/${sceneId}/labels/${made.body.labelUUID}`, { token: owner });
    expect(again.status).toBe(404);
    expect(again.body.code).toBe('UNKNOWN_LABEL');
    expect((await request(app(), 'GET', `/api/scenes/${sceneId}/labels`, { token: owner })).body.labels).toEqual([]);
  });

  it('labels a scene that has only its REST copy with that content (seeding it first), and restores it', async () => {
    const rest = [{ type: 'scene_heading', text: 'INT. ATTIC - NIGHT' }, { type: 'action', text: 'Dust.' }];
    const { scriptId, sceneIds } = await createScript(db().prisma, { sceneContents: [rest, rest] });
    const owner = await tokenFor((await db().prisma.script.findUniqueOrThrow({ where: { scriptId } })).ownerId);
    const made = await request(app(), 'POST', `/api/scenes/${sceneIds[0]}/labels`, { token: owner, body: { name: 'Before' } });
    expect(made.status).toBe(201);
    expect(made.body.seq).toBe(1);
    const whole = await request(app(), 'POST', `/api/scripts/${scriptId}/labels`, { token: owner, body: { name: 'Script before' } });
    expect(whole.body.scenes.map((l: { seq: number | null }) => l.seq)).toEqual([1, 1]);
    await request(app(), 'PATCH', `/api/scenes/${sceneIds[0]}/content`, { token: owner, body: { blocks: block('changed') } });
    const restored = await request(app(), 'POST', `/api/scenes/${sceneIds[0]}/restore`, { token: owner, body: { label: 'Before' } });
    expect(restored.body.changed).toBe(true);
    const read = await request(app(), 'GET', `/api/scenes/${sceneIds[0]}`, { token: owner });
    expect(read.body.content.blocks).toEqual(rest);
    const deleted = await request(app(), 'DELETE', `/api/scripts/${scriptId}/labels/${whole.body.labelUUID}`, { token: owner });
    expect(deleted.body.deleted.scene_count).toBe(2);
  });

  it('labels a past instant, and refuses one retention no longer holds', async () => {
    const { sceneId, owner } = await scriptWithRoles();
    const [first] = await appendVersions(app(), sceneId, [block('early')]);
    const between = new Date();
    await appendVersions(app(), sceneId, [block('late')]);
    const past = await request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { token: owner, body: { name: 'early', at: between.toISOString() } });
    expect(past.status).toBe(201);
    expect(past.body.seq).toBe(Number(first));
    expect(past.body.labelled_at).toBe(between.toISOString());

    const sql = db().database.sql;
    await compactScene(sql, sceneId, { maxRows: JOB_DEFAULTS.compaction.maxRowsPerCompaction });
    await retireMergedOriginals(sql, sceneId);
    const aged = new Date(between.getTime() - 31 * DAY);
    const gone = await request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { token: owner, body: { name: 'too old', at: aged.toISOString() } });
    expect(gone.status).toBe(410);
    expect(gone.body.code).toBe('HISTORY_NOT_RETAINED');
    // The label made before compaction still names its state.
    expect((await request(app(), 'GET', `/api/scenes/${sceneId}/labels`, { token: owner })).body.labels.map((l: { name: string }) => l.name)).toEqual(['early']);
  });

  it('gives a name to exactly one of several writers labelling at once', async () => {
    const { sceneId, owner, editor } = await scriptWithRoles();
    await appendVersions(app(), sceneId, [block('one')]);
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { token: i % 2 === 0 ? owner : editor, body: { name: 'Race' } })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    expect((await request(app(), 'GET', `/api/scenes/${sceneId}/labels`, { token: owner })).body.labels).toHaveLength(1);
  });

  it('refuses a script label at an instant one scene no longer retains, and labels nothing', async () => {
    const { scriptId, sceneIds, owner } = await scriptWithRoles(2);
    await appendVersions(app(), sceneIds[0]!, [block('a'), block('b')]);
    await appendVersions(app(), sceneIds[1]!, [block('c'), block('d')]);
    const then = new Date();
    const sql = db().database.sql;
    await compactScene(sql, sceneIds[1]!, { maxRows: JOB_DEFAULTS.compaction.maxRowsPerCompaction });
    for (const sceneId of sceneIds) await ageRows(sql, sceneId, 31 * DAY);
    await purgeMergedRows(sql, sceneIds[1]!, { cutoff: new Date(Date.now() - 30 * DAY), batchSize: 1000 });
    // Scene 0 still has every original; scene 1's were merged and deleted.
    const at = new Date(then.getTime() - 31 * DAY - 1).toISOString();
    const refused = await request(app(), 'POST', `/api/scripts/${scriptId}/labels`, { token: owner, body: { name: 'Old', at } });
    expect(refused.status).toBe(410);
    expect(refused.body.code).toBe('HISTORY_NOT_RETAINED');
    expect((await request(app(), 'GET', `/api/scripts/${scriptId}/labels`, { token: owner })).body.labels).toEqual([]);
    for (const sceneId of sceneIds) expect((await request(app(), 'GET', `/api/scenes/${sceneId}/labels`, { token: owner })).body.labels).toEqual([]);
  });

  it('refuses bad input with a clear 4xx and stores nothing', async () => {
    const { sceneId, scriptId, owner, viewer, stranger } = await scriptWithRoles();
    const post = (body: unknown, token = owner) => request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { token, body });
    const cases: Array<[unknown, number]> = [
      [{}, 400],
      [{ name: '' }, 400],
      [{ name: '   ' }, 400],
      [{ name: 'x'.repeat(101) }, 400],
      [{ name: 'line\nbreak' }, 400],
      [{ name: '42' }, 400],
      [{ name: '2025-01-22T10:30:00Z' }, 400],
      [{ name: '8d7f3c1e-1111-4222-8333-444455556666' }, 400],
      [{ name: 'ok', extra: 1 }, 400],
      [{ name: 'ok', at: '2025-01-22T10:30:00' }, 400],
      [{ name: 'ok', at: new Date(Date.now() + DAY).toISOString() }, 400],
      [{ name: 7 }, 400],
    ];
    for (const [body, status] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(typeof response.body.error).toBe('string');
    }
    expect((await post({ name: 'ok' }, viewer)).status).toBe(403);
    expect((await post({ name: 'ok' }, stranger)).status).toBe(403);
    expect((await request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { token: owner, rawBody: '{"name":', contentType: 'application/json' })).body.code).toBe('INVALID_JSON');
    expect((await request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { token: owner, rawBody: 'name=x', contentType: 'application/x-www-form-urlencoded' })).status).toBe(400);
    expect((await request(app(), 'POST', `/api/scenes/NOT-A-UUID/labels`, { token: owner, body: { name: 'ok' } })).status).toBe(400);
    expect((await request(app(), 'POST', `/api/scenes/${sceneId.toUpperCase()}/labels`, { token: owner, body: { name: 'ok' } })).status).toBe(400);
    expect((await request(app(), 'DELETE', `/api/scenes/${sceneId}/labels/not-a-uuid`, { token: owner })).status).toBe(400);
    expect((await request(app(), 'GET', `/api/scenes/00000000-0000-4000-8000-000000000000/labels`, { token: owner })).status).toBe(404);
    expect((await request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { body: { name: 'ok' } })).status).toBe(401);
    expect((await request(app(), 'GET', `/api/scenes/${sceneId}/labels`, { token: owner })).body.labels).toEqual([]);
    expect((await request(app(), 'GET', `/api/scripts/${scriptId}/labels`, { token: owner })).body.labels).toEqual([]);
  });

  it('labels every scene of a script in one transaction, lists and deletes it with its scene labels', async () => {
    const { scriptId, sceneIds, owner, editor, viewer } = await scriptWithRoles(3);
    await appendVersions(app(), sceneIds[0]!, [block('first scene')]);
    await appendVersions(app(), sceneIds[1]!, [block('second scene')]);
    // The third scene has no update: it is labelled empty.
    const made = await request(app(), 'POST', `/api/scripts/${scriptId}/labels`, { token: editor, body: { name: 'Table read' } });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ scriptUUID: scriptId, name: 'Table read', scene_count: 3 });
    expect(made.body.scenes.map((l: { sceneUUID: string }) => l.sceneUUID)).toEqual(sceneIds);
    expect(made.body.scenes.map((l: { seq: number | null }) => l.seq)).toEqual([1, 1, null]);
    expect(new Set(made.body.scenes.map((l: { labelled_at: string }) => l.labelled_at)).size).toBe(1);

    expect((await request(app(), 'POST', `/api/scripts/${scriptId}/labels`, { token: viewer, body: { name: 'x' } })).status).toBe(403);
    expect((await request(app(), 'POST', `/api/scripts/${scriptId}/labels`, { token: owner, body: { name: 'Table read' } })).status).toBe(409);

    // A name one scene already has: nothing at all is labelled.
    await request(app(), 'POST', `/api/scenes/${sceneIds[2]}/labels`, { token: owner, body: { name: 'Lock' } });
    const clash = await request(app(), 'POST', `/api/scripts/${scriptId}/labels`, { token: owner, body: { name: 'Lock' } });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('LABEL_NAME_TAKEN');
    expect((await request(app(), 'GET', `/api/scripts/${scriptId}/labels`, { token: viewer })).body.labels.map((l: { name: string }) => l.name)).toEqual(['Table read']);
    expect((await request(app(), 'GET', `/api/scenes/${sceneIds[0]}/labels`, { token: owner })).body.labels.map((l: { name: string }) => l.name)).toEqual(['Table read']);

    // A scene label of a script label goes with the script label only.
    const sceneLabel = made.body.scenes[0];
    const alone = await request(app(), 'DELETE', `/api/scenes/${sceneIds[0]}/labels/${sceneLabel.labelUUID}`, { token: owner });
    expect(alone.status).toBe(409);
    expect(alone.body.code).toBe('LABEL_OF_SCRIPT_LABEL');

    expect((await request(app(), 'DELETE', `/api/scripts/${scriptId}/labels/${made.body.labelUUID}`, { token: viewer })).status).toBe(403);
    const deleted = await request(app(), 'DELETE', `/api/scripts/${scriptId}/labels/${made.body.labelUUID}`, { token: owner });
    expect(deleted.status).toBe(200);
    expect((await request(app(), 'GET', `/api/scenes/${sceneIds[0]}/labels`, { token: owner })).body.labels).toEqual([]);
    expect((await request(app(), 'GET', `/api/scenes/${sceneIds[2]}/labels`, { token: owner })).body.labels.map((l: { name: string }) => l.name)).toEqual(['Lock']);
    expect((await request(app(), 'DELETE', `/api/scripts/${scriptId}/labels/${made.body.labelUUID}`, { token: owner })).status).toBe(404);
    expect((await request(app(), 'POST', `/api/scripts/not-a-uuid/labels`, { token: owner, body: { name: 'x' } })).status).toBe(400);
    expect((await request(app(), 'POST', `/api/scripts/${scriptId}/labels`, { token: owner, body: { name: 'x', bogus: true } })).status).toBe(400);
  });
});
