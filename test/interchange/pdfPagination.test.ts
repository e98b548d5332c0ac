// The pure page layout of the PDF export (src/interchange/pagination.ts): every rule on constructed
// documents, then properties over random documents.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BODY_TOP,
  CHAR_WIDTH,
  LINE_HEIGHT,
  LINES_PER_PAGE,
  PAGE_NUMBER_TOP,
  layoutTitlePage,
  paginateScreenplay,
  wrapText,
} from '../../src/interchange/pagination.ts';
import type { LaidOutPage, PageLine } from '../../src/interchange/pagination.ts';
import type { CanonicalRestBlock } from '../../src/screenplay/index.ts';
import { documentOf } from './pdfSupport.ts';

const block = (type: string, text: string, extra: Partial<CanonicalRestBlock> = {}): CanonicalRestBlock => ({ type, text, ...extra });
const heading = (text: string, extra: Partial<CanonicalRestBlock> = {}) => block('scene_heading', text, extra);
const action = (text: string) => block('action', text);
const cue = (text: string, extra: Partial<CanonicalRestBlock> = {}) => block('character', text, extra);
const dialogue = (text: string) => block('dialogue', text);
/** An action block of exactly `rows` lines. */
const filler = (rows: number) => action(Array.from({ length: rows }, (_, i) => `Filler line ${i + 1}.`).join('\n'));

const layout = (blocks: CanonicalRestBlock[], options = {}) => paginateScreenplay(documentOf(blocks), options);
const body = (page: LaidOutPage) => page.lines.filter((l) => l.row !== null && l.type !== 'scene_number');
const lastBody = (page: LaidOutPage) => body(page).reduce((a, b) => ((b.row ?? 0) >= (a.row ?? 0) ? b : a));
const firstBody = (page: LaidOutPage) => body(page)[0];
const inches = (points: number) => points / 72;
/** A dialogue of `sentences` sentences of about 30 characters. */
const longSpeech = (sentences: number) => Array.from({ length: sentences }, (_, i) => `This is sentence number ${i + 1} here.`).join(' ');

describe('element geometry', () => {
  const pages = layout([
    heading('int. diner - night'),
    action('Rain.'),
    cue('maya'),
    block('parenthetical', '(quietly)'),
    dialogue('We were never here.'),
    block('transition', 'cut to:'),
    block('centered', 'THE END'),
    block('general', 'A general line.'),
    block('shot', 'close on the cup'),
    block('lyric', 'Happy birthday to you'),
  ]).pages;
  const line = (type: string) => pages[0].lines.find((l) => l.type === type)!;

  it('sets each element at Final Draft\'s indent', () => {
    expect(inches(line('scene_heading').x)).toBeCloseTo(1.5);
    expect(inches(line('action').x)).toBeCloseTo(1.5);
    expect(inches(line('general').x)).toBeCloseTo(1.5);
    expect(inches(line('shot').x)).toBeCloseTo(1.5);
    expect(inches(line('character').x)).toBeCloseTo(3.7);
    expect(inches(line('parenthetical').x)).toBeCloseTo(3.1);
    expect(inches(line('dialogue').x)).toBeCloseTo(2.5);
    expect(inches(line('lyric').x)).toBeCloseTo(2.5);
  });

  it('right-aligns transitions to 7.5" and centres centred text on the column', () => {
    const transition = line('transition');
    expect(inches(transition.x + transition.text.length * CHAR_WIDTH)).toBeCloseTo(7.5);
    const centered = line('centered');
    expect(inches(centered.x + (centered.text.length * CHAR_WIDTH) / 2)).toBeCloseTo(4.5);
  });

  it('capitalises headings, cues, transitions and shots, and leaves the rest as written', () => {
    expect(line('scene_heading').text).toBe('INT. DINER - NIGHT');
    expect(line('character').text).toBe('MAYA');
    expect(line('transition').text).toBe('CUT TO:');
    expect(line('shot').text).toBe('CLOSE ON THE CUP');
    expect(line('action').text).toBe('Rain.');
    expect(line('parenthetical').text).toBe('(quietly)');
  });

  it('prints lyrics in italics', () => {
    expect(line('lyric').italic).toBe(true);
    expect(line('dialogue').italic).toBeUndefined();
  });

  it('puts one blank line between elements and none inside a speech', () => {
    const rows = Object.fromEntries(pages[0].lines.map((l) => [l.type, l.row]));
    expect(rows).toMatchObject({ scene_heading: 0, action: 2, character: 4, parenthetical: 5, dialogue: 6, transition: 8, centered: 10, general: 12, shot: 14, lyric: 16 });
    for (const l of body(pages[0])) expect(l.y).toBe(BODY_TOP + (l.row ?? 0) * LINE_HEIGHT);
  });
});

