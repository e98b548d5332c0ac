// Industry-format page layout of a ScreenplayDocument: US Letter, Courier 12 pt (10 characters and
// 6 lines to the inch), Final Draft's default element indents. The PDF export draws exactly these
// lines; the editor page will use the same layout for its page breaks and page count, so this file
// is browser-safe (no node: imports, type-only imports of the rest). Rules: README.md, "PDF".
import type { RestMark } from '../screenplay/restBlocks.ts';
import type { CanonicalRestBlock } from '../screenplay/restBlocks.ts';
import type { ScreenplayDocument } from './document.ts';

export const POINTS_PER_INCH = 72;
export const PAGE_WIDTH = 8.5 * POINTS_PER_INCH;
export const PAGE_HEIGHT = 11 * POINTS_PER_INCH;
export const FONT_SIZE = 12;
/** Courier's advance is 600/1000 em: at 12 pt exactly 10 characters to the inch. */
export const CHAR_WIDTH = 7.2;
/** 6 lines to the inch. */
export const LINE_HEIGHT = 12;
/** Body lines on a page, "(MORE)" included: 1" top margin, the last line ends 10.17" down (0.83" bottom margin). */
export const LINES_PER_PAGE = 55;
/** Top of the first body line. */
export const BODY_TOP = 1 * POINTS_PER_INCH;
/** Top of the page number line ("2."), half an inch down. */
export const PAGE_NUMBER_TOP = 0.5 * POINTS_PER_INCH;
/** Right edge of the text column, page numbers and transitions (1" right margin). */
export const RIGHT_EDGE = 7.5 * POINTS_PER_INCH;

const inch = (value: number) => value * POINTS_PER_INCH;

type Align = 'left' | 'right' | 'center';

/** How one element type is set: `left` in points (for `right` the right edge, for `center` the centre line), `width` in characters. */
export interface ElementFormat {
  left: number;
  width: number;
  align: Align;
  /** Continuation lines start this many characters further right (a parenthetical hangs under its "("). */
  hang: number;
  upper: boolean;
  italic: boolean;
}

const format = (left: number, width: number, extra: Partial<ElementFormat> = {}): ElementFormat => ({
  left: inch(left),
  width,
  align: 'left',
  hang: 0,
  upper: false,
  italic: false,
  ...extra,
});

/** Final Draft's defaults, in inches from the page's left edge. */
export const ELEMENT_FORMATS = {
  scene_heading: format(1.5, 60, { upper: true }),
  shot: format(1.5, 60, { upper: true }),
  action: format(1.5, 60),
  general: format(1.5, 60),
  centered: format(4.5, 60, { align: 'center' }),
  transition: format(7.5, 30, { align: 'right', upper: true }),
  character: format(3.7, 38, { upper: true }),
  parenthetical: format(3.1, 20, { hang: 1 }),
  dialogue: format(2.5, 35),
  lyric: format(2.5, 35, { italic: true }),
} satisfies Record<string, ElementFormat>;

/** Dual dialogue: two columns side by side, 2.9" each with 0.2" between them. */
export const DUAL_FORMATS = {
  left: {
    character: format(2.5, 19, { upper: true }),
    parenthetical: format(1.9, 21, { hang: 1 }),
    dialogue: format(1.5, 29),
    lyric: format(1.5, 29, { italic: true }),
  },
  right: {
    character: format(5.6, 19, { upper: true }),
    parenthetical: format(5.0, 21, { hang: 1 }),
    dialogue: format(4.6, 29),
    lyric: format(4.6, 29, { italic: true }),
  },
} satisfies Record<'left' | 'right', Record<SpeechPart | 'character', ElementFormat>>;

/** Scene numbers: the left one ends 0.3" before the heading, the right one starts 0.3" after the column. */
export const SCENE_NUMBER_LEFT_END = inch(1.2);
export const SCENE_NUMBER_RIGHT_START = inch(7.8);

/** Not printed in industry format. */
const SKIPPED_TYPES = new Set(['note', 'section', 'synopsis', 'boneyard']);
const HEADING_TYPES = new Set(['scene_heading', 'shot']);
type SpeechPart = 'parenthetical' | 'dialogue' | 'lyric';
const SPEECH_PARTS = new Set<string>(['parenthetical', 'dialogue', 'lyric']);

