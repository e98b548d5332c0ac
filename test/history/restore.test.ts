import { afterEach, expect, it } from 'vitest';
import * as Y from 'yjs';
import { compactScene } from '../../src/log/compaction.ts';
import { yDocToRestBlocks } from '../../src/screenplay/index.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { canonical } from '../helpers/documents.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { JOB_DEFAULTS, logRows, retireMergedOriginals } from '../compaction/support.ts';
import { appendVersions, request } from '../http/support.ts';

const DAY = 24 * 60 * 60 * 1000;
const V1 = [
  { type: 'scene_heading', text: 'INT. DINER - NIGHT' },
  { type: 'action', text: 'Rain against the glass.' },
];
const V2 = [
  { type: 'scene_heading', text: 'INT. DINER - DAWN' },
  { type: 'action', text: 'Rain against the glass.' },
  { type: 'character', text: 'MAYA' },
  { type: 'dialogue', text: 'We were never here.', marks: [{ type: 'italic', from: 3, to: 8 }] },
];
const V3 = [{ type: 'scene_heading', text: 'EXT. PIER - DAY' }, { type: 'transition', text: 'CUT TO:' }];

describeEachServer('POST /api/scenes/:sceneId/restore', ({ db, app }) => {
  let clients: TestClient[] = [];
  afterEach(() => {
    for (const client of clients) client.destroy();
    clients = [];
  });

  const sceneWithRoles = async () => {
    const fixture = await createScript(db().prisma);
    const [editorId, viewerId] = [await createUser(db().prisma), await createUser(db().prisma)];
    await db().prisma.scriptCollaborator.createMany({
      data: [
        { scriptId: fixture.scriptId, userId: editorId, role: 'editor' },
        { scriptId: fixture.scriptId, userId: viewerId, role: 'viewer' },
      ],
    });
    return { ...fixture, sceneId: fixture.sceneIds[0]!, owner: await tokenFor(fixture.userId), editor: await tokenFor(editorId), viewer: await tokenFor(viewerId) };
  };
  const content = async (sceneId: string, token: string) => canonical((await request(app(), 'GET', `/api/scenes/${sceneId}`, { token })).body.content.blocks);
  const restore = (sceneId: string, token: string, body: unknown) => request(app(), 'POST', `/api/scenes/${sceneId}/restore`, { token, body });

  it('restores a seq as a forward change, rewrites nothing, and can itself be restored away', async () => {
    const { sceneId, editor } = await sceneWithRoles();
    const [s1, , s3] = await appendVersions(app(), sceneId, [V1, V2, V3]);
    const rowsBefore = await logRows(db().database.sql, sceneId);

    const restored = await restore(sceneId, editor, { seq: Number(s1) });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ sceneUUID: sceneId, changed: true, restored_from: { point: { seq: Number(s1) }, seq: Number(s1), label: null } });
    expect(restored.body.seq).toBeGreaterThan(Number(s3));
    expect(await content(sceneId, editor)).toBe(canonical(V1));
    // Every earlier row is still there, unchanged; the restore is one more row.
    const rowsAfter = await logRows(db().database.sql, sceneId);
    expect(rowsAfter.slice(0, rowsBefore.length)).toEqual(rowsBefore);
    expect(rowsAfter.length).toBe(rowsBefore.length + 1);

    const again = await restore(sceneId, editor, { seq: Number(s1) });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ changed: false, seq: null, version_id: null });

    // Undo the restore: back to the seq just before it.
    const undo = await restore(sceneId, editor, { seq: restored.body.seq - 1 });
    expect(undo.body.changed).toBe(true);
    expect(await content(sceneId, editor)).toBe(canonical(V3));
    // Seq 0: the scene before its first update, empty.
    expect((await restore(sceneId, editor, { seq: 0 })).body.changed).toBe(true);
    expect(await content(sceneId, editor)).toBe(canonical([]));
  });

  it('restores an instant and a label by name or id; a label made before compaction and retention still restores, an instant they removed is 410', async () => {
    const { sceneId, owner } = await sceneWithRoles();
    await appendVersions(app(), sceneId, [V1]);
    const afterV1 = new Date();
    await appendVersions(app(), sceneId, [V2]);
    const label = await request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { token: owner, body: { name: 'Draft 2 to producer' } });
    expect(label.status).toBe(201);
    await appendVersions(app(), sceneId, [V3]);

    expect((await restore(sceneId, owner, { at: afterV1.toISOString() })).body.restored_from.seq).toBe(1);
    expect(await content(sceneId, owner)).toBe(canonical(V1));

    const sql = db().database.sql;
    await compactScene(sql, sceneId, { maxRows: JOB_DEFAULTS.compaction.maxRowsPerCompaction });
    expect(await retireMergedOriginals(sql, sceneId)).toBeGreaterThan(0);

    const byName = await restore(sceneId, owner, { label: 'Draft 2 to producer' });
    expect(byName.status).toBe(200);
    expect(byName.body.restored_from.label).toEqual({ labelUUID: label.body.labelUUID, name: 'Draft 2 to producer' });
    expect(await content(sceneId, owner)).toBe(canonical(V2));
    await restore(sceneId, owner, { seq: 0 });
    expect((await restore(sceneId, owner, { label: label.body.labelUUID })).body.changed).toBe(true);
    expect(await content(sceneId, owner)).toBe(canonical(V2));

    const tooOld = await restore(sceneId, owner, { at: new Date(afterV1.getTime() - 31 * DAY + 1).toISOString() });
    expect(tooOld.status).toBe(410);
    expect(tooOld.body.code).toBe('HISTORY_NOT_RETAINED');
    const oldSeq = await restore(sceneId, owner, { seq: 2 });
    expect(oldSeq.status).toBe(410);
  });

  it('refuses bad input and a viewer with a clear 4xx, and writes nothing', async () => {
    const { sceneId, owner, viewer } = await sceneWithRoles();
    await appendVersions(app(), sceneId, [V1, V2]);
    const rows = (await logRows(db().database.sql, sceneId)).length;
    const cases: Array<[unknown, number, string | undefined]> = [
      [{}, 400, 'BAD_REQUEST'],
      [{ seq: 1, label: 'x' }, 400, 'BAD_REQUEST'],
      [{ seq: 3 }, 400, 'SEQ_AHEAD'],
      [{ seq: -1 }, 400, 'BAD_REQUEST'],
      [{ seq: '1' }, 400, 'BAD_REQUEST'],
      [{ at: 'yesterday' }, 400, 'BAD_REQUEST'],
      [{ at: '2025-01-22T10:30:00' }, 400, 'BAD_REQUEST'],
      [{ seq: 1, force: true }, 400, 'BAD_REQUEST'],
      [{ label: 'no such label' }, 404, 'UNKNOWN_LABEL'],
      [{ label: '8d7f3c1e-1111-4222-8333-444455556666' }, 404, 'UNKNOWN_LABEL'],
      [[1], 400, 'BAD_REQUEST'],
    ];
    for (const [body, status, code] of cases) {
      const response = await restore(sceneId, owner, body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body.code, JSON.stringify(body)).toBe(code);
    }
    const byViewer = await restore(sceneId, viewer, { seq: 1 });
    expect(byViewer.status).toBe(403);
    expect(byViewer.body.code).toBe('READ_ONLY');
    expect((await request(app(), 'POST', `/api/scenes/${sceneId}/restore`, { token: owner, rawBody: '{"seq": 1', contentType: 'application/json' })).body.code).toBe('INVALID_JSON');
    expect((await request(app(), 'POST', `/api/scenes/${sceneId}/restore`, { token: owner, rawBody: 'seq=1', contentType: 'text/plain' })).body.code).toBe('UNSUPPORTED_CONTENT_TYPE');
    expect((await request(app(), 'POST', `/api/scenes/not-a-uuid/restore`, { token: owner, body: { seq: 1 } })).status).toBe(400);
    expect((await request(app(), 'POST', `/api/scenes/00000000-0000-4000-8000-000000000000/restore`, { token: owner, body: { seq: 1 } })).status).toBe(404);
    expect((await request(app(), 'POST', `/api/scenes/${sceneId}/restore`, { body: { seq: 1 } })).status).toBe(401);
    expect((await logRows(db().database.sql, sceneId)).length).toBe(rows);
    expect(await content(sceneId, owner)).toBe(canonical(V2));
  });

  it('shows the restored content to a connected editor at once, and the editor’s later typing merges', async () => {
    const { sceneId, owner, editor } = await sceneWithRoles();
    const [s1] = await appendVersions(app(), sceneId, [V1, V2]);
    const client = connectClient(app().wsUrl, sceneId, { token: editor });
    clients.push(client);
    await waitForSynced(client);
    await waitFor(() => canonical(yDocToRestBlocks(client.doc)) === canonical(V2), 'the editor sees the scene');

    const restored = await restore(sceneId, owner, { seq: Number(s1) });
    expect(restored.body.changed).toBe(true);
    await waitFor(() => canonical(yDocToRestBlocks(client.doc)) === canonical(V1), 'the editor sees the restored scene');

    // The editor types at the end of the action line, one update per character.
    for (const ch of ' Thunder.') {
      client.doc.transact(() => {
        const text = (client.doc.getXmlFragment('default').get(1) as Y.XmlElement).get(0) as Y.XmlText;
        text.insert(text.length, ch);
      });
    }
    await waitForAcked(client);
    const expected = structuredClone(V1);
    expected[1]!.text = 'Rain against the glass. Thunder.';
    expect(await content(sceneId, owner)).toBe(canonical(expected));
    // The log alone (a fresh replay) says the same.
    const rows = await app().sceneLog.load(sceneId);
    const doc = new Y.Doc();
    for (const row of rows) Y.applyUpdate(doc, row.update);
    expect(canonical(yDocToRestBlocks(doc))).toBe(canonical(expected));
  });
});