describe('word wrap', () => {
  it('wraps each element within its width', () => {
    const words = 'The quick brown fox jumps over the lazy dog and keeps on running far away. '.repeat(4);
    const pages = layout([action(words), cue('maya'), block('parenthetical', `(${words.trim()})`), dialogue(words)]).pages;
    const widths = { action: 60, dialogue: 35, parenthetical: 20 } as Record<string, number>;
    for (const l of pages[0].lines) if (widths[l.type]) expect(l.text.length).toBeLessThanOrEqual(widths[l.type]);
    // A parenthetical's continuation lines hang one character in, under the text after "(".
    const parens = pages[0].lines.filter((l) => l.type === 'parenthetical');
    expect(parens.length).toBeGreaterThan(2);
    expect(parens[1].x - parens[0].x).toBeCloseTo(CHAR_WIDTH);
  });

  it('breaks at spaces, keeps newlines, and cuts a word longer than the line', () => {
    const text = 'aaaa bbbb cccc\n\ndddddddddddd';
    const spans = wrapText(text, 10);
    expect(spans.map((s) => text.slice(s.start, s.end))).toEqual(['aaaa bbbb', 'cccc', '', 'dddddddddd', 'dd']);
  });
});

describe('page breaks', () => {
  it('numbers pages from 2, top right, and not page 1', () => {
    const pages = layout([filler(50), filler(50), filler(50)]).pages;
    expect(pages).toHaveLength(3);
    expect(pages[0].lines.some((l) => l.type === 'page_number')).toBe(false);
    const number = pages[1].lines.find((l) => l.type === 'page_number')!;
    expect(number).toMatchObject({ text: '2.', y: PAGE_NUMBER_TOP, row: null });
    expect(inches(number.x + number.text.length * CHAR_WIDTH)).toBeCloseTo(7.5);
    expect(pages[2].lines.find((l) => l.type === 'page_number')!.text).toBe('3.');
  });

  it('fills a page with exactly LINES_PER_PAGE lines and no blank line at the head of the next', () => {
    const pages = layout([filler(LINES_PER_PAGE), action('Next.')]).pages;
    expect(lastBody(pages[0]).row).toBe(LINES_PER_PAGE - 1);
    expect(firstBody(pages[1])).toMatchObject({ text: 'Next.', row: 0 });
  });

  it('page_break starts a new page, and does nothing at the head of a page or the end of the script', () => {
    const pages = layout([block('page_break', ''), action('One.'), block('page_break', ''), block('page_break', ''), action('Two.'), block('page_break', '')]).pages;
    expect(pages).toHaveLength(2);
    expect(firstBody(pages[0]).text).toBe('One.');
    expect(firstBody(pages[1])).toMatchObject({ text: 'Two.', row: 0 });
  });

  it('does not print notes, sections, synopses or boneyards', () => {
    const pages = layout([block('section', 'ACT ONE', { depth: 1 }), block('synopsis', 'She leaves.'), block('note', 'fix'), block('boneyard', 'old'), action('Printed.')]).pages;
    expect(body(pages[0]).map((l) => l.text)).toEqual(['Printed.']);
    expect(firstBody(pages[0]).row).toBe(0);
  });

  it('prints an unknown block type like action', () => {
    const pages = layout([block('cast_list', 'MAYA, a driver', { fdx_type: 'Cast List' })]).pages;
    expect(firstBody(pages[0])).toMatchObject({ type: 'cast_list', text: 'MAYA, a driver', x: 1.5 * 72 });
  });
});

