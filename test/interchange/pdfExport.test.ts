// GET .../export?format=pdf with the PDF's options (scene_numbers, title_page) against a real server
// on both databases, the PDF read back with pdfjs-dist; bad option values are 400s.
import { beforeAll, expect, it } from 'vitest';
import { tokenFor } from '../helpers/auth.ts';
import { createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { readPdf } from './pdfSupport.ts';

const SCRIPT = `Title: The Long Night
Author: Ana Writer
Draft date: 3 December 2026

INT. WAREHOUSE - NIGHT #7#

Rain hammers the roof.

MAYA
We were never here.

EXT. YARD - CONTINUOUS

The car is gone.
`;

describeEachServer('PDF export options', {}, ({ db, app }) => {
  let token: string;
  let scriptId: string;
  let firstSceneId: string;

  beforeAll(async () => {
    token = await tokenFor(await createUser(db().prisma));
    const response = await fetch(`${app().httpUrl}/api/scripts/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain; charset=utf-8' },
      body: SCRIPT,
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { scriptUUID: string; scenes: { sceneUUID: string; slugline: string | null }[] };
    scriptId = body.scriptUUID;
    firstSceneId = body.scenes.find((scene) => scene.slugline === 'INT. WAREHOUSE - NIGHT')!.sceneUUID;
  });

  const get = async (path: string) => {
    const response = await fetch(`${app().httpUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, type: response.headers.get('content-type'), bytes, json: () => JSON.parse(new TextDecoder().decode(bytes)) };
  };
  const texts = (page: { text: string }[]) => page.map((item) => item.text);

  it('prints a title page and no scene numbers by default', async () => {
    const response = await get(`/api/scripts/${scriptId}/export?format=pdf`);
    expect(response.status).toBe(200);
    expect(response.type).toBe('application/pdf');
    const back = await readPdf(response.bytes);
    expect(back.pages).toHaveLength(2);
    expect(texts(back.pages[0])).toEqual(expect.arrayContaining(['The Long Night', 'Written by', 'Ana Writer', '3 December 2026']));
    expect(texts(back.pages[1])).toEqual(['INT. WAREHOUSE - NIGHT', 'Rain hammers the roof.', 'MAYA', 'We were never here.', 'EXT. YARD - CONTINUOUS', 'The car is gone.']);
  });

  it('title_page=false leaves it out; scene_numbers=true prints the heading\'s number, else its ordinal, in both margins', async () => {
    const back = await readPdf((await get(`/api/scripts/${scriptId}/export?format=pdf&title_page=false&scene_numbers=true`)).bytes);
    expect(back.pages).toHaveLength(1);
    const numbers = (heading: string) => {
      const line = back.pages[0].find((item) => item.text === heading)!;
      return back.pages[0].filter((item) => item.baseline === line.baseline && item !== line).map((item) => [item.text, Math.round((item.x / 72) * 10) / 10]);
    };
    expect(numbers('INT. WAREHOUSE - NIGHT')).toEqual([
      ['7', 1.1],
      ['7', 7.8],
    ]);
    expect(numbers('EXT. YARD - CONTINUOUS')).toEqual([
      ['2', 1.1],
      ['2', 7.8],
    ]);
  });

  it('exports one scene as PDF without a title page unless title_page=true asks for one', async () => {
    const back = await readPdf((await get(`/api/scenes/${firstSceneId}/export?format=pdf`)).bytes);
    expect(back.pages).toHaveLength(1);
    expect(texts(back.pages[0])).toEqual(['INT. WAREHOUSE - NIGHT', 'Rain hammers the roof.', 'MAYA', 'We were never here.']);
    const titled = await readPdf((await get(`/api/scenes/${firstSceneId}/export?format=pdf&title_page=true&scene_numbers=true`)).bytes);
    expect(titled.pages).toHaveLength(2);
    expect(texts(titled.pages[0])).toEqual(['The Long Night']);
    expect(texts(titled.pages[1])).toEqual(['7', 'INT. WAREHOUSE - NIGHT', '7', 'Rain hammers the roof.', 'MAYA', 'We were never here.']);
  });

  it('refuses option values other than true and false, and the options with another format', async () => {
    for (const query of ['format=pdf&scene_numbers=yes', 'format=pdf&title_page=1', 'format=pdf&title_page=', 'format=pdf&scene_numbers=true&scene_numbers=false', 'format=pdf&Title_Page=true', 'format=fountain&title_page=false', 'format=fdx&scene_numbers=true']) {
      const response = await get(`/api/scripts/${scriptId}/export?${query}`);
      expect(response.status, query).toBe(400);
      expect(response.json(), query).toMatchObject({ code: 'BAD_REQUEST', error: expect.stringMatching(/^query/) });
    }
  });
});
