// Final Draft (.fdx) <-> ScreenplayDocument. FDX is XML: <FinalDraft><Content> holds one
// <Paragraph Type="..."> per element, its text in <Text Style="Bold+Italic+Underline"> runs;
// dual dialogue is a <Paragraph> wrapping <DualDialogue> with the two speeches; the title page is
// <TitlePage><Content> with paragraphs of plain text. fast-xml-parser validates (with the line and
// column of the first error), parses in document order, and XMLBuilder writes.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import type { CanonicalRestBlock, ScreenplayMarkType } from '../screenplay/index.ts';
import type { ScreenplayDocument } from './document.ts';
import { InterchangeParseError, lineOfIndex } from './errors.ts';
import { marksOfRuns, runsOfMarks } from './marks.ts';
import type { StyledRun } from './marks.ts';
import { scenesOfBlocks, titleOfTitlePage } from './scenes.ts';

const BLOCK_TYPE_OF_FDX: Record<string, string> = {
  'Scene Heading': 'scene_heading',
  Action: 'action',
  Character: 'character',
  Dialogue: 'dialogue',
  Parenthetical: 'parenthetical',
  Transition: 'transition',
  General: 'general',
};

const FDX_TYPE_OF_BLOCK: Record<string, string> = {
  ...Object.fromEntries(Object.entries(BLOCK_TYPE_OF_FDX).map(([fdx, block]) => [block, fdx])),
  // FDX has no centered element: it is centred action.
  centered: 'Action',
};

const STYLE_OF_MARK: Record<ScreenplayMarkType, string> = { bold: 'Bold', italic: 'Italic', underline: 'Underline' };
const MARK_OF_STYLE: Record<string, ScreenplayMarkType> = { Bold: 'bold', Italic: 'italic', Underline: 'underline' };

/** The block type of an FDX paragraph type we have no node for: "Cast List" -> "cast_list". */
export function blockTypeOfFdxType(fdxType: string): string {
  return fdxType.trim().toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '') || 'general';
}

function fdxTypeOfBlock(block: CanonicalRestBlock): string {
  if (typeof block.fdx_type === 'string' && block.fdx_type.trim() !== '') return block.fdx_type;
  return FDX_TYPE_OF_BLOCK[block.type] ?? block.type.split('_').map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
}

// ---------------------------------------------------------------------------------------------
// Reading.

// The parser's preserveOrder form: each node is {tagName: children, ':@'?: attributes}, text is {'#text': value}.
type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const ATTRIBUTE_PREFIX = '@_';

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  // Text runs keep their spaces exactly ("Rain. " before a bold run).
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  captureMetaData: true,
});

const META = XMLParser.getMetaDataSymbol() as unknown as string;

function tagOf(node: OrderedNode): string | null {
  for (const key of Object.keys(node)) if (key !== ':@' && key !== '#text') return key;
  return null;
}

function childrenOf(node: OrderedNode): OrderedNode[] {
  const tag = tagOf(node);
  return tag === null ? [] : ((node[tag] as OrderedNode[]) ?? []);
}

function attribute(node: OrderedNode, name: string): string | undefined {
  return node[':@']?.[ATTRIBUTE_PREFIX + name];
}

function elements(nodes: readonly OrderedNode[], tag: string): OrderedNode[] {
  return nodes.filter((node) => tagOf(node) === tag);
}

interface ReadContext {
  source: string;
  paragraphIndex: number;
}

function where(context: ReadContext, node: OrderedNode, type: string | undefined) {
  const meta = (node as unknown as Record<string, { startIndex?: number } | undefined>)[META];
  return {
    ...(meta?.startIndex === undefined ? {} : { line: lineOfIndex(context.source, meta.startIndex) }),
    element: `paragraph ${context.paragraphIndex}${type ? ` (${type})` : ''}`,
  };
}