describe('headings and cues at the foot of a page', () => {
  it('moves a heading that cannot keep two lines of what follows to the next page', () => {
    // filler rows 0-50, heading would be row 52 with action from row 54: one line only.
    const pages = layout([filler(51), heading('INT. ATTIC - DAY'), action('One.\nTwo.\nThree.')]).pages;
    expect(lastBody(pages[0]).type).toBe('action');
    expect(firstBody(pages[1])).toMatchObject({ type: 'scene_heading', row: 0 });
  });

  it('keeps a heading at the foot when two lines of the action after it fit, splitting the action', () => {
    // heading row 51, action rows 53-54 (two of its four lines), two more on the next page.
    const pages = layout([filler(50), heading('INT. ATTIC - DAY'), action('One.\nTwo.\nThree.\nFour.')]).pages;
    expect(body(pages[0]).find((l) => l.type === 'scene_heading')!.row).toBe(51);
    expect(body(pages[0]).filter((l) => l.type === 'action').slice(-2).map((l) => l.text)).toEqual(['One.', 'Two.']);
    expect(body(pages[1]).map((l) => l.text)).toEqual(['Three.', 'Four.']);
  });

  it('moves an action of three lines whole rather than leave one line on either side', () => {
    const pages = layout([filler(52), action('One.\nTwo.\nThree.')]).pages;
    expect(body(pages[1]).map((l) => l.text)).toEqual(['One.', 'Two.', 'Three.']);
  });

  it('moves a cue to the next page with its dialogue when two lines of it cannot follow', () => {
    // cue row 52, dialogue would get rows 53-54, leaving no row for (MORE).
    const pages = layout([filler(51), cue('MAYA'), dialogue(longSpeech(4))]).pages;
    expect(lastBody(pages[0]).type).toBe('action');
    expect(firstBody(pages[1])).toMatchObject({ type: 'character', text: 'MAYA', row: 0 });
    expect(pages[1].lines.some((l) => l.continued)).toBe(false);
  });

  it('keeps a cue with its parenthetical and two lines of dialogue', () => {
    // cue row 49, parenthetical 50-51, dialogue 52-53, (MORE) 54: the minimum that may stay.
    const paren = '(very quietly, almost to herself)';
    expect(wrapText(paren, 20, 1)).toHaveLength(2);
    const pages = layout([filler(48), cue('MAYA'), block('parenthetical', paren), dialogue(longSpeech(8))]).pages;
    const foot = body(pages[0]).slice(-6);
    expect(foot.map((l) => l.type)).toEqual(['character', 'parenthetical', 'parenthetical', 'dialogue', 'dialogue', 'more']);
    // One row later and the whole speech moves.
    const later = layout([filler(49), cue('MAYA'), block('parenthetical', paren), dialogue(longSpeech(8))]).pages;
    expect(lastBody(later[0]).type).toBe('action');
    expect(firstBody(later[1]).type).toBe('character');
  });

  it('sets a heading at the head of a page even when what follows cannot keep to it, without a page of its own', () => {
    // Side by side the pair takes 54 rows: with the heading and its blank line, 56.
    const tall = Array.from({ length: 53 }, (_, i) => `Line ${i}.`).join('\n');
    const pages = layout([heading('INT. ATTIC - DAY'), cue('MAYA', { dual: 'left' }), dialogue(tall), cue('TOMAS', { dual: 'right' }), dialogue('No.'), action('After.')]).pages;
    expect(pages.map((p) => body(p).length > 0)).toEqual([true, true, true]);
    expect(body(pages[0]).map((l) => l.type)).toEqual(['scene_heading']);
    expect(firstBody(pages[1])).toMatchObject({ text: 'MAYA', row: 0 });
    expect(firstBody(pages[2])).toMatchObject({ text: 'After.', row: 0 });
    const after = layout([heading('INT. ATTIC - DAY'), action(tall + '\nOne.\nTwo.')]).pages;
    expect(body(after[0]).slice(0, 2).map((l) => [l.type, l.row])).toEqual([
      ['scene_heading', 0],
      ['action', 2],
    ]);
  });

  it('moves a heading whose speech must move, so the heading is not left alone', () => {
    // heading row 50, cue 52, dialogue 53-54 and no row for (MORE): the speech moves, and the heading with it.
    const pages = layout([filler(49), heading('INT. ATTIC - DAY'), cue('MAYA'), dialogue(longSpeech(6))]).pages;
    expect(lastBody(pages[0]).type).toBe('action');
    expect(body(pages[1]).slice(0, 2).map((l) => l.type)).toEqual(['scene_heading', 'character']);
  });
});

