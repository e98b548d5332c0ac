// The PDF export (src/interchange/pdf.ts) read back with pdfjs-dist: what is on each page and where.
import { beforeAll, describe, expect, it } from 'vitest';
import { BODY_TOP, CHAR_WIDTH, LINES_PER_PAGE, PAGE_NUMBER_TOP, paginateScreenplay } from '../../src/interchange/pagination.ts';
import { renderScreenplayPdf, toWinAnsi } from '../../src/interchange/pdf.ts';
import type { CanonicalRestBlock } from '../../src/screenplay/index.ts';
import { documentOf, featureScript, readPdf } from './pdfSupport.ts';
import type { PdfReadBack, PdfTextItem } from './pdfSupport.ts';

/** Courier's ascent at 12 pt: pdfkit puts the baseline this far below the top of the line. */
const ASCENT = (629 / 1000) * 12;
const inches = (points: number) => points / 72;
const rowOf = (item: PdfTextItem) => Math.round((item.baseline - ASCENT - BODY_TOP) / 12);
const bodyItems = (page: PdfTextItem[]) => page.filter((item) => item.baseline > BODY_TOP);

describe('a 120-page script', () => {
  const doc = featureScript(120);
  let pdf: Buffer;
  let back: PdfReadBack;
  const layout = paginateScreenplay(doc, { sceneNumbers: true });

  beforeAll(async () => {
    pdf = await renderScreenplayPdf(doc, { sceneNumbers: true });
    back = await readPdf(pdf);
  });

  it('has a title page and the layout\'s pages', () => {
    expect(layout.pageCount).toBe(120);
    expect(back.pages).toHaveLength(121);
    const title = back.pages[0].map((item) => item.text);
    expect(title).toEqual(expect.arrayContaining(['The Long Night', 'Written by', 'Ana Writer', 'ana@example.com', '3 December 2026']));
  });

  it('holds at most 55 lines a page, and about that many on pages the script fills', () => {
    const counts = back.pages.slice(1).map((page) => new Set(bodyItems(page).map(rowOf)).size);
    for (const [n, page] of back.pages.slice(1).entries()) {
      for (const item of bodyItems(page)) {
        expect(rowOf(item), `page ${n + 1}: ${item.text}`).toBeLessThan(LINES_PER_PAGE);
        expect(rowOf(item)).toBeGreaterThanOrEqual(0);
      }
    }
    // Blank lines between elements are not text; a full page of this script prints 35-50 of its 55 rows.
    const median = [...counts].sort((a, b) => a - b)[Math.floor(counts.length / 2)];
    expect(median).toBeGreaterThan(30);
    expect(Math.max(...counts)).toBeLessThanOrEqual(LINES_PER_PAGE);
  });

  it('draws every line of the layout at its position', () => {
    layout.pages.forEach((page, n) => {
      const items = back.pages[n + 1];
      for (const line of page.lines) {
        const found = items.find((item) => item.text === line.text && Math.abs(item.x - line.x) < 0.01 && Math.abs(item.baseline - (line.y + ASCENT)) < 0.01);
        expect(found, `page ${page.number}: ${line.type} "${line.text}"`).toBeDefined();
      }
      expect(items).toHaveLength(page.lines.length);
    });
  });

  it('numbers pages from 2, top right', () => {
    const numbers = back.pages.slice(1).map((page) => page.find((item) => item.baseline < BODY_TOP));
    expect(numbers[0]).toBeUndefined();
    numbers.slice(1).forEach((number, n) => {
      expect(number!.text).toBe(`${n + 2}.`);
      expect(number!.baseline).toBeCloseTo(PAGE_NUMBER_TOP + ASCENT);
      expect(inches(number!.x + number!.text.length * CHAR_WIDTH)).toBeCloseTo(7.5);
    });
  });

  it('prints scene numbers in both margins', () => {
    const page = back.pages[1];
    const heading = page.find((item) => item.text === 'INT. WAREHOUSE 1 - NIGHT')!;
    const numbers = page.filter((item) => item.text === '1' && Math.abs(item.baseline - heading.baseline) < 0.01);
    expect(numbers.map((item) => inches(item.x)).sort()).toEqual([expect.closeTo(1.1), expect.closeTo(7.8)]);
  });
});

const ALL_ELEMENTS: CanonicalRestBlock[] = [
  { type: 'scene_heading', text: 'INT. DINER - NIGHT' },
  { type: 'action', text: 'Rain on the glass.' },
  { type: 'character', text: 'MAYA' },
  { type: 'parenthetical', text: '(quietly)' },
  { type: 'dialogue', text: 'We were never here.' },
  { type: 'transition', text: 'CUT TO:' },
  { type: 'centered', text: 'THE END' },
  { type: 'shot', text: 'CLOSE ON THE CUP' },
  { type: 'lyric', text: 'Happy birthday' },
  { type: 'general', text: 'General text.' },
];

