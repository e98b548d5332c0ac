// Fountain in and out on a real file with every element, on emphasis and escapes, and on the
// files it refuses (pure: no database).
import { describe, expect, it } from 'vitest';
import { decodeScreenplayText } from '../../src/interchange/errors.ts';
import { MAX_FOUNTAIN_INDENT, MAX_FOUNTAIN_LINE, parseFountain, parseFountainInline, serializeFountain, writeFountainInline } from '../../src/interchange/fountain.ts';
import { parseRestBlocks } from '../../src/screenplay/index.ts';
import { fixtureText, parseError } from './support.ts';

const fixture = fixtureText('night-shift.fountain');

describe('Fountain: a real screenplay file', () => {
  const doc = parseFountain(fixture);
  const blocks = doc.scenes.flatMap((scene) => scene.blocks);

  it('reads the title page as metadata', () => {
    expect(doc.title).toBe('NIGHT SHIFT');
    expect(doc.titlePage).toEqual({
      title: 'NIGHT SHIFT',
      credit: 'Written by',
      author: 'Ana Ribeiro',
      source: 'Based on a true story',
      draft_date: '3 December 2026',
      contact: 'Writers Room Collab\n12 Harbour Street',
      copyright: '(c) 2026 Ana Ribeiro',
    });
  });

  it('cuts one scene per heading, plus the text before the first', () => {
    expect(doc.scenes.map((scene) => scene.blocks[0]!.type)).toEqual(['note', 'scene_heading', 'scene_heading', 'scene_heading', 'scene_heading']);
    expect(doc.scenes[0]!.blocks).toEqual([
      { type: 'note', text: 'Cold open: keep it under a page.' },
      { type: 'section', text: 'ACT ONE', depth: 1 },
      { type: 'section', text: 'The diner', depth: 2 },
      { type: 'synopsis', text: 'Maya learns the diner is closing.' },
    ]);
  });

  it('maps every element to our blocks', () => {
    const find = (type: string, text?: string) => blocks.find((b) => b.type === type && (text === undefined || b.text === text));
    expect(find('scene_heading', 'INT. DINER - NIGHT')).toEqual({ type: 'scene_heading', text: 'INT. DINER - NIGHT', scene_number: '1' });
    expect(find('scene_heading', 'FLASHBACK - MAYA AT SIX')).toEqual({ type: 'scene_heading', text: 'FLASHBACK - MAYA AT SIX' });
    expect(find('character', 'MAYA (V.O.)')).toBeDefined();
    expect(find('character', "MAYA (CONT'D)")).toBeDefined();
    expect(find('character', 'McGREGOR')).toBeDefined();
    expect(find('parenthetical', '(quietly)')).toBeDefined();
    expect(find('dialogue', 'Until it does.')).toBeDefined();
    expect(find('lyric')).toEqual({ type: 'lyric', text: 'Nobody leaves the diner,\nnot even at dawn.' });
    expect(find('centered')).toEqual({ type: 'centered', text: 'THE END OF THE BEGINNING' });
    expect(find('transition', 'CUT TO:')).toBeDefined();
    expect(find('transition', 'SMASH CUT TO:')).toBeDefined();
    expect(find('transition', 'FADE OUT.')).toBeDefined();
    expect(find('page_break')).toEqual({ type: 'page_break', text: '' });
    expect(find('boneyard')).toEqual({ type: 'boneyard', text: ' Cut line:\nMAYA asks about the lease. ' });
    expect(find('action', 'THE RADIO CRACKLES.')).toBeDefined();
    expect(find('action', 'Maya steps out. Price of coffee: $2 * 3 = $6.')).toBeDefined();
    // An inline note stays in its paragraph's text.
    expect(find('action', 'Sun. A kitchen. Pancakes [[check period detail]] on the stove.')).toBeDefined();
  });

  it('keeps dual dialogue as dual = left / right on the two cues', () => {
    const joe = blocks.findIndex((b) => b.type === 'character' && b.dual === 'right');
    expect(blocks[joe]).toEqual({ type: 'character', text: 'JOE', dual: 'right' });
    const left = blocks.slice(0, joe).reverse().find((b) => b.type === 'character')!;
    expect(left).toEqual({ type: 'character', text: 'MAYA', dual: 'left' });
    expect(blocks.filter((b) => b.dual !== undefined)).toHaveLength(2);
  });

  it('reads emphasis as marks', () => {
    expect(blocks.find((b) => b.text.startsWith('Rain hammers'))).toEqual({
      type: 'action',
      text: 'Rain hammers the windows. Neon buzzes: OPEN 24 HOURS.\nA single customer, soaked, nurses a coffee.',
      marks: [
        { type: 'italic', from: 39, to: 52 },
        { type: 'bold', from: 56, to: 62 },
        { type: 'underline', from: 73, to: 79 },
      ],
    });
  });

  it('gives valid REST blocks, and its export is canonical (export -> import -> export is the same text)', () => {
    for (const scene of doc.scenes) parseRestBlocks(scene.blocks);
    const exported = serializeFountain(doc);
    expect(parseFountain(exported)).toEqual(doc);
    expect(serializeFountain(parseFountain(exported))).toBe(exported);
    expect(exported).toContain('INT. DINER - NIGHT #1#');
    expect(exported).toContain('JOE ^\n');
    expect(exported).toContain('@McGREGOR\n');
    expect(exported).toContain('.FLASHBACK - MAYA AT SIX');
    expect(exported).toContain('$2 \\* 3');
  });
});

