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
  pages: PdfTextItem[][];
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
  for (let n = 1; n <= document.numPages; n++) {
    const page = await document.getPage(n);
    const height = page.view[3];
    const content = await page.getTextContent();
    const items: PdfTextItem[] = [];
    for (const item of content.items) {
      if (!('str' in item) || item.str.trim() === '') continue;
      items.push({ text: item.str, x: item.transform[4], baseline: height - item.transform[5], font: content.styles[item.fontName]?.fontFamily ?? item.fontName });
    }
    pages.push(items);
  }
  await task.destroy();
  return { pages };
}