describe('dialogue split across pages', () => {
  const pages = layout([heading('INT. HALL - NIGHT'), cue('maya (v.o.)'), dialogue(longSpeech(150)), action('After.')]).pages;

  it('ends each page of the speech with (MORE) at the cue indent, and starts the next with NAME (CONT\'D)', () => {
    expect(pages.length).toBeGreaterThanOrEqual(3);
    for (let n = 0; n + 1 < pages.length; n++) {
      const foot = lastBody(pages[n]);
      expect(foot).toMatchObject({ type: 'more', text: '(MORE)', x: 3.7 * 72 });
      expect(foot.row).toBeLessThan(LINES_PER_PAGE);
      const head = firstBody(pages[n + 1]);
      expect(head).toMatchObject({ type: 'character', text: "MAYA (V.O.) (CONT'D)", row: 0, continued: true });
    }
  });

  it('splits at a sentence end, with at least two lines of dialogue each side', () => {
    for (let n = 0; n + 1 < pages.length; n++) {
      const lines = body(pages[n]);
      const beforeMore = lines[lines.length - 2];
      expect(beforeMore.type).toBe('dialogue');
      expect(beforeMore.text).toMatch(/\.$/);
      expect(lines.filter((l) => l.type === 'dialogue').length).toBeGreaterThanOrEqual(2);
      expect(body(pages[n + 1]).filter((l) => l.type === 'dialogue').length).toBeGreaterThanOrEqual(2);
    }
  });

  it('loses no word of the speech and repeats none', () => {
    const spoken = pages.flatMap((p) => body(p).filter((l) => l.type === 'dialogue').map((l) => l.text)).join(' ');
    expect(spoken).toBe(longSpeech(150));
  });

  it('splits inside a line at a sentence end rather than at a line end mid-sentence', () => {
    // 52 filler rows leave rows 53-54 after the cue (row 52 would be the blank): no room. With 47,
    // the dialogue gets rows 49-53 and (MORE) row 54.
    const speech = 'One two three four five six seven. Eight nine ten eleven twelve thirteen fourteen fifteen sixteen. ' + longSpeech(20);
    const split = layout([filler(47), cue('MAYA'), dialogue(speech)]).pages;
    const dialogueOnFirst = body(split[0]).filter((l) => l.type === 'dialogue');
    expect(dialogueOnFirst.at(-1)!.text).toMatch(/[.?!]$/);
    const words = split.flatMap((p) => body(p).filter((l) => l.type === 'dialogue').map((l) => l.text)).join(' ');
    expect(words).toBe(speech);
  });

  it('never ends a page of a speech with a parenthetical', () => {
    const speech = [cue('MAYA'), dialogue(longSpeech(3)), block('parenthetical', '(beat)'), dialogue(longSpeech(3))];
    for (let fill = 40; fill <= 54; fill++) {
      const result = layout([filler(fill), ...speech]).pages;
      for (const page of result.slice(0, -1)) {
        const lines = body(page);
        const more = lines.findIndex((l) => l.type === 'more');
        if (more > 0) expect(lines[more - 1].type).not.toBe('parenthetical');
      }
    }
  });

  it("does not add a second (CONT'D) to a cue that has one", () => {
    const result = layout([cue("MAYA (CONT'D)"), dialogue(longSpeech(120))]).pages;
    expect(firstBody(result[1]).text).toBe("MAYA (CONT'D)");
  });
});