export interface PageLine {
  /** The element the line belongs to: its block type, or `more`, `page_number`, `scene_number`. */
  type: string;
  text: string;
  /** Points from the page's left edge to the first character. */
  x: number;
  /** Points from the page's top edge to the top of the line (the baseline is Courier's ascent, 7.5 pt, lower). */
  y: number;
  /** Body row 0..LINES_PER_PAGE-1; null for the page number. */
  row: number | null;
  /** Inline formatting as ranges over `text`. */
  marks?: RestMark[];
  italic?: boolean;
  /** The repeated cue "NAME (CONT'D)" at the head of a page that continues a speech. */
  continued?: boolean;
}

export interface LaidOutPage {
  /** 1-based script page number; the title page is not counted. */
  number: number;
  lines: PageLine[];
}

export interface ScreenplayLayout {
  /** The script's pages (at least one); the title page is not among them. */
  pages: LaidOutPage[];
  pageCount: number;
  /** The title page's lines, or null when there is none. */
  titlePage: PageLine[] | null;
}

export interface LayoutOptions {
  /** Scene numbers in both margins of each heading: its `scene_number` field, else its ordinal. Default false. */
  sceneNumbers?: boolean;
  /** Lay out a title page from doc.titlePage (and doc.title). Default true. */
  titlePage?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Text: display form and word wrap

/** Tabs and other control characters as spaces (kept: newlines). Length-preserving, so marks stay valid. */
function displayText(text: string, upper: boolean): string {
  let out = text.replace(/[\u0000-\u0009\u000B-\u001F\u007F]/g, ' ');
  if (upper) {
    // One code point at a time and only where the capital has the same length ("ß" stays), so
    // the block's mark ranges still index the displayed text.
    let capitals = '';
    for (const ch of out) {
      const up = ch.toUpperCase();
      capitals += up.length === ch.length ? up : ch;
    }
    out = capitals;
  }
  return out;
}

/** A wrapped line: [start, end) of the element's text. */
export interface TextSpan {
  start: number;
  end: number;
}

const isSpace = (code: number) => code === 32;

function isHighSurrogate(code: number) {
  return code >= 0xd800 && code <= 0xdbff;
}

/**
 * Greedy word wrap, a line at a time and only as far as asked: each line takes as many whole words
 * as fit in `width` characters (continuation lines of a paragraph `width - hang`); a word longer
 * than a line is cut. A newline always ends a line and an empty paragraph is an empty line. Spaces
 * at a break and at the end of a paragraph are dropped. Laziness keeps a block of thousands of
 * lines linear: a page asks for its lines, and the rest after a page break is wrapped afresh.
 */
export class WrappedText {
  private readonly spans: TextSpan[] = [];
  /** Where the next line starts; -1 once the text is used up. */
  private pos = 0;
  private firstOfParagraph = true;

  constructor(
    readonly text: string,
    readonly width: number,
    readonly hang = 0,
  ) {}

  /** The number of lines, or `limit` when there are at least that many. */
  count(limit: number): number {
    this.fill(limit);
    return Math.min(this.spans.length, limit);
  }

  at(index: number): TextSpan {
    this.fill(index + 1);
    return this.spans[index];
  }

  all(): readonly TextSpan[] {
    this.fill(Number.POSITIVE_INFINITY);
    return this.spans;
  }