function runsOfParagraph(paragraph: OrderedNode, context: ReadContext, type: string | undefined): StyledRun[] {
  const runs: StyledRun[] = [];
  for (const child of childrenOf(paragraph)) {
    if (tagOf(child) !== 'Text') continue;
    let text = '';
    for (const part of childrenOf(child)) {
      if (typeof part['#text'] === 'string') text += part['#text'];
      else throw new InterchangeParseError('MALFORMED_SCREENPLAY', 'fdx', `<Text> holds an element <${tagOf(part)}>, not only text`, where(context, child, type));
    }
    const marks = new Set<ScreenplayMarkType>();
    for (const style of (attribute(child, 'Style') ?? '').split('+')) {
      const mark = MARK_OF_STYLE[style.trim()];
      if (mark) marks.add(mark);
    }
    runs.push({ text, marks });
  }
  return runs;
}

function blockOfParagraph(paragraph: OrderedNode, context: ReadContext): CanonicalRestBlock {
  const fdxType = attribute(paragraph, 'Type');
  const { text, marks } = marksOfRuns(runsOfParagraph(paragraph, context, fdxType));
  const known = fdxType === undefined ? 'general' : BLOCK_TYPE_OF_FDX[fdxType];
  const centered = fdxType === 'Action' && attribute(paragraph, 'Alignment') === 'Center';
  const block: CanonicalRestBlock = { type: centered ? 'centered' : (known ?? blockTypeOfFdxType(fdxType!)), text };
  if (marks.length > 0) block.marks = marks;
  if (known === undefined && fdxType !== undefined) block.fdx_type = fdxType;
  const number = attribute(paragraph, 'Number');
  if (number !== undefined && number !== '' && block.type === 'scene_heading') block.scene_number = number;
  return block;
}

function readContent(paragraphs: readonly OrderedNode[], context: ReadContext): CanonicalRestBlock[] {
  const blocks: CanonicalRestBlock[] = [];
  for (const paragraph of paragraphs) {
    context.paragraphIndex++;
    const dual = elements(childrenOf(paragraph), 'DualDialogue')[0];
    if (dual === undefined) {
      blocks.push(blockOfParagraph(paragraph, context));
      continue;
    }
    // The first speaker of a dual dialogue is on the left, the second on the right.
    let speakers = 0;
    for (const inner of elements(childrenOf(dual), 'Paragraph')) {
      const block = blockOfParagraph(inner, context);
      if (block.type === 'character' && speakers < 2) block.dual = speakers++ === 0 ? 'left' : 'right';
      blocks.push(block);
    }
  }
  return blocks;
}

const CREDIT_LINE = /^((written|screenplay|teleplay|story|adapted)\b.*)?\bby$|^by\b/i;

// FDX title pages are free text; the fields are recovered from the usual layout: title first, then
// a credit line ("Written by") and the author, centred lines after that as the source, lines set
// right as the draft date and lines set left (an agent's address) as the contact.
function readTitlePage(paragraphs: readonly OrderedNode[], context: ReadContext): Record<string, string> {
  const lines = paragraphs
    .map((paragraph) => ({
      text: marksOfRuns(runsOfParagraph(paragraph, context, 'Title Page')).text.trim(),
      alignment: attribute(paragraph, 'Alignment') ?? 'Left',
    }))
    .filter((line) => line.text !== '');
  const titlePage: Record<string, string> = {};
  if (lines.length === 0) return titlePage;
  titlePage.title = lines[0].text;
  let next = 1;
  if (lines[1] && CREDIT_LINE.test(lines[1].text)) {
    titlePage.credit = lines[1].text;
    if (lines[2]) titlePage.author = lines[2].text;
    next = 3;
  }
  const rest = lines.slice(next);
  const field = (alignment: string) => rest.filter((line) => line.alignment === alignment).map((line) => line.text).join('\n');
  for (const [key, alignment] of [['source', 'Center'], ['draft_date', 'Right'], ['contact', 'Left']] as const) {
    const value = field(alignment);
    if (value !== '') titlePage[key] = value;
  }
  return titlePage;
}