describe('speakers', () => {
  it("gives dialogue with a character field and no cue its cue (the architecture document's form)", () => {
    const pages = layout([action('Rain.'), block('dialogue', 'Hi.', { character: 'maya' }), block('dialogue', 'Hello.', { character: 'TOMAS' })]).pages;
    expect(body(pages[0]).map((l) => [l.type, l.text, l.row])).toEqual([
      ['action', 'Rain.', 0],
      ['character', 'MAYA', 2],
      ['dialogue', 'Hi.', 3],
      ['character', 'TOMAS', 5],
      ['dialogue', 'Hello.', 6],
    ]);
  });

  it('sets dialogue with no speaker at the dialogue indent, lyrics without blank lines between them', () => {
    const pages = layout([action('Singing.'), block('lyric', 'Row, row, row'), block('lyric', 'your boat')]).pages;
    expect(body(pages[0]).map((l) => [l.type, l.row, l.x])).toEqual([
      ['action', 0, 108],
      ['lyric', 2, 180],
      ['lyric', 3, 180],
    ]);
  });
});

describe('scene numbers', () => {
  const blocks = [heading('INT. A - DAY'), action('One.'), heading('INT. B - DAY', { scene_number: '12A' }), action('Two.')];

  it('are off by default', () => {
    expect(layout(blocks).pages[0].lines.some((l) => l.type === 'scene_number')).toBe(false);
  });

  it('print in both margins on the heading line: the heading\'s scene_number, else its ordinal', () => {
    const lines = layout(blocks, { sceneNumbers: true }).pages[0].lines.filter((l) => l.type === 'scene_number');
    expect(lines.map((l) => [l.text, l.row])).toEqual([
      ['1', 0],
      ['1', 0],
      ['12A', 4],
      ['12A', 4],
    ]);
    const [left, right] = lines.slice(2);
    expect(inches(left.x + left.text.length * CHAR_WIDTH)).toBeCloseTo(1.2);
    expect(inches(right.x)).toBeCloseTo(7.8);
  });
});

describe('dual dialogue', () => {
  it('sets the two speeches side by side from the same row', () => {
    const pages = layout([
      action('Both talk.'),
      cue('MAYA', { dual: 'left' }),
      dialogue('Stop right there, all of you.'),
      cue('TOMAS', { dual: 'right' }),
      dialogue('No.'),
      action('After.'),
    ]).pages;
    const lines = body(pages[0]);
    const maya = lines.find((l) => l.text === 'MAYA')!;
    const tomas = lines.find((l) => l.text === 'TOMAS')!;
    expect(maya.row).toBe(tomas.row);
    expect(maya.x).toBeLessThan(tomas.x);
    const left = lines.filter((l) => l.type === 'dialogue' && l.x < 4.5 * 72);
    for (const l of left) expect(l.x + l.text.length * CHAR_WIDTH).toBeLessThanOrEqual(4.5 * 72);
    // The taller (left) speech decides where the next element goes.
    expect(lines.find((l) => l.text === 'After.')!.row).toBe((maya.row ?? 0) + 1 + left.length + 1);
  });
});