  private fill(wanted: number): void {
    const text = this.text;
    while (this.spans.length < wanted && this.pos !== -1) {
      const pos = this.pos;
      const room = Math.max(1, this.firstOfParagraph ? this.width : this.width - this.hang);
      const limit = Math.min(text.length, pos + room);
      // A newline within reach ends the line (and the paragraph) there. Bounded, so a paragraph of
      // a million characters is never scanned once per line.
      let newline = -1;
      for (let i = pos; i <= limit && i < text.length; i++) {
        if (text.charCodeAt(i) === 10) {
          newline = i;
          break;
        }
      }
      let end: number;
      let next: number;
      if (newline !== -1) {
        end = trimEnd(text, pos, newline);
        next = newline + 1;
        this.firstOfParagraph = true;
      } else if (limit === text.length) {
        end = trimEnd(text, pos, text.length);
        next = -1;
      } else {
        // The last space at or before pos + room ends the line there.
        let breakAt = -1;
        for (let i = pos + room; i > pos; i--) {
          if (isSpace(text.charCodeAt(i))) {
            breakAt = i;
            break;
          }
        }
        if (breakAt === -1) {
          end = pos + room;
          if (isHighSurrogate(text.charCodeAt(end - 1))) end = end - 1 > pos ? end - 1 : end + 1;
        } else {
          end = trimEnd(text, pos, breakAt);
        }
        next = end;
        while (next < text.length && isSpace(text.charCodeAt(next))) next++;
        this.firstOfParagraph = false;
        if (next === text.length) next = -1;
        else if (text.charCodeAt(next) === 10) {
          // The paragraph ended with this line: its newline starts the next paragraph, not a blank line.
          next++;
          this.firstOfParagraph = true;
        }
      }
      this.spans.push({ start: pos, end });
      this.pos = next;
    }
  }
}

function trimEnd(text: string, from: number, to: number): number {
  let end = to;
  while (end > from && isSpace(text.charCodeAt(end - 1))) end--;
  return end;
}

/** The lines of `text` wrapped as WrappedText does, at most `limit` of them. */
export function wrapText(text: string, width: number, hang = 0, limit = Number.POSITIVE_INFINITY): TextSpan[] {
  const wrapped = new WrappedText(text, width, hang);
  return Array.from({ length: wrapped.count(limit) }, (_, k) => wrapped.at(k));
}

// A sentence ends with . ? ! (or "...", or a dash) and any closing quotes or brackets, then spaces;
// the offset is where the next sentence starts. A newline is a boundary too.
const SENTENCE_END = /[.?!\u2026](?:["'\u2019\u201D)\]]*)[ ]+(?=\S)|\n(?=[^\n])/g;

function sentenceBoundaries(text: string, before: number): number[] {
  const out: number[] = [];
  SENTENCE_END.lastIndex = 0;
  for (let match = SENTENCE_END.exec(text); match !== null; match = SENTENCE_END.exec(text)) {
    const offset = match.index + match[0].length;
    if (offset >= before) break;
    out.push(offset);
  }
  return out;
}

function endsSentence(text: string, offset: number): boolean {
  const before = text.slice(Math.max(0, offset - 8), offset);
  return /\n\s*$/.test(before) || /[.?!\u2026]["'\u2019\u201D)\]]*\s*$/.test(before);
}

function sliceMarks(marks: readonly RestMark[], from: number, to: number): RestMark[] {
  const out: RestMark[] = [];
  for (const mark of marks) {
    const start = Math.max(mark.from, from);
    const end = Math.min(mark.to, to);
    if (end > start) out.push({ type: mark.type, from: start - from, to: end - from });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Flow: the document as units that are placed on pages

/** One element's text, set in one format. */
interface Piece {
  type: string;
  text: string;
  marks: RestMark[];
  fmt: ElementFormat;
  lines: WrappedText;
}

/**
 * Rows are counted up to this many: every decision compares a count with at most a page and the
 * two lines a split must leave, so a longer piece need not be wrapped to the end.
 */
const ROW_CAP = LINES_PER_PAGE + 3;
const rowsOf = (p: Piece) => p.lines.count(ROW_CAP);

function piece(type: string, rawText: string, marks: readonly RestMark[] | undefined, fmt: ElementFormat): Piece {
  const text = displayText(rawText, fmt.upper);
  return { type, text, marks: marks ? [...marks] : [], fmt, lines: new WrappedText(text, fmt.width, fmt.hang) };
}

/** The rest of a piece from `offset` on (where a page split it). */
function pieceFrom(p: Piece, offset: number): Piece {
  const text = p.text.slice(offset);
  return { ...p, text, marks: sliceMarks(p.marks, offset, p.text.length), lines: new WrappedText(text, p.fmt.width, p.fmt.hang) };
}

/** The part of a piece before `offset`. */
function pieceUntil(p: Piece, offset: number): Piece {
  const text = p.text.slice(0, offset);
  return { ...p, text, marks: sliceMarks(p.marks, 0, offset), lines: new WrappedText(text, p.fmt.width, p.fmt.hang) };
}

type Unit =
  | { kind: 'page_break' }
  // Headings, transitions, centered text, action: one piece each. Headings keep what follows.
  | { kind: 'block'; spaceBefore: number; piece: Piece; keepWithNext: boolean; splittable: boolean; sceneNumber: string | null }
  // A cue and its parentheticals, dialogue and lyrics (or such pieces with no cue before them).
  // `continued`: the cue is the repeated "NAME (CONT'D)" of a speech split at the page before.
  | { kind: 'speech'; spaceBefore: number; cue: Piece | null; parts: Piece[]; continued: boolean }
  | { kind: 'dual'; spaceBefore: number; left: SpeechUnit; right: SpeechUnit };

type PrintedUnit = Exclude<Unit, { kind: 'page_break' }>;
type SpeechUnit = Extract<Unit, { kind: 'speech' }>;
type BlockUnit = Extract<Unit, { kind: 'block' }>;

// Rows of units and runs of pieces, each piece counted up to ROW_CAP.
const rowsOfPieces = (pieces: readonly Piece[]) => pieces.reduce((sum, p) => sum + rowsOf(p), 0);
const speechRows = (s: SpeechUnit) => (s.cue ? rowsOf(s.cue) : 0) + rowsOfPieces(s.parts);

function unitRows(unit: Unit): number {
  switch (unit.kind) {
    case 'page_break':
      return 0;
    case 'block':
      return rowsOf(unit.piece);
    case 'speech':
      return speechRows(unit);
    case 'dual':
      return Math.max(speechRows(unit.left), speechRows(unit.right));
  }
}

function isPrinted(block: CanonicalRestBlock): boolean {
  if (SKIPPED_TYPES.has(block.type)) return false;
  if (block.type === 'page_break') return true;
  return block.text.trim().length > 0;
}

function speechFormats(side: 'left' | 'right' | null): Record<SpeechPart | 'character', ElementFormat> {
  return side === null ? ELEMENT_FORMATS : DUAL_FORMATS[side];
}

function buildSpeech(blocks: CanonicalRestBlock[], start: number, side: 'left' | 'right' | null): { unit: SpeechUnit; next: number } {
  const formats = speechFormats(side);
  let i = start;
  let cue: Piece | null = null;
  // Set when the speaker comes from the dialogue's own `character` field: a dialogue block naming
  // another speaker starts the next speech.
  let speaker: string | null = null;
  const first = blocks[i];
  if (first.type === 'character') {
    cue = piece('character', first.text, first.marks, formats.character);
    i++;
  } else if (first.type === 'dialogue' && typeof first.character === 'string' && first.character.trim() !== '') {
    // The architecture document's form: the speaker as the dialogue's `character` field, no cue block.
    speaker = first.character;
    cue = piece('character', speaker, undefined, formats.character);
  }
  const parts: Piece[] = [];
  for (; i < blocks.length; i++) {
    const block = blocks[i];
    if (!SPEECH_PARTS.has(block.type)) break;
    if (speaker !== null && parts.length > 0 && block.type === 'dialogue' && typeof block.character === 'string' && block.character !== speaker) break;
    parts.push(piece(block.type, block.text, block.marks, formats[block.type as SpeechPart]));
  }
  return { unit: { kind: 'speech', spaceBefore: 1, cue, parts, continued: false }, next: i };
}

function buildUnits(doc: ScreenplayDocument, sceneNumbers: boolean): Unit[] {
  const blocks = doc.scenes.flatMap((scene) => scene.blocks).filter(isPrinted);
  const units: Unit[] = [];
  let headingOrdinal = 0;
  let i = 0;
  while (i < blocks.length) {
    const block = blocks[i];
    if (block.type === 'page_break') {
      units.push({ kind: 'page_break' });
      i++;
      continue;
    }
    if (block.type === 'character' || SPEECH_PARTS.has(block.type)) {
      const side = block.type === 'character' && block.dual === 'left' ? 'left' : null;
      const built = buildSpeech(blocks, i, side);
      const partner = blocks[built.next];
      if (side === 'left' && partner?.type === 'character' && partner.dual === 'right') {
        const right = buildSpeech(blocks, built.next, 'right');
        const dual: Unit = { kind: 'dual', spaceBefore: 1, left: built.unit, right: right.unit };
        if (unitRows(dual) <= LINES_PER_PAGE - 1) {
          units.push(dual);
          i = right.next;
          continue;
        }
        // Side by side it would not fit on a page: stacked, each speech may split.
        const stacked = buildSpeech(blocks, i, null);
        units.push(stacked.unit);
        i = stacked.next;
        continue;
      }
      units.push(side === null ? built.unit : buildSpeech(blocks, i, null).unit);
      i = built.next;
      continue;
    }
    const heading = HEADING_TYPES.has(block.type);
    const fmt: ElementFormat = (ELEMENT_FORMATS as Record<string, ElementFormat>)[block.type] ?? ELEMENT_FORMATS.action;
    let sceneNumber: string | null = null;
    if (block.type === 'scene_heading') {
      headingOrdinal++;
      if (sceneNumbers) {
        const own = typeof block.scene_number === 'string' ? block.scene_number.trim() : '';
        sceneNumber = own !== '' ? own : String(headingOrdinal);
      }
    }
    units.push({
      kind: 'block',
      spaceBefore: 1,
      piece: piece(block.type, block.text, block.marks, fmt),
      keepWithNext: heading,
      // Action-like text may run over a page; headings and transitions move whole.
      splittable: !heading && block.type !== 'transition',
      sceneNumber,
    });
    i++;
  }
  return units;
}

// ---------------------------------------------------------------------------------------------
// Splitting a run of pieces at a page foot

interface Split {
  /** Index of the piece the split is in (or before, when offset is 0). */
  index: number;
  offset: number;
  /** Rows of the first part. */
  rows: number;
  /** At a sentence end or between two pieces. */
  clean: boolean;
}

/** At least this many lines of a split text or speech (cue and parentheticals not counted) on each side of a page break. */
export const MIN_LINES_EACH_SIDE = 2;

/**
 * The splits of `pieces` whose first part fits in `room` rows, with at least MIN_LINES_EACH_SIDE
 * lines of text (parentheticals not counted) on each side, never ending the first part with a
 * parenthetical. The caller picks one.
 */
function splitsOf(pieces: readonly Piece[], room: number, splitInside: (p: Piece) => boolean): Split[] {
  const textRows = (p: Piece) => (p.type === 'parenthetical' ? 0 : rowsOf(p));
  const totalText = pieces.reduce((sum, p) => sum + textRows(p), 0);
  const splits: Split[] = [];
  // rows: of the first part; firstText, restText: its text lines and those of the rest.
  const valid = (rows: number, firstText: number, restText: number) =>
    rows <= room && firstText >= MIN_LINES_EACH_SIDE && restText >= MIN_LINES_EACH_SIDE;
  let before = 0;
  let beforeText = 0;
  for (let index = 0; index < pieces.length && before <= room; index++) {
    const p = pieces[index];
    if (index > 0 && pieces[index - 1].type !== 'parenthetical' && valid(before, beforeText, totalText - beforeText)) {
      splits.push({ index, offset: 0, rows: before, clean: true });
    }
    if (splitInside(p)) {
      const own = textRows(p);
      const maxLines = Math.min(rowsOf(p) - 1, room - before);
      const lineStarts = new Set<number>();
      for (let k = 1; k <= maxLines; k++) {
        const offset = p.lines.at(k).start;
        lineStarts.add(offset);
        if (valid(before + k, beforeText + k, totalText - beforeText - k)) {
          splits.push({ index, offset, rows: before + k, clean: endsSentence(p.text, offset) });
        }
      }
      // Sentence ends inside a line: the line is cut there and the rest re-wrapped on the next page.
      // The text before the cut wraps into the same lines up to the cut one (greedy wrap looks no
      // further than a line ahead, and a space precedes the cut), so it takes line + 1 rows.
      const limitOffset = p.lines.at(Math.max(0, maxLines)).end;
      let line = 0;
      for (const offset of sentenceBoundaries(p.text, limitOffset)) {
        if (lineStarts.has(offset)) continue;
        while (line < maxLines && p.lines.at(line + 1).start <= offset) line++;
        const firstRows = line + 1;
        const restRows = wrapText(p.text.slice(offset), p.fmt.width, p.fmt.hang, MIN_LINES_EACH_SIDE).length;
        if (valid(before + firstRows, beforeText + firstRows, totalText - beforeText - own + restRows)) {
          splits.push({ index, offset, rows: before + firstRows, clean: true });
        }
      }
    }
    before += rowsOf(p);
    beforeText += textRows(p);
  }
  return splits;
}

/** The fullest clean split, else the fullest split at a line end. */
function bestSplit(splits: readonly Split[]): Split | null {
  let best: Split | null = null;
  for (const split of splits) {
    if (best === null) best = split;
    else if (split.clean !== best.clean) best = split.clean ? split : best;
    else if (split.rows > best.rows) best = split;
  }
  return best;
}

function smallestSplitRows(splits: readonly Split[]): number | null {
  let min: number | null = null;
  for (const split of splits) if (min === null || split.rows < min) min = split.rows;
  return min;
}

function splitPieces(pieces: readonly Piece[], split: Split): { first: Piece[]; rest: Piece[] } {
  const first = pieces.slice(0, split.index);
  const rest = pieces.slice(split.index + 1);
  const at = pieces[split.index];
  if (split.offset === 0) return { first, rest: [at, ...rest] };
  return { first: [...first, pieceUntil(at, split.offset)], rest: [pieceFrom(at, split.offset), ...rest] };
}

const CONTD = /\(\s*CONT['\u2019]?D\s*\)/i;

function continuedCue(cue: Piece): Piece {
  const text = CONTD.test(cue.text) ? cue.text : `${cue.text} (CONT'D)`;
  return { ...cue, text, lines: new WrappedText(text, cue.fmt.width, cue.fmt.hang) };
}

const speechSplittable = (p: Piece) => p.type !== 'parenthetical';

// ---------------------------------------------------------------------------------------------
// Placing units on pages

class PageBuilder {
  readonly pages: LaidOutPage[] = [];
  private page: LaidOutPage = { number: 1, lines: [] };
  row = 0;

  constructor() {
    this.pages.push(this.page);
  }

  get free(): number {
    return LINES_PER_PAGE - this.row;
  }

  get empty(): boolean {
    return this.row === 0;
  }

  newPage(): void {
    this.page = { number: this.pages.length + 1, lines: [] };
    this.pages.push(this.page);
    this.row = 0;
    this.page.lines.push({
      type: 'page_number',
      text: `${this.page.number}.`,
      x: RIGHT_EDGE - `${this.page.number}.`.length * CHAR_WIDTH,
      y: PAGE_NUMBER_TOP,
      row: null,
    });
  }

  skip(rows: number): void {
    this.row += rows;
  }

  /** Sets a piece's lines from `row`; returns the rows used. */
  placePiece(p: Piece, row: number, extra: Partial<PageLine> = {}): number {
    const spans = p.lines.all();
    spans.forEach((span, k) => {
      const text = p.text.slice(span.start, span.end);
      const hang = k > 0 && span.start > 0 && p.text[span.start - 1] !== '\n' ? p.fmt.hang : 0;
      let x: number;
      if (p.fmt.align === 'right') x = p.fmt.left - text.length * CHAR_WIDTH;
      else if (p.fmt.align === 'center') x = p.fmt.left - (text.length * CHAR_WIDTH) / 2;
      else x = p.fmt.left + hang * CHAR_WIDTH;
      const line: PageLine = { type: p.type, text, x, y: BODY_TOP + (row + k) * LINE_HEIGHT, row: row + k };
      const marks = sliceMarks(p.marks, span.start, span.end);
      if (marks.length > 0) line.marks = marks;
      if (p.fmt.italic) line.italic = true;
      Object.assign(line, extra);
      if (text.length > 0) this.page.lines.push(line);
    });
    return spans.length;
  }

  placeSceneNumber(sceneNumber: string, row: number): void {
    const y = BODY_TOP + row * LINE_HEIGHT;
    this.page.lines.push({ type: 'scene_number', text: sceneNumber, x: SCENE_NUMBER_LEFT_END - sceneNumber.length * CHAR_WIDTH, y, row });
    this.page.lines.push({ type: 'scene_number', text: sceneNumber, x: SCENE_NUMBER_RIGHT_START, y, row });
  }

  placeSpeech(s: SpeechUnit, row: number, more: boolean): number {
    let used = 0;
    if (s.cue) used += this.placePiece(s.cue, row, s.continued ? { continued: true } : {});
    for (const p of s.parts) used += this.placePiece(p, row + used);
    if (more && s.cue) {
      const fmt = s.cue.fmt;
      this.page.lines.push({ type: 'more', text: '(MORE)', x: fmt.left, y: BODY_TOP + (row + used) * LINE_HEIGHT, row: row + used });
      used++;
    }
    return used;
  }
}

/**
 * Rows a unit needs on the current page if it starts there: all of it, or the smallest first part
 * it may be split into ((MORE) included). For a heading, with what must follow it.
 */
function minimumRows(units: readonly Unit[], index: number): number {
  const unit = units[index];
  switch (unit.kind) {
    case 'page_break':
      return 0;
    case 'dual':
      return unitRows(unit);
    case 'speech': {
      const cueRows = unit.cue ? rowsOf(unit.cue) : 0;
      const more = unit.cue ? 1 : 0;
      const smallest = smallestSplitRows(splitsOf(unit.parts, LINES_PER_PAGE, speechSplittable));
      return smallest === null ? unitRows(unit) : Math.min(unitRows(unit), cueRows + smallest + more);
    }
    case 'block': {
      const own = rowsOf(unit.piece);
      if (unit.keepWithNext) {
        const next = units[index + 1];
        if (next === undefined || next.kind === 'page_break') return own;
        return Math.min(LINES_PER_PAGE, own + next.spaceBefore + minimumRows(units, index + 1));
      }
      if (!unit.splittable) return own;
      const smallest = smallestSplitRows(splitsOf([unit.piece], LINES_PER_PAGE, () => true));
      return smallest === null ? own : Math.min(own, smallest);
    }
  }
}

/** Lays the script out into pages. */
export function paginateScreenplay(doc: ScreenplayDocument, options: LayoutOptions = {}): ScreenplayLayout {
  const units = buildUnits(doc, options.sceneNumbers === true);
  const pages = new PageBuilder();
  // A page_break opens the next page only when something is printed on it: none at the head of a
  // page, none at the end of the script.
  let breakPending = false;
  for (let index = 0; index < units.length; index++) {
    const at = units[index];
    if (at.kind === 'page_break') {
      breakPending = true;
      continue;
    }
    if (breakPending && !pages.empty) pages.newPage();
    breakPending = false;
    let unit: PrintedUnit = at;
    for (;;) {
      const space = pages.empty ? 0 : unit.spaceBefore;
      const room = pages.free - space;
      const rows = unitRows(unit);
      const needed = unit.kind === 'block' && unit.keepWithNext ? minimumRows(units, index) : rows;
      if (rows <= room && needed <= room) {
        pages.skip(space);
        if (unit.kind === 'block') {
          if (unit.sceneNumber !== null) pages.placeSceneNumber(unit.sceneNumber, pages.row);
          pages.skip(pages.placePiece(unit.piece, pages.row));
        } else if (unit.kind === 'speech') {
          pages.skip(pages.placeSpeech(unit, pages.row, false));
        } else if (unit.kind === 'dual') {
          const row = pages.row;
          const used = Math.max(pages.placeSpeech(unit.left, row, false), pages.placeSpeech(unit.right, row, false));
          pages.skip(used);
        }
        break;
      }
      const rest = placeFirstPart(pages, unit, room, space);
      // null: placed whole after all (on an empty page); otherwise the page is done.
      if (rest === null) break;
      pages.newPage();
      if (rest !== 'moved') unit = rest;
    }
  }
  const titlePage = options.titlePage === false ? null : layoutTitlePage(doc);
  return { pages: pages.pages, pageCount: pages.pages.length, titlePage };
}

/**
 * The unit does not fit (or a heading cannot keep what follows): places the first part of a split
 * and returns the rest, or 'moved' when it must start on the next page instead. On an empty page
 * a unit that cannot be split by the rules is cut where the page ends, so layout always progresses.
 */
function placeFirstPart(pages: PageBuilder, unit: PrintedUnit, room: number, space: number): PrintedUnit | null | 'moved' {
  const forced = pages.empty;
  if (unit.kind === 'speech') {
    const cueRows = unit.cue ? rowsOf(unit.cue) : 0;
    const more = unit.cue ? 1 : 0;
    const bodyRoom = room - cueRows - more;
    let split = bestSplit(splitsOf(unit.parts, bodyRoom, speechSplittable));
    if (split === null && forced) split = forcedSplit(unit.parts, Math.max(1, bodyRoom));
    if (split === null) return 'moved';
    const { first, rest } = splitPieces(unit.parts, split);
    pages.skip(space);
    pages.skip(pages.placeSpeech({ ...unit, parts: first }, pages.row, true));
    return { ...unit, spaceBefore: 0, cue: unit.cue ? continuedCue(unit.cue) : null, parts: rest, continued: unit.cue !== null };
  }
  if (unit.kind === 'block' && (unit.splittable || forced)) {
    let split = unit.splittable && !unit.keepWithNext ? bestSplit(splitsOf([unit.piece], room, () => true)) : null;
    if (split === null && forced) split = forcedSplit([unit.piece], room);
    if (split === null) return 'moved';
    if (split.rows >= rowsOf(unit.piece)) {
      // A heading that fits but cannot keep what follows on an empty page: it goes here anyway.
      if (unit.sceneNumber !== null) pages.placeSceneNumber(unit.sceneNumber, pages.row);
      pages.skip(space);
      pages.skip(pages.placePiece(unit.piece, pages.row));
      return null;
    }
    const { first, rest } = splitPieces([unit.piece], split);
    pages.skip(space);
    if (unit.sceneNumber !== null) pages.placeSceneNumber(unit.sceneNumber, pages.row);
    pages.skip(pages.placePiece(first[0], pages.row));
    return { ...unit, spaceBefore: 0, piece: rest[0], sceneNumber: null } satisfies BlockUnit;
  }
  if (unit.kind === 'dual' && forced) {
    // Not reached: buildUnits stacks a dual speech taller than a page.
    const row = pages.row;
    pages.skip(Math.max(pages.placeSpeech(unit.left, row, false), pages.placeSpeech(unit.right, row, false)));
    return null;
  }
  return 'moved';
}

/** As many whole lines as fit in `room`, ignoring the keep rules (on an empty page only). */
function forcedSplit(pieces: readonly Piece[], room: number): Split | null {
  const total = rowsOfPieces(pieces);
  if (total <= room) return { index: pieces.length - 1, offset: 0, rows: total, clean: true };
  let before = 0;
  for (let index = 0; index < pieces.length; index++) {
    const p = pieces[index];
    if (before + rowsOf(p) > room) {
      const k = room - before;
      if (k <= 0) return { index, offset: 0, rows: before, clean: false };
      return { index, offset: p.lines.at(k).start, rows: room, clean: false };
    }
    before += rowsOf(p);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Title page

const TITLE_TOP_ROW = Math.round((11 / 3) * 6) - 6; // a third of the way down the sheet, in body rows
const TITLE_BLOCK_WIDTH = 60;
const CORNER_BLOCK_WIDTH = 30;
const CORNER_LAST_ROW = LINES_PER_PAGE - 1;

/**
 * Title centred a third down, then the credit ("Written by") and the author, then the source;
 * contact (and notes) bottom left, draft date (and copyright) bottom right. Null when the
 * document has neither a title nor any title-page field.
 */
export function layoutTitlePage(doc: ScreenplayDocument): PageLine[] | null {
  const fields = doc.titlePage ?? {};
  const field = (key: string) => (typeof fields[key] === 'string' ? fields[key].trim() : '');
  const title = field('title') || doc.title.trim();
  const author = field('author') || field('authors');
  const hasAny = title !== '' || Object.values(fields).some((v) => typeof v === 'string' && v.trim() !== '');
  if (!hasAny) return null;

  const lines: PageLine[] = [];
  const wrapped = (type: string, text: string, width: number) =>
    displayText(text, false)
      .split('\n')
      .flatMap((paragraph) => wrapText(paragraph, width).map((span) => ({ type, text: paragraph.slice(span.start, span.end) })));
  const centre = (entries: { type: string; text: string }[], fromRow: number) => {
    entries.forEach((entry, k) => {
      const row = fromRow + k;
      if (entry.text !== '') lines.push({ type: entry.type, text: entry.text, x: inch(4.5) - (entry.text.length * CHAR_WIDTH) / 2, y: BODY_TOP + row * LINE_HEIGHT, row });
    });
    return fromRow + entries.length;
  };

  let row = TITLE_TOP_ROW;
  if (title !== '') row = centre(wrapped('title', title, TITLE_BLOCK_WIDTH), row);
  if (author !== '' || field('credit') !== '') {
    row = centre(wrapped('credit', field('credit') || 'Written by', TITLE_BLOCK_WIDTH), row + 2);
    if (author !== '') row = centre(wrapped('author', author, TITLE_BLOCK_WIDTH), row + 1);
  }
  if (field('source') !== '') centre(wrapped('source', field('source'), TITLE_BLOCK_WIDTH), row + 2);

  const corner = (entries: { type: string; text: string }[], side: 'left' | 'right') => {
    const firstRow = CORNER_LAST_ROW - entries.length + 1;
    entries.forEach((entry, k) => {
      const r = firstRow + k;
      if (entry.text === '') return;
      const x = side === 'left' ? inch(1.5) : RIGHT_EDGE - entry.text.length * CHAR_WIDTH;
      lines.push({ type: entry.type, text: entry.text, x, y: BODY_TOP + r * LINE_HEIGHT, row: r });
    });
  };
  // Each field's lines, a blank line between two fields.
  const stacked = (keys: string[]) =>
    keys
      .filter((key) => field(key) !== '')
      .flatMap((key, n) => [...(n > 0 ? [{ type: key, text: '' }] : []), ...wrapped(key, field(key), CORNER_BLOCK_WIDTH)]);
  corner(stacked(['notes', 'contact']), 'left');
  corner(stacked(['draft_date', 'copyright']), 'right');
  return lines;
}