export function parseFdx(input: string): ScreenplayDocument {
  const source = input.replace(/^\uFEFF/, '');
  if (source.trim() === '') throw new InterchangeParseError('EMPTY_SCREENPLAY', 'fdx', 'the file is empty', { line: 1 });
  if (!/^\s*</.test(source)) {
    throw new InterchangeParseError('NOT_A_SCREENPLAY', 'fdx', 'the file is not XML, so not a Final Draft file', { line: 1 });
  }
  // FDX files have no document type; refusing one keeps entity definitions (and their expansion) out.
  const doctype = /<!DOCTYPE|<!ENTITY/i.exec(source);
  if (doctype) {
    throw new InterchangeParseError('MALFORMED_SCREENPLAY', 'fdx', 'a DOCTYPE or ENTITY declaration is not allowed in a Final Draft file', {
      line: lineOfIndex(source, doctype.index),
    });
  }
  // The validator and the parser both let an undefined entity through as text; XML does not.
  const entity = /&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/.exec(source);
  if (entity) {
    throw new InterchangeParseError('MALFORMED_SCREENPLAY', 'fdx', 'broken XML: an "&" that starts no known entity (write it as &amp;)', {
      line: lineOfIndex(source, entity.index),
      column: entity.index - source.lastIndexOf('\n', entity.index - 1),
    });
  }
  const valid = XMLValidator.validate(source);
  if (valid !== true) {
    throw new InterchangeParseError('MALFORMED_SCREENPLAY', 'fdx', `broken XML: ${valid.err.msg}`, { line: valid.err.line, column: valid.err.col });
  }
  let tree: OrderedNode[];
  try {
    tree = parser.parse(source) as OrderedNode[];
  } catch (error) {
    // The validator passed, so this is a limit of the parser (nesting depth, entity expansion).
    throw new InterchangeParseError('MALFORMED_SCREENPLAY', 'fdx', `XML the parser refuses: ${(error as Error).message}`);
  }
  const root = tree.find((node) => tagOf(node) !== null && tagOf(node) !== '?xml');
  if (!root || tagOf(root) !== 'FinalDraft') {
    throw new InterchangeParseError('NOT_A_SCREENPLAY', 'fdx', `the root element is <${root ? tagOf(root) : 'none'}>, not <FinalDraft>`, { line: 1 });
  }
  const content = elements(childrenOf(root), 'Content')[0];
  if (!content) {
    throw new InterchangeParseError('MALFORMED_SCREENPLAY', 'fdx', '<FinalDraft> has no <Content>', { element: 'FinalDraft' });
  }
  const context: ReadContext = { source, paragraphIndex: 0 };
  const blocks = readContent(elements(childrenOf(content), 'Paragraph'), context);
  const titleContent = elements(childrenOf(elements(childrenOf(root), 'TitlePage')[0] ?? {}), 'Content')[0];
  const titlePage = readTitlePage(titleContent ? elements(childrenOf(titleContent), 'Paragraph') : [], { source, paragraphIndex: 0 });
  if (blocks.length === 0 && Object.keys(titlePage).length === 0) {
    throw new InterchangeParseError('EMPTY_SCREENPLAY', 'fdx', 'the file holds no paragraph', { element: 'Content' });
  }
  return { title: titleOfTitlePage(titlePage), titlePage, scenes: scenesOfBlocks(blocks) };
}

// ---------------------------------------------------------------------------------------------
// Writing.

const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTRIBUTE_PREFIX,
  format: true,
  indentBy: '  ',
  suppressEmptyNode: false,
  processEntities: true,
});

function textNodes(text: string, marks: CanonicalRestBlock['marks']): OrderedNode[] {
  const runs = runsOfMarks(text, marks);
  if (runs.length === 0) return [{ Text: [] }];
  return runs.map((run) => {
    const style = (['bold', 'italic', 'underline'] as const).filter((m) => run.marks.has(m)).map((m) => STYLE_OF_MARK[m]).join('+');
    return { Text: [{ '#text': run.text }], ...(style ? { ':@': { [`${ATTRIBUTE_PREFIX}Style`]: style } } : {}) };
  });
}

