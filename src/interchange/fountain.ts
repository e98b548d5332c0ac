// Fountain (https://fountain.io) <-> ScreenplayDocument. Parsing is fountain-js's lexer (its tokens
// cover every element, dual dialogue, scene numbers, sections, synopses, notes, lyrics, page
// breaks); this module maps its tokens to our blocks and adds what it does not do: inline
// emphasis as marks (fountain-js only renders it to HTML), boneyards (its lexer deletes them),
// escapes, and a writer. The writer's output is the canonical Fountain of a document: each block
// written plainly when that reads back as the same block, else in its forced form (".", "!", "@",
// ">"), which is checked by reading the paragraph back with the same lexer.
import { Lexer, rules } from 'fountain-js';
import type { Token } from 'fountain-js';
import { canonicalMarks } from '../screenplay/index.ts';
import type { CanonicalRestBlock, RestMark, ScreenplayMarkType } from '../screenplay/index.ts';
import type { ScreenplayDocument } from './document.ts';
import { InterchangeParseError, lineOfIndex } from './errors.ts';
import { runsOfMarks } from './marks.ts';
import type { StyledRun } from './marks.ts';
import { scenesOfBlocks, titleOfTitlePage } from './scenes.ts';

// ---------------------------------------------------------------------------------------------
// Inline emphasis: *italic*, **bold**, ***both***, _underline_, backslash escapes.

// fountain-js's escapable characters (rules.escape).
const ESCAPABLE = new Set(['@', '#', '!', '*', '_', '$', '~', '`', '+', '=', '.', '>', '<', '\\', '/']);

// A piece of inline source: literal text, or a delimiter as the marks it toggles (bit 1 italic,
// 2 bold, 4 underline).
type InlinePiece = string | number;
const ITALIC = 1;
const BOLD = 2;
const UNDERLINE = 4;
const INLINE_SPECIAL = /[\\*_]/g;
const MARK_BITS: ReadonlyArray<[ScreenplayMarkType, number]> = [['italic', ITALIC], ['bold', BOLD], ['underline', UNDERLINE]];

// Emphasis delimiters toggle their marks: a run of 1, 2 or 3 asterisks toggles italic, bold or
// both, an underscore toggles underline, and an opener with no closer is literal text. Toggling
// (rather than strict nesting) is what lets the writer close one mark and open another with a
// single run of asterisks, and it reads hand-written files the way Fountain apps render them.
// Linear in the text: one pass to cut it into pieces, one to pair the toggles, one to build.
export function parseFountainInline(raw: string): { text: string; marks: RestMark[] } {
  if (!/[\\*_]/.test(raw)) return { text: raw, marks: [] };
  const pieces: InlinePiece[] = [];
  let literal = '';
  const flush = () => {
    if (literal !== '') pieces.push(literal);
    literal = '';
  };
  for (let i = 0; i < raw.length; ) {
    const c = raw[i];
    if (c === '\\' && i + 1 < raw.length && ESCAPABLE.has(raw[i + 1])) {
      literal += raw[i + 1];
      i += 2;
    } else if (c === '*') {
      let n = 0;
      while (raw[i + n] === '*' && n < 3) n++;
      flush();
      pieces.push(n === 1 ? ITALIC : n === 2 ? BOLD : BOLD | ITALIC);
      i += n;
    } else if (c === '_') {
      flush();
      pieces.push(UNDERLINE);
      i += 1;
    } else {
      INLINE_SPECIAL.lastIndex = i + 1;
      const next = INLINE_SPECIAL.exec(raw);
      const stop = next === null ? raw.length : next.index;
      literal += raw.slice(i, stop);
      i = stop;
    }
  }
  flush();
  // Pass 1: pair each mark's toggles; a toggle left without a partner is literal.
  const matched = new Uint8Array(pieces.length);
  const pending = new Map<number, number>();
  pieces.forEach((piece, index) => {
    if (typeof piece === 'string') return;
    for (const [, bit] of MARK_BITS) {
      if ((piece & bit) === 0) continue;
      const opener = pending.get(bit);
      if (opener === undefined) pending.set(bit, index);
      else {
        matched[opener]! |= bit;
        matched[index]! |= bit;
        pending.delete(bit);
      }
    }
  });
  // Pass 2: text and ranges.
  const out: string[] = [];
  let length = 0;
  const open = new Map<number, number>();
  const marks: RestMark[] = [];
  pieces.forEach((piece, index) => {
    if (typeof piece === 'string') {
      out.push(piece);
      length += piece.length;
      return;
    }
    for (const [type, bit] of MARK_BITS) {
      if ((matched[index]! & bit) === 0) continue;
      const from = open.get(bit);
      if (from === undefined) open.set(bit, length);
      else {
        open.delete(bit);
        if (length > from) marks.push({ type, from, to: length });
      }
    }
    const unused = piece & ~matched[index]!;
    const stars = (unused & BOLD ? 2 : 0) + (unused & ITALIC ? 1 : 0);
    const rest = (unused & UNDERLINE ? '_' : '') + '*'.repeat(stars);
    if (rest !== '') {
      out.push(rest);
      length += rest.length;
    }
  });
  return { text: out.join(''), marks: canonicalMarks(marks) };
}