describe('element positions in the PDF', () => {
  it('sets each element type at its indent, in inches from the left edge', async () => {
    const back = await readPdf(await renderScreenplayPdf(documentOf(ALL_ELEMENTS), { titlePage: false }));
    expect(back.pages).toHaveLength(1);
    const at = (text: string) => inches(back.pages[0].find((item) => item.text === text)!.x);
    expect(at('INT. DINER - NIGHT')).toBeCloseTo(1.5);
    expect(at('Rain on the glass.')).toBeCloseTo(1.5);
    expect(at('MAYA')).toBeCloseTo(3.7);
    expect(at('(quietly)')).toBeCloseTo(3.1);
    expect(at('We were never here.')).toBeCloseTo(2.5);
    expect(at('CUT TO:') + 0.7).toBeCloseTo(7.5);
    expect(at('THE END') + 0.35).toBeCloseTo(4.5);
    expect(at('CLOSE ON THE CUP')).toBeCloseTo(1.5);
    expect(at('Happy birthday')).toBeCloseTo(2.5);
    expect(at('General text.')).toBeCloseTo(1.5);
  });

  it('draws formatted runs where their characters are, and characters Courier lacks as "?"', async () => {
    const doc = documentOf([
      { type: 'action', text: 'She is very late.', marks: [{ type: 'bold', from: 7, to: 11 }, { type: 'underline', from: 12, to: 16 }] },
      { type: 'action', text: 'Café “Noir” — 漢字 😀 end' },
    ]);
    const back = await readPdf(await renderScreenplayPdf(doc, { titlePage: false }));
    // The bold run is drawn on its own, seven characters in.
    const texts = back.items[0].map((item) => [item.text, inches(item.x)]);
    expect(texts).toEqual(expect.arrayContaining([['very', expect.closeTo(1.5 + 0.7)]]));
    expect(back.pages[0].find((item) => item.text.startsWith('She'))).toMatchObject({ text: 'She is very late.', x: 1.5 * 72 });
    expect(back.pages[0].find((item) => item.text.startsWith('Caf'))!.text).toBe('Café “Noir” — ?? ? end');
    expect(toWinAnsi('a漢😀b€')).toBe('a??b€');
    expect(toWinAnsi('Łódź, Ștefan, Dvořák, Ελλάδα')).toBe('?ódz, Stefan, Dvorák, ??????');
  });
});

describe('(MORE) and (CONT\'D) in the PDF', () => {
  it('ends a page of a split speech with (MORE) and starts the next with the cue and (CONT\'D)', async () => {
    const speech = Array.from({ length: 120 }, (_, i) => `Sentence ${i + 1} of the speech.`).join(' ');
    const back = await readPdf(await renderScreenplayPdf(documentOf([{ type: 'character', text: 'MAYA' }, { type: 'dialogue', text: speech }]), { titlePage: false }));
    expect(back.pages.length).toBeGreaterThanOrEqual(2);
    for (let n = 0; n + 1 < back.pages.length; n++) {
      const foot = bodyItems(back.pages[n]).reduce((a, b) => (b.baseline > a.baseline ? b : a));
      expect(foot.text).toBe('(MORE)');
      expect(inches(foot.x)).toBeCloseTo(3.7);
      const head = bodyItems(back.pages[n + 1]).reduce((a, b) => (b.baseline < a.baseline ? b : a));
      expect(head.text).toBe("MAYA (CONT'D)");
      expect(rowOf(head)).toBe(0);
    }
  });
});

describe('title page option', () => {
  const doc = documentOf([{ type: 'action', text: 'Only line.' }], { title: 'Short', titlePage: { author: 'Ana' } });

  it('is printed by default, unnumbered, before page 1', async () => {
    const back = await readPdf(await renderScreenplayPdf(doc));
    expect(back.pages).toHaveLength(2);
    expect(back.pages[0].map((item) => item.text)).toEqual(['Short', 'Written by', 'Ana']);
    expect(back.pages[1].map((item) => item.text)).toEqual(['Only line.']);
  });

  it('is left out with titlePage: false', async () => {
    const back = await readPdf(await renderScreenplayPdf(doc, { titlePage: false }));
    expect(back.pages).toHaveLength(1);
    expect(back.pages[0].map((item) => item.text)).toEqual(['Only line.']);
  });

  it('an empty script is one blank page', async () => {
    const back = await readPdf(await renderScreenplayPdf(documentOf([]), { titlePage: false }));
    expect(back.pages).toEqual([[]]);
  });
});

describe('document properties', () => {
  it('carry the title and author as written, characters Courier lacks included', async () => {
    const back = await readPdf(await renderScreenplayPdf(documentOf([{ type: 'action', text: 'x' }], { title: 'Nuit 漢字', titlePage: { author: 'Ana Żak' } })));
    expect(back.info).toMatchObject({ Title: 'Nuit 漢字', Author: 'Ana Żak', Creator: 'writersroom-collab' });
    // Drawn, the title page prints what Courier has.
    expect(back.pages[0].map((item) => item.text)).toEqual(['Nuit ??', 'Written by', 'Ana Zak']);
  });
});

describe('fonts', () => {
  it('uses the standard Courier faces for regular, bold and italic text, embedding none', async () => {
    const pdf = await renderScreenplayPdf(
      documentOf([
        { type: 'action', text: 'Plain bold italic.', marks: [{ type: 'bold', from: 6, to: 10 }, { type: 'italic', from: 11, to: 17 }] },
        { type: 'lyric', text: 'Sung' },
      ]),
      { titlePage: false },
    );
    const text = pdf.toString('latin1');
    for (const face of ['Courier', 'Courier-Bold', 'Courier-Oblique']) expect(text).toContain(`/BaseFont /${face}\n`);
    expect(text).not.toContain('/FontFile');
  });
});
