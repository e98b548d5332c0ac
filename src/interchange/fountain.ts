// Fountain (https://fountain.io) <-> ScreenplayDocument. Parsing is fountain-js's lexer (its tokens
// cover every element, dual dialogue, scene numbers, sections, synopses, notes, lyrics, page
// breaks); this module maps its tokens to our blocks and adds what it does not do: inline
// emphasis as marks (fountain-js only renders it to HTML), boneyards (its lexer deletes them),
// escapes, and a writer. The writer's output is the canonical Fountain of a document: each block
// written plainly when that reads back as the same block, else in its forced form (".", "!", "@",
// ">"), which is checked by reading the paragraph back with the same lexer.
import { Lexer } from 'fountain-js';
import type { Token } from 'fountain-js';
import type { CanonicalRestBlock, RestMark, ScreenplayMarkType } from '../screenplay/index.ts';
import type { ScreenplayDocument } from './document.ts';
import { InterchangeParseError, lineOfIndex } from './errors.ts';
import { marksOfRuns, runsOfMarks } from './marks.ts';
import type { StyledRun } from './marks.ts';
import { scenesOfBlocks, titleOfTitlePage } from './scenes.ts';

// ---------------------------------------------------------------------------------------------
// Inline emphasis: *italic*, **bold**, ***both***, _underline_, backslash escapes.

// fountain-js's escapable characters (rules.escape).
const ESCAPABLE = new Set(['@', '#', '!', '*', '_', '$', '~', '`', '+', '=', '.', '>', '<', '\\', '/']);

type InlinePiece = { literal: string } | { toggles: ScreenplayMarkType[]; raw: string };

// Emphasis delimiters toggle their marks: a run of 1, 2 or 3 asterisks toggles italic, bold or
// both, an underscore toggles underline, and an opener with no closer is literal text. Toggling
// (rather than strict nesting) is what lets the writer close one mark and open another with a
// single run of asterisks, and it reads hand-written files the way Fountain apps render them.
export function parseFountainInline(raw: string): { text: string; marks: RestMark[] } {
  const pieces: InlinePiece[] = [];
  for (let i = 0; i < raw.length; ) {
    const c = raw[i];
    if (c === '\\' && i + 1 < raw.length && ESCAPABLE.has(raw[i + 1])) {
      pieces.push({ literal: raw[i + 1] });
      i += 2;
    } else if (c === '*') {
      let n = 0;
      while (raw[i + n] === '*' && n < 3) n++;
      pieces.push({ toggles: n === 1 ? ['italic'] : n === 2 ? ['bold'] : ['bold', 'italic'], raw: '*'.repeat(n) });
      i += n;
    } else if (c === '_') {
      pieces.push({ toggles: ['underline'], raw: '_' });
      i += 1;
    } else {
      pieces.push({ literal: c });
      i += 1;
    }
  }
  // Pass 1: pair each mark's toggles; a toggle left without a partner is literal.
  const matched = pieces.map(() => new Set<ScreenplayMarkType>());
  const pending = new Map<ScreenplayMarkType, number>();
  pieces.forEach((piece, index) => {
    if (!('toggles' in piece)) return;
    for (const type of piece.toggles) {
      const opener = pending.get(type);
      if (opener === undefined) pending.set(type, index);
      else {
        matched[opener].add(type);
        matched[index].add(type);
        pending.delete(type);
      }
    }
  });
  // Pass 2: text and ranges.
  let text = '';
  const open = new Map<ScreenplayMarkType, number>();
  const marks: RestMark[] = [];
  pieces.forEach((piece, index) => {
    if ('literal' in piece) {
      text += piece.literal;
      return;
    }
    const used = matched[index];
    for (const type of piece.toggles) {
      if (!used.has(type)) continue;
      const from = open.get(type);
      if (from === undefined) open.set(type, text.length);
      else {
        open.delete(type);
        if (text.length > from) marks.push({ type, from, to: text.length });
      }
    }
    const unusedStars = piece.toggles.filter((t) => !used.has(t) && t !== 'underline');
    if (piece.raw === '_' && !used.has('underline')) text += '_';
    else text += '*'.repeat(unusedStars.reduce((sum, t) => sum + (t === 'bold' ? 2 : 1), 0));
  });
  return marksOfRuns(runsOfMarks(text, marks));
}

function escapeFountainText(text: string): string {
  return text.replace(/[\\*_]/g, (c) => `\\${c}`);
}

/** Text with its marks as Fountain emphasis; literal \, * and _ are escaped. */
export function writeFountainInline(text: string, marks: readonly RestMark[] | undefined): string {
  const runs: StyledRun[] = runsOfMarks(text, marks);
  let out = '';
  let active = new Set<ScreenplayMarkType>();
  const transition = (next: ReadonlySet<ScreenplayMarkType>) => {
    const flips = (type: ScreenplayMarkType) => active.has(type) !== next.has(type);
    // Underline closes before the asterisks and opens after them, so "_**x**_" nests visibly.
    if (flips('underline') && active.has('underline')) out += '_';
    const stars = (flips('bold') ? 2 : 0) + (flips('italic') ? 1 : 0);
    out += '*'.repeat(stars);
    if (flips('underline') && next.has('underline')) out += '_';
    active = new Set(next);
  };
  for (const run of runs) {
    transition(run.marks);
    // A "/" right before the next run's asterisks would open a boneyard ("/**").
    out += escapeFountainText(run.text).replace(/\/$/, '\\/');
  }
  transition(new Set());
  return out;
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
function tokenize(source: string): [Token[], Token[]] {
  (Lexer as unknown as { lastLineWasDualDialogue: boolean }).lastLineWasDualDialogue = false;
  const [titleTokens, scriptTokens] = Lexer.tokenize(source.replaceAll('/*', HIDDEN_OPEN).replaceAll('*/', HIDDEN_CLOSE));
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
    const before = source.slice(0, start);
    const startsParagraph = start === 0 || /(^|\n)[^\S\n]*\n$/.test(before) || before.trim() === '';
    const rest = /^[^\S\n]*(\n[^\S\n]*(\n|$)|$)/.exec(source.slice(after));
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

function findUnescaped(source: string, needle: string, from: number): number {
  for (let i = source.indexOf(needle, from); i >= 0; i = source.indexOf(needle, i + 1)) {
    if (source[i - 1] !== '\\') return i;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Reading.

export function parseFountain(input: string): ScreenplayDocument {
  const normalized = input.replace(/\r\n?/g, '\n');
  if (/^\s*<(\?xml|FinalDraft)/i.test(normalized)) {
    throw new InterchangeParseError('NOT_A_SCREENPLAY', 'fountain', 'this is XML (Final Draft?), not Fountain: import it as fdx', { line: 1 });
  }
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