function escapeFountainText(text: string): string {
  if (text.indexOf('\\') < 0 && text.indexOf('*') < 0 && text.indexOf('_') < 0) return text;
  return text.replace(/[\\*_]/g, (c) => `\\${c}`);
}

/** Text with its marks as Fountain emphasis; literal \, * and _ are escaped. */
export function writeFountainInline(text: string, marks: readonly RestMark[] | undefined): string {
  if (!marks || marks.length === 0) return escapeRun(text);
  const parts: string[] = [];
  let active: ReadonlySet<ScreenplayMarkType> = NO_MARKS;
  // No closure per run: this loop runs once per mark boundary, which is hundreds of thousands of
  // times for a heavily formatted long block.
  for (const run of [...runsOfMarks(text, marks), { text: '', marks: NO_MARKS }]) {
    const next = run.marks;
    const underline = active.has('underline') !== next.has('underline');
    // Underline closes before the asterisks and opens after them, so "_**x**_" nests visibly.
    if (underline && active.has('underline')) parts.push('_');
    const stars = (active.has('bold') !== next.has('bold') ? 2 : 0) + (active.has('italic') !== next.has('italic') ? 1 : 0);
    if (stars > 0) parts.push('*'.repeat(stars));
    if (underline && next.has('underline')) parts.push('_');
    active = next;
    if (run.text !== '') parts.push(escapeRun(run.text));
  }
  return parts.join('');
}

const NO_MARKS: ReadonlySet<ScreenplayMarkType> = new Set();

// A "/" right before the next run's asterisks would open a boneyard ("/**"): a run's last "/" is escaped.
function escapeRun(text: string): string {
  const escaped = escapeFountainText(text);
  return escaped.endsWith('/') ? `${escaped.slice(0, -1)}\\/` : escaped;
}

// ---------------------------------------------------------------------------------------------
// Tokens -> blocks.

const BLOCK_TYPE_OF_TOKEN: Record<string, string> = {
  action: 'action',
  centered: 'centered',
  parenthetical: 'parenthetical',
  dialogue: 'dialogue',
  lyrics: 'lyric',
  synopsis: 'synopsis',
  note: 'note',
};

// fountain-js keeps the state "the paragraph after this one is the left half of a dual dialogue"
// in a private static field and never resets it between calls: a file ending in a dual dialogue
// would mark the last cue of the next file read as dual. Reset it before every tokenize.
// Its lexer also deletes every "/* ... */" first, escaped or not ("\/**" opens one for it): what is
// left of them once our boneyards are out is hidden from it and restored in the tokens' text.
//
// And its tokenizeScript adds each token by copying the whole list (`[...tokens, this]`), which is
// quadratic: 20,000 scenes took 64 s. The script is therefore lexed in chunks of paragraphs, split
// with the lexer's own blank-line rule, last chunk first and with the dual-dialogue state carried
// from one chunk to the one before it, which is exactly the order and state of one call.
const PARAGRAPHS_PER_CHUNK = 200;

