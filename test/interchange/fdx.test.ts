// Final Draft in and out on a real file with every paragraph type, and the files it refuses (pure).
import { describe, expect, it } from 'vitest';
import { blockTypeOfFdxType, parseFdx, serializeFdx } from '../../src/interchange/fdx.ts';
import { parseRestBlocks } from '../../src/screenplay/index.ts';
import { fixtureText, parseError } from './support.ts';

const fixture = fixtureText('night-shift.fdx');

describe('FDX: a real screenplay file', () => {
  const doc = parseFdx(fixture);

  it('reads every paragraph, in order, into scenes', () => {
    expect(doc.title).toBe('NIGHT SHIFT');
    expect(doc.scenes.map((scene) => scene.blocks)).toEqual([
      [
        { type: 'scene_heading', text: 'INT. DINER - NIGHT', scene_number: '1' },
        {
          type: 'action',
          text: 'Rain hammers the windows. Neon buzzes: OPEN 24 HOURS. A single customer nurses a coffee & a grudge.',
          marks: [
            { type: 'italic', from: 39, to: 52 },
            { type: 'bold', from: 56, to: 62 },
            { type: 'underline', from: 56, to: 62 },
          ],
        },
        { type: 'shot', text: 'CLOSE ON THE COFFEE CUP', fdx_type: 'Shot' },
        { type: 'character', text: 'MAYA (V.O.)' },
        { type: 'dialogue', text: 'Every town has one place that never closes.' },
        { type: 'character', text: "MAYA (CONT'D)" },
        { type: 'parenthetical', text: '(quietly)' },
        { type: 'dialogue', text: 'Until it does.' },
        { type: 'character', text: 'JOE', dual: 'left' },
        { type: 'dialogue', text: "You're late." },
        { type: 'character', text: 'MAYA', dual: 'right' },
        { type: 'parenthetical', text: '(overlapping)' },
        { type: 'dialogue', text: "I'm always late.", marks: [{ type: 'italic', from: 4, to: 10 }] },
        { type: 'transition', text: 'CUT TO:' },
      ],
      [
        { type: 'scene_heading', text: 'EXT. PARKING LOT - CONTINUOUS', scene_number: '2A' },
        { type: 'centered', text: 'THE END OF THE BEGINNING' },
        { type: 'general', text: 'A general paragraph: <no format>.' },
        { type: 'cast_list', text: 'MAYA, JOE, McGREGOR', fdx_type: 'Cast List' },
        { type: 'action', text: '' },
      ],
      [
        { type: 'scene_heading', text: 'INT. DINER - LATER' },
        { type: 'action', text: 'The last light goes off.\nThe sign flickers once.' },
        { type: 'transition', text: 'FADE OUT.' },
      ],
    ]);
    for (const scene of doc.scenes) parseRestBlocks(scene.blocks);
  });

  it('reads the title page fields from their layout', () => {
    expect(doc.titlePage).toEqual({
      title: 'NIGHT SHIFT',
      credit: 'Written by',
      author: 'Ana Ribeiro',
      draft_date: '3 December 2026',
      contact: 'Writers Room Collab\n12 Harbour Street',
    });
  });

  it('writes it back with every paragraph type and text; its output is canonical', () => {
    const xml = serializeFdx(doc);
    expect(parseFdx(xml)).toEqual(doc);
    expect(serializeFdx(parseFdx(xml))).toBe(xml);
    expect(xml).toContain('<Paragraph>\n      <DualDialogue>');
    expect(xml).toContain('<Paragraph Type="Action" Alignment="Center">');
    expect(xml).toContain('<Text>A general paragraph: &lt;no format&gt;.</Text>');
  });

  it('names block types for paragraph types we have no node for', () => {
    expect(blockTypeOfFdxType('Shot')).toBe('shot');
    expect(blockTypeOfFdxType('Cast List')).toBe('cast_list');
    expect(blockTypeOfFdxType('  New Act ')).toBe('new_act');
    expect(blockTypeOfFdxType('---')).toBe('general');
  });
});

describe('FDX: files it refuses, saying where', () => {
  it.each([
    ['', 'EMPTY_SCREENPLAY', { line: 1 }],
    ['INT. HOUSE - DAY', 'NOT_A_SCREENPLAY', { line: 1 }],
    ['<html><body/></html>', 'NOT_A_SCREENPLAY', { line: 1 }],
    ['<FinalDraft DocumentType="Script"/>', 'MALFORMED_SCREENPLAY', { element: 'FinalDraft' }],
    ['<FinalDraft><Content/></FinalDraft>', 'EMPTY_SCREENPLAY', { element: 'Content' }],
    ['<?xml version="1.0"?>\n<FinalDraft>\n<Content>\n<Paragraph Type="Action"><Text>a</Text>\n</Content>\n</FinalDraft>', 'MALFORMED_SCREENPLAY', { line: 5 }],
    ['<?xml version="1.0"?>\n<FinalDraft>\n<Content>\n<Paragraph Type="Action"><Text>a &bogus; b</Text></Paragraph>\n</Content>\n</FinalDraft>', 'MALFORMED_SCREENPLAY', { line: 4 }],
    ['<?xml version="1.0"?>\n<!DOCTYPE lol [<!ENTITY lol "lol">]>\n<FinalDraft/>', 'MALFORMED_SCREENPLAY', { line: 2 }],
  ] as const)('%j', (xml, code, location) => {
    const error = parseError(() => parseFdx(xml));
    expect(error.code).toBe(code);
    expect(error.location).toMatchObject(location);
  });

  it('a <Text> holding an element, naming the paragraph and its line', () => {
    const error = parseError(() =>
      parseFdx('<FinalDraft>\n<Content>\n<Paragraph Type="Action"><Text>a</Text></Paragraph>\n<Paragraph Type="Dialogue"><Text>b<b>c</b></Text></Paragraph>\n</Content>\n</FinalDraft>'),
    );
    expect(error.code).toBe('MALFORMED_SCREENPLAY');
    expect(error.location).toEqual({ line: 4, element: 'paragraph 2 (Dialogue)' });
  });
});