function paragraphNode(block: CanonicalRestBlock): OrderedNode {
  const attributes: Record<string, string> = { [`${ATTRIBUTE_PREFIX}Type`]: fdxTypeOfBlock(block) };
  if (block.type === 'centered') attributes[`${ATTRIBUTE_PREFIX}Alignment`] = 'Center';
  if (block.type === 'scene_heading' && typeof block.scene_number === 'string' && block.scene_number !== '') {
    attributes[`${ATTRIBUTE_PREFIX}Number`] = block.scene_number;
  }
  return { Paragraph: textNodes(block.text, block.marks), ':@': attributes };
}

const isSpeechPart = (block: CanonicalRestBlock | undefined) =>
  block !== undefined && (block.type === 'dialogue' || block.type === 'parenthetical' || block.type === 'lyric');

function contentNodes(blocks: readonly CanonicalRestBlock[]): OrderedNode[] {
  const nodes: OrderedNode[] = [];
  for (let i = 0; i < blocks.length; ) {
    const block = blocks[i];
    if (block.type === 'character' && block.dual === 'left') {
      // The left speech, then the right one when it follows: both inside one <DualDialogue>.
      let end = i + 1;
      while (isSpeechPart(blocks[end])) end++;
      if (blocks[end]?.type === 'character' && blocks[end].dual === 'right') {
        end++;
        while (isSpeechPart(blocks[end])) end++;
        nodes.push({ Paragraph: [{ DualDialogue: blocks.slice(i, end).map(paragraphNode) }] });
        i = end;
        continue;
      }
    }
    nodes.push(paragraphNode(block));
    i++;
  }
  return nodes;
}

// Keys the FDX layout has no place for (copyright, notes, ...) are written left, after the contact,
// and read back as part of it.
const TITLE_PAGE_LAYOUT: Array<{ key: string; alignment: 'Center' | 'Left' | 'Right' }> = [
  { key: 'title', alignment: 'Center' },
  { key: 'credit', alignment: 'Center' },
  { key: 'author', alignment: 'Center' },
  { key: 'authors', alignment: 'Center' },
  { key: 'source', alignment: 'Center' },
  { key: 'draft_date', alignment: 'Right' },
  { key: 'date', alignment: 'Right' },
  { key: 'contact', alignment: 'Left' },
  { key: 'copyright', alignment: 'Left' },
  { key: 'notes', alignment: 'Left' },
];

function titlePageNodes(titlePage: Record<string, string>): OrderedNode[] {
  const known = new Set(TITLE_PAGE_LAYOUT.map((entry) => entry.key));
  const entries = [
    ...TITLE_PAGE_LAYOUT.filter((entry) => titlePage[entry.key]),
    ...Object.keys(titlePage).filter((key) => !known.has(key) && titlePage[key]).sort().map((key) => ({ key, alignment: 'Left' as const })),
  ];
  const nodes: OrderedNode[] = [];
  for (const { key, alignment } of entries) {
    for (const line of titlePage[key].split('\n')) {
      nodes.push({
        Paragraph: textNodes(line, undefined),
        ':@': { [`${ATTRIBUTE_PREFIX}Alignment`]: alignment, [`${ATTRIBUTE_PREFIX}Type`]: 'Text' },
      });
    }
  }
  return nodes;
}

export function serializeFdx(doc: ScreenplayDocument): string {
  const finalDraft: OrderedNode[] = [{ Content: contentNodes(doc.scenes.flatMap((scene) => scene.blocks)) }];
  const titlePage = titlePageNodes(doc.titlePage);
  if (titlePage.length > 0) finalDraft.push({ TitlePage: [{ Content: titlePage }] });
  const tree: OrderedNode[] = [
    { '?xml': [], ':@': { [`${ATTRIBUTE_PREFIX}version`]: '1.0', [`${ATTRIBUTE_PREFIX}encoding`]: 'UTF-8', [`${ATTRIBUTE_PREFIX}standalone`]: 'no' } },
    {
      FinalDraft: finalDraft,
      ':@': { [`${ATTRIBUTE_PREFIX}DocumentType`]: 'Script', [`${ATTRIBUTE_PREFIX}Template`]: 'No', [`${ATTRIBUTE_PREFIX}Version`]: '5' },
    },
  ];
  return builder.build(tree) as string;
}