function tokenize(source: string): [Token[], Token[]] {
  const lexer = Lexer as unknown as { lastLineWasDualDialogue: boolean; scanIndex: number };
  lexer.lastLineWasDualDialogue = false;
  lexer.scanIndex = 0;
  const hidden = source.replaceAll('/*', HIDDEN_OPEN).replaceAll('*/', HIDDEN_CLOSE);
  const titleTokens = Lexer.tokenizeTitlePage(hidden);
  const paragraphs = hidden.substring(lexer.scanIndex).split(rules.blank_lines);
  const chunks: Token[][] = [];
  for (let end = paragraphs.length; end > 0; end -= PARAGRAPHS_PER_CHUNK) {
    chunks.push(Lexer.tokenizeScript(paragraphs.slice(Math.max(0, end - PARAGRAPHS_PER_CHUNK), end).join('\n\n')));
  }
  const scriptTokens = chunks.reverse().flat();
  const restore = (token: Token) => {
    if (token.text !== undefined) token.text = token.text.replaceAll(HIDDEN_OPEN, '/*').replaceAll(HIDDEN_CLOSE, '*/');
  };
  titleTokens.forEach(restore);
  scriptTokens.forEach(restore);
  return [titleTokens, scriptTokens];
}

// Noncharacters (U+FDD0-U+FDEF are reserved for internal use): they never stand for text.
const HIDDEN_OPEN = '\uFDD1';
const HIDDEN_CLOSE = '\uFDD2';

function inlineBlock(type: string, raw: string, extra: Record<string, string | number> = {}): CanonicalRestBlock {
  const { text, marks } = parseFountainInline(raw);
  return { type, text, ...(marks.length > 0 ? { marks } : {}), ...extra };
}

// Lines of exactly two spaces are Fountain's way to keep an empty line inside an element.
const KEPT_EMPTY_LINE = /^ {2}$/gm;

function blocksOfTokens(tokens: readonly Token[], boneyards: readonly string[]): CanonicalRestBlock[] {
  const blocks: CanonicalRestBlock[] = [];
  let dual: string | undefined;
  for (const token of tokens) {
    const raw = (token.text ?? '').replace(KEPT_EMPTY_LINE, '');
    switch (token.type) {
      case 'scene_heading':
        blocks.push(inlineBlock('scene_heading', raw, token.scene_number ? { scene_number: token.scene_number } : {}));
        break;
      case 'transition':
        // fountain-js's rule for "... TO:" also matches a forced "> SMASH CUT TO:" and keeps the ">".
        blocks.push(inlineBlock('transition', raw.replace(/^>\s*/, '')));
        break;
      case 'dialogue_begin':
        dual = token.dual;
        break;
      case 'character':
        blocks.push(inlineBlock('character', raw, dual ? { dual } : {}));
        dual = undefined;
        break;
      case 'section':
        blocks.push(inlineBlock('section', raw, { depth: token.depth ?? 1 }));
        break;
      case 'page_break':
        blocks.push({ type: 'page_break', text: '' });
        break;
      case 'note': {
        const boneyard = BONEYARD_PLACEHOLDER.exec(raw);
        if (boneyard) blocks.push({ type: 'boneyard', text: boneyards[Number(boneyard[1])] });
        else blocks.push(inlineBlock('note', raw));
        break;
      }
      case 'dialogue_end':
      case 'dual_dialogue_begin':
      case 'dual_dialogue_end':
      case 'spaces':
        break;
      default: {
        const type = BLOCK_TYPE_OF_TOKEN[token.type];
        // A token type this module does not know is kept under its own name, never dropped.
        blocks.push(inlineBlock(type ?? token.type, raw));
      }
    }
  }
  return blocks;
}

