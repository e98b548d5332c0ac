// PDF export in industry format: draws the lines of paginateScreenplay (pagination.ts) with pdfkit.
// Courier is one of the 14 standard PDF fonts, so nothing is embedded and the file stays small;
// the price is its WinAnsi character set (see toWinAnsi).
import PDFDocument from 'pdfkit';
import type { ScreenplayMarkType } from '../screenplay/index.ts';
import type { ScreenplayDocument } from './document.ts';
import { runsOfMarks } from './marks.ts';
import { CHAR_WIDTH, FONT_SIZE, paginateScreenplay } from './pagination.ts';
import type { LayoutOptions, PageLine } from './pagination.ts';

export type PdfOptions = LayoutOptions;

const FONTS = {
  regular: 'Courier',
  bold: 'Courier-Bold',
  italic: 'Courier-Oblique',
  boldItalic: 'Courier-BoldOblique',
} as const;

// The characters of WinAnsiEncoding above Latin-1's printable ranges (0x80-0x9F in the encoding).
const WIN_ANSI_EXTRAS = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

function isWinAnsi(ch: string): boolean {
  const code = ch.codePointAt(0)!;
  return (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || WIN_ANSI_EXTRAS.has(ch);
}

/**
 * A standard font draws only WinAnsi characters, and pdfkit writes anything else as garbage
 * bytes. Another character is printed as its base letter when it is one with accents ("Ż" as "Z"),
 * else as "?" (a pair of surrogates as one "?").
 */
export function toWinAnsi(text: string): string {
  let out = '';
  for (const ch of text) {
    if (isWinAnsi(ch)) {
      out += ch;
      continue;
    }
    const base = ch.normalize('NFD').replace(/\p{M}/gu, '');
    out += base.length === 1 && isWinAnsi(base) ? base : '?';
  }
  return out;
}

function fontOf(marks: ReadonlySet<ScreenplayMarkType>, italicLine: boolean): string {
  const bold = marks.has('bold');
  const italic = italicLine || marks.has('italic');
  if (bold && italic) return FONTS.boldItalic;
  if (bold) return FONTS.bold;
  return italic ? FONTS.italic : FONTS.regular;
}

function drawLine(pdf: PDFKit.PDFDocument, line: PageLine): void {
  // Monospaced: a run starting at character n starts n advances to the right.
  let column = 0;
  for (const run of runsOfMarks(line.text, line.marks)) {
    pdf.font(fontOf(run.marks, line.italic === true)).text(toWinAnsi(run.text), line.x + column * CHAR_WIDTH, line.y, {
      lineBreak: false,
      underline: run.marks.has('underline'),
    });
    column += run.text.length;
  }
}

/**
 * The script as a US Letter PDF: an optional title page (not numbered), then the pages of
 * paginateScreenplay, page 1 without a number.
 */
export function renderScreenplayPdf(doc: ScreenplayDocument, options: PdfOptions = {}): Promise<Buffer> {
  const layout = paginateScreenplay(doc, options);
  const pdf = new PDFDocument({
    size: 'LETTER',
    margin: 0,
    autoFirstPage: false,
    // Document properties are PDF text strings (UTF-16 where needed), not drawn: no WinAnsi limit.
    info: { Title: doc.title, ...(doc.titlePage.author ? { Author: doc.titlePage.author } : {}), Creator: 'writersroom-collab' },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  const drawPage = (lines: readonly PageLine[]) => {
    pdf.addPage({ size: 'LETTER', margin: 0 });
    pdf.fontSize(FONT_SIZE);
    for (const line of lines) drawLine(pdf, line);
  };
  if (layout.titlePage !== null) drawPage(layout.titlePage);
  for (const page of layout.pages) drawPage(page.lines);
  pdf.end();
  return done;
}
