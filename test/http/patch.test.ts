import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect, it } from 'vitest';
import * as Y from 'yjs';
import { replayUpdates } from '../../src/log/replay.ts';
import { restBlocksToTiptapJSON, yDocToRestBlocks } from '../../src/screenplay/index.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { canonical } from '../helpers/documents.ts';
import { request } from './support.ts';

const SCENE = [
  { type: 'scene_heading', text: 'INT. DINER - NIGHT' },
  { type: 'action', text: 'Rain against the glass.' },
  { type: 'character', text: 'MAYA' },
  { type: 'dialogue', text: 'We were never here.' },
];

/** Types `text` at the end of the block at `index`, one character per transaction, as a person would. */
async function typeAtEnd(client: TestClient, index: number, text: string, pauseMs: number): Promise<void> {
  for (const ch of text) {
    client.doc.transact(() => {
      const block = client.doc.getXmlFragment('default').get(index) as Y.XmlElement;
      const textNode = block.get(0) as Y.XmlText;
      textNode.insert(textNode.length, ch);
    });
    await sleep(pauseMs);
  }
}

describeEachServer('PATCH /api/scenes/:sceneId/content', ({ db, app }) => {
  let clients: TestClient[] = [];

  afterEach(() => {
    for (const client of clients) client.destroy();
    clients = [];
  });

  const sceneWithEditor = async () => {
    const fixture = await createScript(db().prisma, { scenes: 1, contentBlocks: SCENE });
    const editorId = await createUser(db().prisma);
    await db().prisma.scriptCollaborator.create({ data: { scriptId: fixture.scriptId, userId: editorId, role: 'editor' } });
    return { ...fixture, sceneId: fixture.sceneIds[0]!, owner: await tokenFor(fixture.userId), editorId, editor: await tokenFor(editorId) };
  };
  const connect = (sceneId: string, token: string) => {
    const client = connectClient(app().wsUrl, sceneId, { token });
    clients.push(client);
    return client;
  };
  const fromLog = async (sceneId: string) => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, replayUpdates(await app().sceneLog.load(sceneId)).state);
    return canonical(yDocToRestBlocks(doc));
  };

  it('merges a PATCH made against a read with an editor typing at the same time: both edits survive', async () => {
    const { sceneId, owner, editor, editorId } = await sceneWithEditor();
    const typist = connect(sceneId, editor);
    await waitForSynced(typist);
    await waitFor(() => typist.doc.getXmlFragment('default').length === SCENE.length, 'the editor sees the seeded scene');

    // A first edit, so the seeded REST copy is no longer current.
    await typeAtEnd(typist, 2, ' (V.O.)', 0);
    await waitForAcked(typist);
    const before = structuredClone(SCENE);
    before[2]!.text = 'MAYA (V.O.)';

    const read = await request(app(), 'GET', `/api/scenes/${sceneId}`, { token: owner });
    expect(read.status).toBe(200);
    // The editor has the scene open on this instance: read from its document, with an exact seq.
    expect(read.body.metadata.derived_from).toBe('live_document');
    expect(canonical(read.body.content.blocks)).toBe(canonical(before));
    const edited = structuredClone(read.body.content.blocks);
    edited[0].text = 'INT. DINER - DAWN';
    edited.push({ type: 'transition', text: 'CUT TO:' });

    // The editor types into the action line before, during and after the PATCH (made from the
    // earlier read): it keeps typing until the PATCH has answered, then a few characters more.
    const words = ' Thunder rolls over the parking lot, again and again';
    let typed = '';
    let patchAnswered = false;
    const typing = (async () => {
      for (let i = 0, after = 0; after < 8; i += 1) {
        const ch = words[i % words.length]!;
        await typeAtEnd(typist, 1, ch, 3);
        typed += ch;
        if (patchAnswered) after += 1;
      }
    })();
    await sleep(20);
    const patch = await request(app(), 'PATCH', `/api/scenes/${sceneId}/content`, { token: owner, body: { blocks: edited, base_seq: read.body.seq } });
    patchAnswered = true;
    await typing;
    expect(patch.status).toBe(200);
    expect(patch.body.patch.changed).toBe(true);
    expect(patch.body.patch.seq).toBeGreaterThan(read.body.seq);
    await waitForAcked(typist);

    // The edits really interleaved: the editor's updates were stored both before and after the PATCH.
    const typistRows = await db().prisma.sceneVersion.findMany({ where: { sceneId, createdBy: editorId }, select: { seq: true } });
    expect(typistRows.some((row) => row.seq > BigInt(read.body.seq) && row.seq < BigInt(patch.body.patch.seq))).toBe(true);
    expect(typistRows.some((row) => row.seq > BigInt(patch.body.patch.seq))).toBe(true);

    const expected = structuredClone(edited);
    expected[1].text = `${before[1]!.text}${typed}`;
    await waitFor(() => canonical(yDocToRestBlocks(typist.doc)) === canonical(expected), 'the editor has both edits');
    expect(await fromLog(sceneId)).toBe(canonical(expected));
    const after = await request(app(), 'GET', `/api/scenes/${sceneId}`, { token: owner });
    expect(canonical(after.body.content.blocks)).toBe(canonical(expected));
  });

  it('merges edits to the same line character by character', async () => {
    const { sceneId, owner, editor } = await sceneWithEditor();
    const typist = connect(sceneId, editor);
    await waitForSynced(typist);
    await waitFor(() => typist.doc.getXmlFragment('default').length === SCENE.length, 'the editor sees the seeded scene');
    const read = await request(app(), 'GET', `/api/scenes/${sceneId}`, { token: owner });
    const edited = structuredClone(read.body.content.blocks);
    edited[1].text = 'Rain on the glass.';
    const typing = typeAtEnd(typist, 1, ' Thunder.', 3);
    const patch = await request(app(), 'PATCH', `/api/scenes/${sceneId}/content`, { token: owner, body: { blocks: edited, base_seq: read.body.seq } });
    await typing;
    expect(patch.status).toBe(200);
    await waitForAcked(typist);
    const expected = structuredClone(edited);
    expected[1].text = 'Rain on the glass. Thunder.';
    await waitFor(() => canonical(yDocToRestBlocks(typist.doc)) === canonical(expected), 'the editor has both edits');
    expect(await fromLog(sceneId)).toBe(canonical(expected));
  });

  it('shows a PATCH to connected editors at once and answers only after the commit', async () => {
    const { sceneId, editor, editorId } = await sceneWithEditor();
    const watcher = connect(sceneId, editor);
    await waitForSynced(watcher);
    await waitFor(() => watcher.doc.getXmlFragment('default').length === SCENE.length, 'the editor sees the seeded scene');
    const replacement = [{ type: 'scene_heading', text: 'EXT. PIER - DAWN' }, { type: 'action', text: 'Gulls.' }];

    const patch = await request(app(), 'PATCH', `/api/scenes/${sceneId}/content`, { token: editor, body: { blocks: replacement } });
    expect(patch.status).toBe(200);
    // Committed before the response: the row is there the moment the response arrives.
    const row = await db().prisma.sceneVersion.findFirst({ where: { sceneId, seq: BigInt(patch.body.patch.seq) } });
    expect(row?.versionId).toBe(patch.body.patch.version_id);
    expect(row?.createdBy).toBe(editorId);
    expect(canonical(patch.body.content.blocks)).toBe(canonical(replacement));
    expect(patch.body.seq).toBeGreaterThanOrEqual(patch.body.patch.seq);
    await waitFor(() => canonical(yDocToRestBlocks(watcher.doc)) === canonical(replacement), 'the editor sees the PATCH');

    // Sending the same content again changes nothing and stores nothing.
    const rows = await db().prisma.sceneVersion.count({ where: { sceneId } });
    const again = await request(app(), 'PATCH', `/api/scenes/${sceneId}/content`, { token: editor, body: { blocks: replacement } });
    expect(again.body.patch).toEqual({ changed: false, version_id: null, seq: null });
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(rows);
  });

  it('accepts TipTap JSON, and writes to a scene nobody has open (seeding it from REST first)', async () => {
    const fixture = await createScript(db().prisma, { scenes: 1, contentBlocks: SCENE });
    const sceneId = fixture.sceneIds[0]!;
    const token = await tokenFor(fixture.userId);
    const edited = structuredClone(SCENE);
    edited[3]!.text = 'We were always here.';
    const patch = await request(app(), 'PATCH', `/api/scenes/${sceneId}/content`, { token, body: { doc: restBlocksToTiptapJSON(edited) } });
    expect(patch.status).toBe(200);
    expect(patch.body.metadata.source).toBe('yjs');
    expect(canonical(patch.body.content.blocks)).toBe(canonical(edited));
    expect(await fromLog(sceneId)).toBe(canonical(edited));
    // The seed and the edit, and the document was unloaded again.
    expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(2);
    await waitFor(() => !app().collab.hocuspocus.documents.has(sceneId), 'the scene is unloaded after the write');
  });

  it('refuses bad requests with the right status and stores nothing', async () => {
    const { sceneId, owner, scriptId } = await sceneWithEditor();
    const viewerId = await createUser(db().prisma);
    await db().prisma.scriptCollaborator.create({ data: { scriptId, userId: viewerId, role: 'viewer' } });
    const path = `/api/scenes/${sceneId}/content`;
    const blocks = [{ type: 'action', text: 'x' }];
    const patch = (options: Parameters<typeof request>[3], target = path) => request(app(), 'PATCH', target, options);

    const cases: Array<[string, Promise<Awaited<ReturnType<typeof request>>>, number, string]> = [
      ['malformed id', patch({ token: owner, body: { blocks } }, '/api/scenes/123/content'), 400, 'BAD_REQUEST'],
      ['unknown scene', patch({ token: owner, body: { blocks } }, '/api/scenes/00000000-0000-4000-8000-00000000abcd/content'), 404, 'UNKNOWN_SCENE'],
      ['no token', patch({ body: { blocks } }), 401, 'MISSING_TOKEN'],
      ['expired token', patch({ token: await tokenFor(viewerId, { ttlSeconds: -5 }), body: { blocks } }), 401, 'TOKEN_EXPIRED'],
      ['viewer', patch({ token: await tokenFor(viewerId), body: { blocks } }), 403, 'READ_ONLY'],
      ['stranger', patch({ token: await tokenFor(await createUser(db().prisma)), body: { blocks } }), 403, 'NO_ACCESS'],
      ['text body', patch({ token: owner, rawBody: 'blocks=1', contentType: 'text/plain' }), 400, 'UNSUPPORTED_CONTENT_TYPE'],
      ['no body', patch({ token: owner }), 400, 'UNSUPPORTED_CONTENT_TYPE'],
      ['broken JSON', patch({ token: owner, rawBody: '{"blocks": [', contentType: 'application/json' }), 400, 'INVALID_JSON'],
      ['array body', patch({ token: owner, body: blocks }), 400, 'BAD_REQUEST'],
      ['blocks not an array', patch({ token: owner, body: { blocks: 'action' } }), 400, 'BAD_REQUEST'],
      ['both shapes', patch({ token: owner, body: { blocks, doc: { type: 'doc', content: [] } } }), 400, 'BAD_REQUEST'],
      ['neither shape', patch({ token: owner, body: {} }), 400, 'BAD_REQUEST'],
      ['unknown field', patch({ token: owner, body: { blocks, force: true } }), 400, 'BAD_REQUEST'],
      ['invalid block', patch({ token: owner, body: { blocks: [{ text: 'no type' }] } }), 400, 'INVALID_REST_BLOCKS'],
      ['mark past the text', patch({ token: owner, body: { blocks: [{ type: 'action', text: 'ab', marks: [{ type: 'bold', from: 0, to: 9 }] }] } }), 400, 'INVALID_REST_BLOCKS'],
      ['unknown TipTap node', patch({ token: owner, body: { doc: { type: 'doc', content: [{ type: 'video' }] } } }), 400, 'UNKNOWN_NODE_TYPE'],
      ['base_seq from the future', patch({ token: owner, body: { blocks, base_seq: 1_000_000 } }), 400, 'BASE_SEQ_AHEAD'],
      ['base_seq zero', patch({ token: owner, body: { blocks, base_seq: 0 } }), 400, 'BAD_REQUEST'],
      ['base_seq string', patch({ token: owner, body: { blocks, base_seq: '3' } }), 400, 'BAD_REQUEST'],
      ['too large', patch({ token: owner, body: { blocks: [{ type: 'action', text: 'x'.repeat(3 * 1024 * 1024) }] } }), 413, 'PAYLOAD_TOO_LARGE'],
    ];
    for (const [name, pending, status, code] of cases) {
      const res = await pending;
      expect(res.status, name).toBe(status);
      expect(res.body?.code, name).toBe(code);
      expect(typeof res.body?.error, name).toBe('string');
    }
    // 'base_seq from the future' loaded (and seeded) the scene; nothing else reached the log.
    const rows = await db().prisma.sceneVersion.findMany({ where: { sceneId } });
    expect(rows.length).toBeLessThanOrEqual(1);
  });
});