// ---------------------------------------------------------------------------------------------
// Boneyards. fountain-js deletes /* ... */ before lexing; a boneyard that stands as its own
// paragraph is kept as a `boneyard` block (by passing the lexer a note that names it), one inside
// a paragraph stays in that paragraph's text.

const BONEYARD_PLACEHOLDER = /^\uFDD0(\d+)$/;

function extractBoneyards(source: string): { source: string; boneyards: string[] } {
  const boneyards: string[] = [];
  let out = '';
  let at = 0;
  for (;;) {
    const start = findUnescaped(source, '/*', at);
    if (start < 0) break;
    const end = source.indexOf('*/', start + 2);
    if (end < 0) {
      throw new InterchangeParseError('MALFORMED_SCREENPLAY', 'fountain', 'a boneyard (/*) is never closed with */', {
        line: lineOfIndex(source, start),
        element: 'boneyard',
      });
    }
    const after = end + 2;
    // Only the lines around it are looked at, so a file of many boneyards is read in linear time.
    const lineStart = source.lastIndexOf('\n', start - 1) + 1;
    const previousLineStart = lineStart === 0 ? 0 : source.lastIndexOf('\n', lineStart - 2) + 1;
    const startsParagraph =
      source.slice(lineStart, start).trim() === '' && (lineStart === 0 || source.slice(previousLineStart, lineStart - 1).trim() === '');
    PARAGRAPH_END.lastIndex = after;
    const rest = PARAGRAPH_END.exec(source);
    out += source.slice(at, start);
    if (startsParagraph && rest) {
      out += `[[\uFDD0${boneyards.length}]]`;
      boneyards.push(source.slice(start + 2, end));
    } else {
      out += source.slice(start, after);
    }
    at = after;
  }
  return { source: out + source.slice(at), boneyards };
}

// What may follow a boneyard that is a paragraph of its own: the end of its line, then a blank line or the end.
const PARAGRAPH_END = /[^\S\n]*(\n[^\S\n]*(\n|$)|$)/y;