describe('Fountain emphasis and escapes', () => {
  it.each([
    ['plain', 'plain', []],
    ['*it* **bo** ***both*** _un_', 'it bo both un', [
      { type: 'italic', from: 0, to: 2 },
      { type: 'bold', from: 3, to: 5 },
      { type: 'bold', from: 6, to: 10 },
      { type: 'italic', from: 6, to: 10 },
      { type: 'underline', from: 11, to: 13 },
    ]],
    ['5 * 3 = 15', '5 * 3 = 15', []],
    ['\\*not\\* \\_this\\_ \\\\', '*not* _this_ \\', []],
    ['_**both**_', 'both', [
      { type: 'bold', from: 0, to: 4 },
      { type: 'underline', from: 0, to: 4 },
    ]],
  ] as const)('%s', (raw, text, marks) => {
    const read = parseFountainInline(raw);
    expect(read.text).toBe(text);
    expect(read.marks).toEqual(marks);
    // What the writer makes of it reads back the same.
    expect(parseFountainInline(writeFountainInline(read.text, read.marks))).toEqual(read);
  });

  it('writes overlapping marks so they read back exactly', () => {
    const marks = [
      { type: 'bold' as const, from: 0, to: 6 },
      { type: 'italic' as const, from: 3, to: 9 },
    ];
    const written = writeFountainInline('abcdefghi', marks);
    expect(written).toBe('**abc*def**ghi*');
    expect(parseFountainInline(written)).toEqual({ text: 'abcdefghi', marks: [marks[0], marks[1]] });
  });
});

describe('Fountain: files it refuses', () => {
  it('an empty file', () => {
    expect(parseError(() => parseFountain('')).code).toBe('EMPTY_SCREENPLAY');
    expect(parseError(() => parseFountain('\n  \n\n')).code).toBe('EMPTY_SCREENPLAY');
  });

  it('an unterminated boneyard, with its line', () => {
    const error = parseError(() => parseFountain('INT. HOUSE - DAY\n\nText.\n\n/* cut\nmore\n'));
    expect(error.code).toBe('MALFORMED_SCREENPLAY');
    expect(error.location).toEqual({ line: 5, element: 'boneyard' });
    expect(error.message).toBe('a boneyard (/*) is never closed with */ (line 5, boneyard)');
  });

  it('lines the lexer cannot read in reasonable time: over-long, or indented by more than 64', () => {
    const long = parseError(() => parseFountain(`INT. HOUSE - DAY\n\n${'a'.repeat(MAX_FOUNTAIN_LINE + 1)}\n`));
    expect(long).toMatchObject({ code: 'MALFORMED_SCREENPLAY', location: { line: 3 } });
    const indented = parseError(() => parseFountain(`BOB\n${' '.repeat(MAX_FOUNTAIN_INDENT + 1)}Hi.\n`));
    expect(indented).toMatchObject({ code: 'MALFORMED_SCREENPLAY', location: { line: 2 } });
    // At the limits, and a blank line of any length, are fine.
    expect(parseFountain(`BOB\n${' '.repeat(MAX_FOUNTAIN_INDENT)}Hi.\n${' '.repeat(500)}\n\n${'a'.repeat(MAX_FOUNTAIN_LINE)}\n`).scenes[0]!.blocks.map((b) => b.type)).toEqual([
      'character',
      'dialogue',
      'action',
    ]);
  });

  it('XML given as Fountain', () => {
    expect(parseError(() => parseFountain('<?xml version="1.0"?><FinalDraft/>')).code).toBe('NOT_A_SCREENPLAY');
  });

  it('bytes that are not UTF-8 text, or text with control characters, with the line', () => {
    const invalid = parseError(() => decodeScreenplayText(new Uint8Array([0x49, 0x4e, 0x54, 0x0a, 0x0a, 0xff, 0xfe]), 'fountain'));
    expect(invalid).toMatchObject({ code: 'NOT_A_SCREENPLAY', location: { line: 3 } });
    const control = parseError(() => decodeScreenplayText(new TextEncoder().encode('INT. HOUSE\n\nA\u0000B'), 'fountain'));
    expect(control).toMatchObject({ code: 'NOT_A_SCREENPLAY', location: { line: 3 } });
    expect(decodeScreenplayText(new TextEncoder().encode('\uFEFFINT. HOUSE\r\n\tTab'), 'fountain')).toBe('INT. HOUSE\r\n\tTab');
  });
});
