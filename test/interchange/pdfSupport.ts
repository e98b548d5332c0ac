// What the PDF tests share: documents built from blocks, a 120-page script, and reading a PDF back
// with pdfjs-dist (its legacy build runs in Node; no system package needed in CI).
import { createRequire } from 'node:module';
import path from 'node:path';
import type { CanonicalRestBlock } from '../../src/screenplay/index.ts';
import type { ScreenplayDocument } from '../../src/interchange/document.ts';

export function documentOf(blocks: CanonicalRestBlock[], extra: Partial<ScreenplayDocument> = {}): ScreenplayDocument {
  return { title: '', titlePage: {}, scenes: [{ blocks }], ...extra };
}

const SPEECHES = [
  'I told you already. The car was there when I left, and it was gone when I came back.',
  'Then somebody moved it.',
  'Nobody moves a car like that without keys. You know that as well as I do, so stop pretending.',
];

/** A feature-length script: `scenes` scenes of about a page each (heading, action, six speeches, a transition). */
export function featureScript(scenes: number): ScreenplayDocument {
  return {
    title: 'The Long Night',
    titlePage: { title: 'The Long Night', author: 'Ana Writer', contact: 'ana@example.com', draft_date: '3 December 2026' },
    scenes: Array.from({ length: scenes }, (_, s) => ({
      blocks: [
        { type: 'scene_heading', text: `INT. WAREHOUSE ${s + 1} - NIGHT` },
        { type: 'action', text: 'Rain hammers the roof. MAYA (30s) waits by the door with a torch, its beam shaking as she listens for anything at all outside.' },
        { type: 'character', text: 'MAYA' },
        { type: 'parenthetical', text: '(whispering)' },
        { type: 'dialogue', text: SPEECHES[0] },
        { type: 'character', text: 'TOMAS' },
        { type: 'dialogue', text: SPEECHES[1] },
        { type: 'action', text: 'She turns. The torch finds his face, then the empty space where the car should be. Neither of them moves for a long moment.' },
        { type: 'character', text: 'MAYA' },
        { type: 'dialogue', text: `${SPEECHES[2]} ${SPEECHES[0]}` },
        { type: 'action', text: 'He steps past her into the dark. Somewhere a dog barks twice and stops.' },
        { type: 'character', text: 'TOMAS (O.S.)' },
        { type: 'dialogue', text: `${SPEECHES[1]} ${SPEECHES[2]}` },
        { type: 'action', text: 'Maya counts to ten under her breath. Nothing. She follows him, the torch off, one hand on the wall, the other on the knife in her coat.' },
        { type: 'character', text: 'MAYA' },
        { type: 'parenthetical', text: '(to herself)' },
        { type: 'dialogue', text: SPEECHES[0] },
        { type: 'action', text: 'A light comes on at the far end of the warehouse. Then another, and another, row after row, until the whole place is bright as day and utterly empty.' },
        { type: 'character', text: 'TOMAS' },
        { type: 'dialogue', text: SPEECHES[1] },
        { type: 'transition', text: 'CUT TO:' },
      ],
    })),
  };
}

export interface PdfTextItem {
  text: string;
  /** Points from the left edge. */
  x: number;
  /** Points from the top edge to the baseline. */
  baseline: number;
  font: string;
}

export interface PdfReadBack {
  /** Each page's text items as pdfjs reports them (it may cut a drawn line at a space). */
  items: PdfTextItem[][];
  /** Each page's text as drawn lines: items on one baseline that follow each other joined again. */
  pages: PdfTextItem[][];
  /** The document information dictionary (Title, Author, Creator, ...). */
  info: Record<string, unknown>;
}

const COURIER_ADVANCE = 7.2;

/**
 * pdfjs cuts a line it reads at some spaces and joins runs drawn next to each other, so items are
 * joined while the next starts where the previous ends, or one space after it. Columns drawn apart
 * (scene numbers, the two sides of dual dialogue) are at least two spaces apart and stay separate.
 */
function joinItems(items: PdfTextItem[]): PdfTextItem[] {
  const sorted = [...items].sort((a, b) => a.baseline - b.baseline || a.x - b.x);
  const lines: PdfTextItem[] = [];
  for (const item of sorted) {
    const last = lines.at(-1);
    if (last && Math.abs(last.baseline - item.baseline) < 0.01) {
      const gap = Math.round((item.x - (last.x + last.text.length * COURIER_ADVANCE)) / COURIER_ADVANCE);
      if (gap === 0 || gap === 1) {
        last.text += ' '.repeat(gap) + item.text;
        continue;
      }
    }
    lines.push({ ...item });
  }
  return lines;
}

const require = createRequire(import.meta.url);
const pdfjsRoot = path.dirname(require.resolve('pdfjs-dist/package.json'));

export async function readPdf(bytes: Uint8Array): Promise<PdfReadBack> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const task = pdfjs.getDocument({
    data: new Uint8Array(bytes),
    standardFontDataUrl: `${pdfjsRoot}/standard_fonts/`,
    useSystemFonts: false,
    disableFontFace: true,
    verbosity: 0,
  });
  const document = await task.promise;
  const pages: PdfTextItem[][] = [];
  const rawItems: PdfTextItem[][] = [];
  for (let n = 1; n <= document.numPages; n++) {
    const page = await document.getPage(n);
    const height = page.view[3];
    const content = await page.getTextContent();
    const items: PdfTextItem[] = [];
    for (const item of content.items) {
      if (!('str' in item) || item.str.trim() === '') continue;
      // Leading spaces move the item's text to the right of its origin.
      const leading = item.str.length - item.str.trimStart().length;
      items.push({
        text: item.str.trim(),
        x: item.transform[4] + leading * COURIER_ADVANCE,
        baseline: height - item.transform[5],
        font: content.styles[item.fontName]?.fontFamily ?? item.fontName,
      });
    }
    rawItems.push(items);
    pages.push(joinItems(items));
  }
  const { info } = (await document.getMetadata()) as { info: Record<string, unknown> };
  await task.destroy();
  return { items: rawItems, pages, info };
}