function findUnescaped(source: string, needle: string, from: number): number {
  for (let i = source.indexOf(needle, from); i >= 0; i = source.indexOf(needle, i + 1)) {
    if (source[i - 1] !== '\\') return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Reading.

/** Longest line a screenplay file may have (a paragraph typed as one line is a few thousand). */
export const MAX_FOUNTAIN_LINE = 10_000;
/** Most spaces or tabs a line may start with. */
export const MAX_FOUNTAIN_INDENT = 64;

// fountain-js's blank-line rule backtracks quadratically over the spaces that start a line (16,000
// of them: 1.7 s), and its element rules over very long lines: such files are refused, with the
// line, before the lexer sees them. No screenplay is indented by more than a few characters.
function refuseUnreadableLines(source: string): void {
  let lineNumber = 1;
  for (let start = 0; start <= source.length; lineNumber++) {
    const newline = source.indexOf('\n', start);
    const end = newline < 0 ? source.length : newline;
    if (end - start > MAX_FOUNTAIN_LINE) {
      throw new InterchangeParseError('MALFORMED_SCREENPLAY', 'fountain', `a line is ${end - start} characters long; a screenplay line has at most ${MAX_FOUNTAIN_LINE}`, { line: lineNumber });
    }
    let indent = start;
    while (indent < end && (source[indent] === ' ' || source[indent] === '\t')) indent++;
    if (indent - start > MAX_FOUNTAIN_INDENT && indent < end) {
      throw new InterchangeParseError('MALFORMED_SCREENPLAY', 'fountain', `a line starts with ${indent - start} spaces or tabs; a screenplay line is indented by at most ${MAX_FOUNTAIN_INDENT}`, { line: lineNumber });
    }
    if (newline < 0) break;
    start = newline + 1;
  }
}

export function parseFountain(input: string): ScreenplayDocument {
  const normalized = input.replace(/\r\n?/g, '\n');
  if (/^\s*<(\?xml|FinalDraft)/i.test(normalized)) {
    throw new InterchangeParseError('NOT_A_SCREENPLAY', 'fountain', 'this is XML (Final Draft?), not Fountain: import it as fdx', { line: 1 });
  }
  refuseUnreadableLines(normalized);
  const { source, boneyards } = extractBoneyards(normalized);
  const [titleTokens, scriptTokens] = tokenize(source);
  const titlePage: Record<string, string> = {};
  for (const token of titleTokens) {
    titlePage[token.type] = parseFountainInline(token.text ?? '').text;
  }
  const blocks = blocksOfTokens(scriptTokens, boneyards);
  if (blocks.length === 0 && Object.keys(titlePage).length === 0) {
    throw new InterchangeParseError('EMPTY_SCREENPLAY', 'fountain', 'the file holds no screenplay element', { line: 1 });
  }
  return { title: titleOfTitlePage(titlePage), titlePage, scenes: scenesOfBlocks(blocks) };
}

// ---------------------------------------------------------------------------------------------
// Writing.

const TITLE_PAGE_KEY_ORDER = ['title', 'credit', 'author', 'authors', 'source', 'draft_date', 'date', 'contact', 'copyright', 'notes', 'revision'];

function titlePageKey(key: string): string {
  const words = key.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function writeTitlePage(titlePage: Record<string, string>): string {
  const keys = Object.keys(titlePage)
    .filter((key) => /^[a-z0-9][a-z0-9_ ]*$/i.test(key) && titlePage[key].trim() !== '')
    .sort((a, b) => orderOf(a) - orderOf(b) || a.localeCompare(b));
  // fountain-js only sees a title page whose first key is one it knows.
  if (keys.length > 0 && orderOf(keys[0]) === TITLE_PAGE_KEY_ORDER.length) return '';
  return keys
    .map((key) => {
      const lines = titlePage[key].split('\n').map((line) => escapeFountainText(line.trim())).filter((line) => line !== '');
      return lines.length === 1 ? `${titlePageKey(key)}: ${lines[0]}` : `${titlePageKey(key)}:\n${lines.map((line) => `   ${line}`).join('\n')}`;
    })
    .join('\n');
}

function orderOf(key: string): number {
  const index = TITLE_PAGE_KEY_ORDER.indexOf(key.toLowerCase());
  return index < 0 ? TITLE_PAGE_KEY_ORDER.length : index;
}

const isDialoguePart = (block: CanonicalRestBlock) => block.type === 'dialogue' || block.type === 'parenthetical' || block.type === 'lyric';

function keptEmptyLines(text: string): string {
  return text.replace(/^$/gm, '  ');
}

function inline(block: CanonicalRestBlock): string {
  return writeFountainInline(block.text, block.marks);
}

// The ways to write one paragraph, plain first; the first that reads back as the same blocks wins.
function candidates(group: readonly CanonicalRestBlock[]): string[] {
  const [first] = group;
  const text = inline(first);
  switch (first.type) {
    case 'scene_heading': {
      const number = typeof first.scene_number === 'string' && /^[\w.-]+$/.test(first.scene_number) ? ` #${first.scene_number}#` : '';
      const oneLine = text.replace(/\n/g, ' ');
      return [`${oneLine}${number}`, `.${oneLine}${number}`];
    }
    case 'character': {
      const lines = group.slice(1).map((part) => {
        const partText = inline(part);
        if (part.type === 'lyric') return partText.split('\n').map((line) => `~${line}`).join('\n');
        return part.type === 'dialogue' ? keptEmptyLines(partText) : partText;
      });
      const cue = text.replace(/\n/g, ' ') + (first.dual === 'right' ? ' ^' : '');
      return [[cue, ...lines].join('\n'), [`@${cue}`, ...lines].join('\n')];
    }
    case 'transition':
      return [text, `> ${text}`];
    case 'centered':
      return [text.split('\n').map((line) => `> ${line} <`).join('\n')];
    case 'lyric':
      return [text.split('\n').map((line) => `~${line}`).join('\n')];
    case 'section':
      return [`${'#'.repeat(typeof first.depth === 'number' && first.depth > 0 ? Math.min(first.depth, 6) : 1)} ${text}`];
    case 'synopsis':
      return [`= ${text}`];
    case 'note':
      return [`[[${text}]]`];
    case 'boneyard':
      return [`/*${first.text}*/`];
    case 'page_break':
      return ['==='];
    default:
      // action, general and types Fountain has no element for (an FDX "Shot") are written as action.
      return [keptEmptyLines(text), `!${keptEmptyLines(text)}`];
  }
}

function readsBackAs(paragraph: string, group: readonly CanonicalRestBlock[]): boolean {
  const { source, boneyards } = extractBoneyards(paragraph);
  const [titleTokens, tokens] = tokenize(source);
  if (titleTokens.length > 0) return false;
  const read = blocksOfTokens(tokens, boneyards);
  const expected = group.map((block) => ({
    ...block,
    type: candidatesTypeOf(block.type),
  }));
  return sameBlocks(read, expected);
}

// What a block reads back as in Fountain: types without an element become action.
function candidatesTypeOf(type: string): string {
  return FOUNTAIN_TYPES.has(type) ? type : 'action';
}

const FOUNTAIN_TYPES = new Set([
  'scene_heading', 'action', 'character', 'dialogue', 'parenthetical', 'transition', 'centered',
  'lyric', 'section', 'synopsis', 'note', 'boneyard', 'page_break',
]);

/** The fields Fountain carries for a block: what a Fountain round trip keeps. */
export function fountainView(block: CanonicalRestBlock): CanonicalRestBlock {
  const view: CanonicalRestBlock = { type: candidatesTypeOf(block.type), text: block.text };
  if (block.marks && block.marks.length > 0 && view.type !== 'boneyard' && view.type !== 'page_break') view.marks = block.marks;
  if (view.type === 'scene_heading' && typeof block.scene_number === 'string') view.scene_number = block.scene_number;
  if (view.type === 'character' && (block.dual === 'left' || block.dual === 'right')) view.dual = block.dual;
  if (view.type === 'section') view.depth = typeof block.depth === 'number' ? block.depth : 1;
  return view;
}

function sameBlocks(read: readonly CanonicalRestBlock[], expected: readonly CanonicalRestBlock[]): boolean {
  if (read.length !== expected.length) return false;
  return read.every((block, i) => JSON.stringify(sortKeys(block)) === JSON.stringify(sortKeys(fountainView(expected[i]))));
}

function sortKeys(block: CanonicalRestBlock): Record<string, unknown> {
  return Object.fromEntries(Object.entries(block).sort(([a], [b]) => a.localeCompare(b)));
}

function writeParagraph(group: readonly CanonicalRestBlock[]): string {
  const options = candidates(group);
  if (options.length === 1) return options[0];
  // A dual-dialogue left cue only reads as dual next to its right half: alone, it is checked as
  // a plain cue (its form does not change with the "^" of the next paragraph).
  const checked = group[0].dual === 'left' ? [{ ...group[0], dual: undefined }, ...group.slice(1)] : group;
  return options.find((option) => readsBackAs(option, checked)) ?? options[options.length - 1];
}

/** The canonical Fountain text of a document: title page, then every scene's blocks. */
export function serializeFountain(doc: ScreenplayDocument): string {
  const paragraphs: string[] = [];
  const titlePage = writeTitlePage(doc.titlePage);
  if (titlePage !== '') paragraphs.push(titlePage);
  const blocks = doc.scenes.flatMap((scene) => scene.blocks);
  for (let i = 0; i < blocks.length; ) {
    const group = [blocks[i]];
    i++;
    if (blocks[i - 1].type === 'character') {
      while (i < blocks.length && isDialoguePart(blocks[i])) group.push(blocks[i++]);
    }
    paragraphs.push(writeParagraph(group));
  }
  return `${paragraphs.join('\n\n')}\n`;
}
