// The import and export routes against a real server on both databases: files in, scripts created
// and seeded once, exports from the live state, every refusal a 4xx that creates nothing.
import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { parseFdx } from '../../src/interchange/fdx.ts';
import { parseFountain, serializeFountain } from '../../src/interchange/fountain.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitForAcked, waitForSynced } from '../helpers/clients.ts';
import { typeInto } from '../helpers/typing.ts';
import { createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { request, type ApiResponse } from '../http/support.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const fountainFixture = readFileSync(new URL('night-shift.fountain', FIXTURES), 'utf8');
const fdxFixture = readFileSync(new URL('night-shift.fdx', FIXTURES), 'utf8');

const MAX_BYTES = 64 * 1024;
const MAX_SCENES = 20;

/** The paragraph types of an FDX file's <Content>, dual dialogue's inner paragraphs included, in order. */
function contentParagraphTypes(xml: string): string[] {
  const content = xml.slice(xml.indexOf('<Content>'), xml.indexOf('</Content>'));
  return [...content.matchAll(/<Paragraph\b([^>]*)>/g)].map((m) => /Type="([^"]*)"/.exec(m[1]!)?.[1] ?? '(wrapper)');
}

describeEachServer('Import and export of screenplay files', { env: { IMPORT_MAX_BYTES: String(MAX_BYTES), IMPORT_MAX_SCENES: String(MAX_SCENES) } }, ({ db, app }) => {
  let owner: string;
  let ownerToken: string;
  let viewerToken: string;
  let editorToken: string;
  let strangerToken: string;
  let viewer: string;
  let editor: string;

  beforeAll(async () => {
    [owner, viewer, editor] = [await createUser(db().prisma), await createUser(db().prisma), await createUser(db().prisma)];
    ownerToken = await tokenFor(owner);
    viewerToken = await tokenFor(viewer);
    editorToken = await tokenFor(editor);
    strangerToken = await tokenFor(await createUser(db().prisma));
  });

  const upload = async (path: string, body: string | Uint8Array, contentType: string | null, token = ownerToken): Promise<ApiResponse> => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (contentType !== null) headers['content-type'] = contentType;
    const response = await fetch(`${app().httpUrl}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  };
  const download = async (path: string, token = ownerToken) => {
    const response = await fetch(`${app().httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, headers: response.headers, bytes: new Uint8Array(await response.arrayBuffer()) };
  };
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const share = async (scriptId: string) => {
    await db().prisma.scriptCollaborator.createMany({
      data: [
        { scriptId, userId: viewer, role: 'viewer' },
        { scriptId, userId: editor, role: 'editor' },
      ],
    });
  };
  const counts = async () => ({ scripts: await db().prisma.script.count(), scenes: await db().prisma.scene.count() });

  it('imports a Fountain file: one scene per heading plus the text before the first, title page as metadata, each scene seeded once', async () => {
    const imported = await upload('/api/scripts/import', fountainFixture, 'text/plain; charset=utf-8');
    expect(imported.status).toBe(201);
    const expected = parseFountain(fountainFixture);
    expect(imported.body).toMatchObject({ title: 'NIGHT SHIFT', title_page: expected.titlePage, owner_id: owner, role: 'owner', format: 'fountain', scene_count: 5 });
    expect(imported.body.scenes.map((s: { slugline: string | null }) => s.slugline)).toEqual([
      null,
      'INT. DINER - NIGHT',
      'EXT. PARKING LOT - CONTINUOUS',
      'FLASHBACK - MAYA AT SIX',
      'INT. DINER - LATER',
    ]);
    const sceneIds = imported.body.scenes.map((s: { sceneUUID: string }) => s.sceneUUID) as string[];
    // Seeded before the answer: exactly one row per scene, written by the server.
    for (const sceneId of sceneIds) {
      const rows = await db().prisma.sceneVersion.findMany({ where: { sceneId } });
      expect(rows).toHaveLength(1);
      expect(rows[0]!.createdBy).toBeNull();
      const scene = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } });
      expect(scene.yjsSeededAt).not.toBeNull();
      // Where the content came from stays said after the seed.
      expect(scene.snapshotSource).toBe('import');
    }
    const listed = await request(app(), 'GET', `/api/scripts/${imported.body.scriptUUID}/scenes`, { token: ownerToken });
    expect(listed.status).toBe(200);
    expect(listed.body.scenes.map((s: { content: { blocks: unknown[] } }) => s.content.blocks)).toEqual(expected.scenes.map((s) => s.blocks));
    expect(listed.body.scenes.every((s: { metadata: { source: string } }) => s.metadata.source === 'yjs')).toBe(true);
  });

  it('exports the imported Fountain file in canonical form, with its type and a file name from the title', async () => {
    const imported = await upload('/api/scripts/import?format=fountain', fountainFixture, 'application/octet-stream');
    expect(imported.status).toBe(201);
    const exported = await download(`/api/scripts/${imported.body.scriptUUID}/export?format=fountain`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(exported.headers.get('content-disposition')).toBe(`attachment; filename="NIGHT SHIFT.fountain"; filename*=UTF-8''NIGHT%20SHIFT.fountain`);
    expect(text(exported.bytes)).toBe(serializeFountain(parseFountain(fountainFixture)));
    // Canonical: importing the export and exporting again gives the same file.
    const again = await upload('/api/scripts/import', text(exported.bytes), 'text/x-fountain');
    expect(text((await download(`/api/scripts/${again.body.scriptUUID}/export?format=fountain`)).bytes)).toBe(text(exported.bytes));
  });

  it('imports an FDX file and exports it keeping every paragraph type and text', async () => {
    const imported = await upload('/api/scripts/import', fdxFixture, 'application/xml');
    expect(imported.status).toBe(201);
    expect(imported.body).toMatchObject({ title: 'NIGHT SHIFT', format: 'fdx', scene_count: 3 });
    expect(imported.body.title_page).toEqual({
      title: 'NIGHT SHIFT',
      credit: 'Written by',
      author: 'Ana Ribeiro',
      draft_date: '3 December 2026',
      contact: 'Writers Room Collab\n12 Harbour Street',
    });
    const exported = await download(`/api/scripts/${imported.body.scriptUUID}/export?format=fdx`);
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    expect(exported.headers.get('content-disposition')).toContain('filename="NIGHT SHIFT.fdx"');
    const xml = text(exported.bytes);
    expect(contentParagraphTypes(xml)).toEqual(contentParagraphTypes(fdxFixture));
    expect(parseFdx(xml).scenes.map((s) => s.blocks)).toEqual(parseFdx(fdxFixture).scenes.map((s) => s.blocks));
    expect(xml).toContain('<Paragraph Type="Shot">');
    expect(xml).toContain('<Paragraph Type="Cast List">');
    expect(xml).toContain('<Paragraph Type="Scene Heading" Number="2A">');
    expect(xml).toContain('<Text Style="Bold+Underline">single</Text>');
  });

  it('exports PDF, and a viewer may export; a stranger may not', async () => {
    const imported = await upload('/api/scripts/import', fdxFixture, 'application/xml');
    const scriptId = imported.body.scriptUUID as string;
    await share(scriptId);
    const pdf = await download(`/api/scripts/${scriptId}/export?format=pdf`, viewerToken);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    expect(pdf.headers.get('content-disposition')).toContain('filename="NIGHT SHIFT.pdf"');
    expect(text(pdf.bytes.slice(0, 5))).toBe('%PDF-');
    expect((await download(`/api/scripts/${scriptId}/export?format=fountain`, viewerToken)).status).toBe(200);
    expect((await download(`/api/scripts/${scriptId}/export?format=fdx`, strangerToken)).status).toBe(403);
  });

  it('exports the live state, not the REST copy: a PATCH shows at once; one scene exports alone', async () => {
    const imported = await upload('/api/scripts/import', fountainFixture, 'text/plain');
    const sceneId = imported.body.scenes[4].sceneUUID as string;
    const patched = await request(app(), 'PATCH', `/api/scenes/${sceneId}/content`, {
      token: ownerToken,
      body: { blocks: [{ type: 'scene_heading', text: 'INT. DINER - LATER' }, { type: 'action', text: 'Someone knocks.' }] },
    });
    expect(patched.status).toBe(200);
    // The REST copy still holds the import (the follower is off in tests).
    const row = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } });
    expect(JSON.stringify(row.contentBlocks)).not.toContain('Someone knocks.');
    const script = text((await download(`/api/scripts/${imported.body.scriptUUID}/export?format=fountain`)).bytes);
    expect(script).toContain('Someone knocks.');
    expect(script).not.toContain('The last light goes off.');

    const scene = await download(`/api/scenes/${sceneId}/export?format=fountain`);
    expect(scene.status).toBe(200);
    expect(text(scene.bytes)).toBe('INT. DINER - LATER\n\nSomeone knocks.\n');
    expect(scene.headers.get('content-disposition')).toContain('filename="NIGHT SHIFT - INT. DINER - LATER.fountain"');
    const fdx = await download(`/api/scenes/${sceneId}/export?format=fdx`);
    expect(parseFdx(text(fdx.bytes)).scenes[0]!.blocks).toEqual([
      { type: 'scene_heading', text: 'INT. DINER - LATER' },
      { type: 'action', text: 'Someone knocks.' },
    ]);
  });

  it('exports what a connected editor just typed; the editor found the scene seeded once, by the import', async () => {
    const imported = await upload('/api/scripts/import', fountainFixture, 'text/plain');
    const sceneId = imported.body.scenes[4].sceneUUID as string;
    const client = connectClient(app().wsUrl, sceneId, { token: ownerToken });
    try {
      await waitForSynced(client);
      expect(client.doc.getXmlFragment('default').length).toBe(3);
      // Types at the end of the scene heading, one update per keystroke, each acknowledged (on disk).
      typeInto(client.doc, ' (RAIN)');
      await waitForAcked(client);
      const exported = text((await download(`/api/scenes/${sceneId}/export?format=fountain`)).bytes);
      expect(exported).toBe('INT. DINER - LATER (RAIN)\n\nThe last light goes off.\n\nFADE OUT.\n');
    } finally {
      client.destroy();
    }
    const rows = await db().prisma.sceneVersion.findMany({ where: { sceneId }, orderBy: { seq: 'asc' } });
    expect(rows.filter((row) => row.createdBy === null)).toHaveLength(1);
    expect(rows[0]!.createdBy).toBeNull();
    expect(rows.slice(1).every((row) => row.createdBy === owner)).toBe(true);
  });

  it('imports a file into an existing scene through the PATCH path (editor yes, viewer no)', async () => {
    const imported = await upload('/api/scripts/import', fountainFixture, 'text/plain');
    const scriptId = imported.body.scriptUUID as string;
    await share(scriptId);
    const sceneId = imported.body.scenes[1].sceneUUID as string;
    const file = 'Title: Ignored here\n\nINT. DINER - NIGHT\n\nThe jukebox plays.\n\nMAYA\n(to Joe)\nTurn it **down**.\n';
    expect((await upload(`/api/scenes/${sceneId}/import`, file, 'text/plain', viewerToken)).status).toBe(403);
    const result = await upload(`/api/scenes/${sceneId}/import`, file, 'text/plain', editorToken);
    expect(result.status).toBe(200);
    expect(result.body.title_page_ignored).toBe(true);
    expect(result.body.patch.changed).toBe(true);
    expect(result.body.content.blocks).toEqual([
      { type: 'scene_heading', text: 'INT. DINER - NIGHT' },
      { type: 'action', text: 'The jukebox plays.' },
      { type: 'character', text: 'MAYA' },
      { type: 'parenthetical', text: '(to Joe)' },
      { type: 'dialogue', text: 'Turn it down.', marks: [{ type: 'bold', from: 8, to: 12 }] },
    ]);
    const rows = await db().prisma.sceneVersion.findMany({ where: { sceneId }, orderBy: { seq: 'asc' } });
    expect(rows).toHaveLength(2);
    expect(rows[1]!.createdBy).toBe(editor);
  });

  it('refuses bad files with a 400 that says where, and creates nothing', async () => {
    const before = await counts();
    const broken = await upload('/api/scripts/import', '<?xml version="1.0"?>\n<FinalDraft>\n  <Content>\n    <Paragraph Type="Action"><Text>x</Paragraph>\n  </Content>\n</FinalDraft>\n', 'application/xml');
    expect(broken.status).toBe(400);
    expect(broken.body).toMatchObject({ code: 'MALFORMED_SCREENPLAY', format: 'fdx', location: { line: 4 } });
    expect(broken.body.error).toContain('line 4');

    const notFdx = await upload('/api/scripts/import?format=fdx', '<html><body>hi</body></html>', 'text/plain');
    expect(notFdx.status).toBe(400);
    expect(notFdx.body.code).toBe('NOT_A_SCREENPLAY');

    const junk = new Uint8Array(256).map((_, i) => (i * 37 + 11) % 256);
    const binary = await upload('/api/scripts/import', junk, 'application/octet-stream');
    expect(binary.status).toBe(400);
    expect(binary.body.code).toBe('NOT_A_SCREENPLAY');

    const boneyard = await upload('/api/scripts/import', 'INT. HOUSE - DAY\n\nA line.\n\n/* never closed\n\nMore.\n', 'text/plain');
    expect(boneyard.status).toBe(400);
    expect(boneyard.body).toMatchObject({ code: 'MALFORMED_SCREENPLAY', location: { line: 5, element: 'boneyard' } });

    const xmlAsFountain = await upload('/api/scripts/import?format=fountain', fdxFixture, 'text/plain');
    expect(xmlAsFountain.status).toBe(400);
    expect(xmlAsFountain.body.code).toBe('NOT_A_SCREENPLAY');

    for (const empty of ['', '\n\n   \n']) {
      const answer = await upload('/api/scripts/import', empty, 'text/plain');
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('EMPTY_SCREENPLAY');
    }
    const emptyFdx = await upload('/api/scripts/import', '<FinalDraft><Content></Content></FinalDraft>', 'application/xml');
    expect(emptyFdx.body.code).toBe('EMPTY_SCREENPLAY');
    const doctype = await upload('/api/scripts/import', '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaa">]>\n<FinalDraft/>', 'application/xml');
    expect(doctype.status).toBe(400);
    expect(doctype.body).toMatchObject({ code: 'MALFORMED_SCREENPLAY', location: { line: 2 } });

    const wrongFormat = await upload('/api/scripts/import?format=docx', fountainFixture, 'text/plain');
    expect(wrongFormat.status).toBe(400);
    expect(wrongFormat.body.code).toBe('BAD_REQUEST');
    const unknownField = await upload('/api/scripts/import?formatt=fdx', fountainFixture, 'text/plain');
    expect(unknownField.status).toBe(400);
    const image = await upload('/api/scripts/import', fountainFixture, 'image/png');
    expect(image.status).toBe(400);
    expect(image.body.code).toBe('UNSUPPORTED_CONTENT_TYPE');
    const json = await upload('/api/scripts/import', JSON.stringify({ file: fountainFixture }), 'application/json');
    expect(json.status).toBe(400);
    expect(json.body.code).toBe('UNSUPPORTED_CONTENT_TYPE');
    const badTitle = await upload('/api/scripts/import?title=', fountainFixture, 'text/plain');
    expect(badTitle.status).toBe(400);
    expect(badTitle.body.code).toBe('INVALID_SCRIPT_FIELDS');

    expect(await counts()).toEqual(before);
  });

  it('refuses oversized files (413) and files with too many scenes (413), creating nothing', async () => {
    const before = await counts();
    const big = `INT. HOUSE - DAY\n\n${'All work and no play. '.repeat(Math.ceil(MAX_BYTES / 22) + 10)}\n`;
    const tooBig = await upload('/api/scripts/import', big, 'text/plain');
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe('PAYLOAD_TOO_LARGE');
    const manyScenes = Array.from({ length: MAX_SCENES + 1 }, (_, i) => `INT. ROOM ${i} - DAY\n\nA chair.\n`).join('\n');
    const tooMany = await upload('/api/scripts/import', manyScenes, 'text/plain');
    expect(tooMany.status).toBe(413);
    expect(tooMany.body).toMatchObject({ code: 'TOO_MANY_SCENES', scenes: MAX_SCENES + 1, max_scenes: MAX_SCENES });
    expect(await counts()).toEqual(before);
  });

  it('refuses bad export requests: format, ids, tokens', async () => {
    const imported = await upload('/api/scripts/import', fountainFixture, 'text/plain');
    const scriptId = imported.body.scriptUUID as string;
    expect((await download(`/api/scripts/${scriptId}/export?format=docx`)).status).toBe(400);
    expect((await download(`/api/scripts/${scriptId}/export`)).status).toBe(400);
    expect((await download(`/api/scripts/not-a-uuid/export?format=fdx`)).status).toBe(400);
    expect((await download(`/api/scripts/${scriptId.toUpperCase()}/export?format=fdx`)).status).toBe(400);
    expect((await download(`/api/scripts/00000000-0000-4000-8000-000000000000/export?format=fdx`)).status).toBe(404);
    expect((await download(`/api/scenes/00000000-0000-4000-8000-000000000000/export?format=fdx`)).status).toBe(404);
    expect((await download(`/api/scripts/${scriptId}/export?format=fdx`, 'garbage')).status).toBe(401);
    const unauthenticated = await fetch(`${app().httpUrl}/api/scripts/import`, { method: 'POST', body: fountainFixture });
    expect(unauthenticated.status).toBe(401);
  });
});