describe('title page', () => {
  it('centres the title a third down, then "Written by" and the author; contact bottom left, draft date bottom right', () => {
    const lines = layoutTitlePage(
      documentOf([], { title: 'Fallback', titlePage: { title: 'The Long Night', author: 'Ana Writer', contact: 'ana@example.com\n555 0100', draft_date: 'Draft 3' } }),
    )!;
    const by = (type: string) => lines.filter((l) => l.type === type);
    const [title] = by('title');
    expect(title.text).toBe('The Long Night');
    expect(inches(title.y)).toBeGreaterThan(3.4);
    expect(inches(title.y)).toBeLessThan(3.9);
    expect(inches(title.x + (title.text.length * CHAR_WIDTH) / 2)).toBeCloseTo(4.5);
    expect(by('credit')[0].text).toBe('Written by');
    expect(by('author')[0].row).toBeGreaterThan(by('credit')[0].row!);
    expect(by('contact').map((l) => l.text)).toEqual(['ana@example.com', '555 0100']);
    expect(inches(by('contact')[0].x)).toBeCloseTo(1.5);
    expect(by('contact')[1].row).toBe(LINES_PER_PAGE - 1);
    const date = by('draft_date')[0];
    expect(inches(date.x + date.text.length * CHAR_WIDTH)).toBeCloseTo(7.5);
    expect(date.row).toBe(LINES_PER_PAGE - 1);
  });

  it('uses doc.title when the title page has none, and is absent when there is nothing to show', () => {
    expect(layoutTitlePage(documentOf([], { title: 'Fallback' }))!.map((l) => l.text)).toEqual(['Fallback']);
    expect(layoutTitlePage(documentOf([]))).toBeNull();
    expect(paginateScreenplay(documentOf([action('x')], { title: 'T' }), { titlePage: false }).titlePage).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const word = fc.stringMatching(/^[A-Za-z]{1,12}[.,?!]?$/);
const sentence = fc.array(word, { minLength: 1, maxLength: 14 }).map((w) => `${w.join(' ')}.`);
const paragraph = (max: number) => fc.array(sentence, { minLength: 1, maxLength: max }).map((s) => s.join(' '));
const blockArb: fc.Arbitrary<CanonicalRestBlock[]> = fc.oneof(
  { weight: 2, arbitrary: fc.tuple(fc.stringMatching(/^(INT|EXT)\. [A-Z]{2,10} - (DAY|NIGHT)$/)).map(([t]) => [heading(t)]) },
  { weight: 3, arbitrary: paragraph(12).map((t) => [action(t)]) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(fc.constantFrom('MAYA', 'TOMAS', 'DR. OKAFOR (V.O.)'), fc.boolean(), paragraph(30), fc.option(paragraph(6), { nil: undefined }))
      .map(([name, paren, speech, more]) => [
        cue(name),
        ...(paren ? [block('parenthetical', '(under her breath, not looking up)')] : []),
        dialogue(speech),
        ...(more ? [block('parenthetical', '(beat)'), dialogue(more)] : []),
      ]),
  },
  { weight: 1, arbitrary: fc.constant<CanonicalRestBlock[]>([block('transition', 'CUT TO:')]) },
  { weight: 1, arbitrary: fc.constant<CanonicalRestBlock[]>([block('page_break', '')]) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 60 }).map((n) => [filler(n)]) },
  {
    weight: 1,
    arbitrary: fc.tuple(paragraph(3), paragraph(3)).map(([a, b]) => [cue('MAYA', { dual: 'left' }), dialogue(a), cue('TOMAS', { dual: 'right' }), dialogue(b)]),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('centered', 'general', 'shot', 'lyric', 'cast_list'), paragraph(4))
      .map(([type, text]) => [block(type, type === 'shot' ? text.toUpperCase() : text)]),
  },
  { weight: 1, arbitrary: paragraph(8).map((t) => [block('note', t), block('synopsis', t)]) },
  {
    weight: 1,
    // Bold over part of the text: the layout carries marks into the lines that show those characters.
    arbitrary: paragraph(10).map((t) => [{ ...action(t), marks: [{ type: 'bold' as const, from: 0, to: Math.min(t.length, 25) }] }]),
  },
);
const documentArb = fc.array(blockArb, { maxLength: 60 }).map((groups) => groups.flat());

const UPPER = new Set(['scene_heading', 'character', 'transition', 'shot']);
const UNPRINTED = new Set(['page_break', 'note', 'synopsis']);
const visible = (s: string) => s.replace(/\s+/g, '');

describe('wrap properties', () => {
  const textArb = fc.array(fc.oneof(word, fc.constantFrom(' ', '  ', '\n', '. ', '? ', 'x'.repeat(45))), { maxLength: 80 }).map((parts) => parts.join(' '));

  it('cutting a text at a sentence end leaves the lines before the cut as they were', () => {
    fc.assert(
      fc.property(textArb, fc.integer({ min: 10, max: 60 }), fc.integer({ min: 0, max: 2 }), (text, width, hang) => {
        const lines = wrapText(text, width, hang);
        for (const match of text.matchAll(/[.?!] +(?=\S)/g)) {
          const cut = match.index + match[0].length;
          const line = lines.findLastIndex((l) => l.start <= cut);
          if (lines[line].start === cut) continue;
          // The property splitsOf counts on: the part before the cut takes line + 1 rows.
          const before = wrapText(text.slice(0, cut), width, hang);
          expect(before).toHaveLength(line + 1);
          expect(before.slice(0, line)).toEqual(lines.slice(0, line));
          expect(before[line].start).toBe(lines[line].start);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every visible character once, in order, within the width', () => {
    fc.assert(
      fc.property(textArb, fc.integer({ min: 5, max: 60 }), (text, width) => {
        const lines = wrapText(text, width);
        for (const l of lines) expect(l.end - l.start).toBeLessThanOrEqual(width);
        expect(lines.map((l) => text.slice(l.start, l.end)).join('').replace(/\s/g, '')).toBe(text.replace(/\s/g, ''));
      }),
      { numRuns: 300 },
    );
  });

  it('lays out a block of a million characters in one paragraph', () => {
    const text = 'Word '.repeat(200_000).trim();
    const { pages } = layout([action(text)]);
    expect(pages).toHaveLength(Math.ceil(wrapText(text, 60).length / LINES_PER_PAGE));
    expect(pages.flatMap((p) => body(p).map((l) => l.text)).join(' ')).toBe(text);
  });
});

describe('layout properties', () => {
  it('never exceeds the line limit, never ends a page on a heading or cue, and prints every text once, in order', () => {
    fc.assert(
      fc.property(documentArb, fc.boolean(), (blocks, sceneNumbers) => {
        const { pages, pageCount } = layout(blocks, { sceneNumbers });
        expect(pageCount).toBe(pages.length);
        expect(pages.length).toBeGreaterThanOrEqual(1);
        let printed = '';
        pages.forEach((page, n) => {
          const lines = body(page);
          for (const l of lines) {
            expect(l.row).toBeGreaterThanOrEqual(0);
            expect(l.row).toBeLessThan(LINES_PER_PAGE);
            // Inside the 1.5" left and 1" right margins (scene numbers, which sit in them, are not body lines).
            expect(l.x).toBeGreaterThanOrEqual(1.5 * 72 - 1e-9);
            expect(l.x + l.text.length * CHAR_WIDTH).toBeLessThanOrEqual(7.5 * 72 + 1e-9);
            for (const mark of l.marks ?? []) expect(mark.to).toBeLessThanOrEqual(l.text.length);
          }
          if (lines.length > 0 && n + 1 < pages.length) {
            // A forced page_break right after a heading may leave it last; the generator puts one anywhere.
            const last = lastBody(page);
            const nextIsBreak = firstBody(pages[n + 1]) !== undefined && isAfterPageBreak(blocks, last);
            if (!nextIsBreak) expect(['scene_heading', 'character']).not.toContain(last.type);
          }
          // (MORE) is the last line of its page, and the next page starts with the cue again.
          const more = lines.filter((l) => l.type === 'more');
          if (more.length > 0) {
            expect(more).toHaveLength(1);
            expect(more[0]).toBe(lastBody(page));
            expect(firstBody(pages[n + 1])).toMatchObject({ type: 'character', row: 0, continued: true });
          }
          // Body lines in reading order: by row, the left column of dual dialogue before the right.
          for (const l of lines) if (l.type !== 'more' && !l.continued) printed += l.text;
        });
        const expected = blocks
          .filter((b) => !UNPRINTED.has(b.type))
          .map((b) => (UPPER.has(b.type) ? b.text.toUpperCase() : b.text))
          .join('');
        expect(visible(printed)).toBe(visible(expected));
      }),
      { numRuns: 300 },
    );
  });
});

/** Whether a block of the type a page's last line shows is followed by a page_break among the printed blocks. */
function isAfterPageBreak(blocks: CanonicalRestBlock[], last: PageLine): boolean {
  const printed = blocks.filter((b) => b.type !== 'note' && b.type !== 'synopsis');
  return printed.some((b, i) => b.type === last.type && printed[i + 1]?.type === 'page_break');
}
