/**
 * The script's pages as the PDF export sets them (src/interchange/pagination.ts, industry format):
 * how many there are and where each one starts, so the page shows the same page count and page
 * breaks as the printed script. Pure: the script view calls it with the scenes it holds.
 */
import { ELEMENT_FORMATS, paginateScreenplay, type PageLine } from '../src/interchange/pagination.ts';
import type { CanonicalRestBlock, RestBlock } from '../src/screenplay/restBlocks.ts';

/** One scene in script order, its blocks as `GET /api/scripts/:id/scenes` or its editor gives them. */
export interface ScriptScene {
  sceneId: string;
  blocks: readonly RestBlock[];
}

/** Where a page starts: in block `blockIndex` of the scene, `offset` characters into its text (0: at the block). */
export interface PageStart {
  page: number;
  sceneId: string;
  blockIndex: number;
  offset: number;
}

export interface ScriptPages {
  pageCount: number;
  /** One entry per page, in order; page 1 starts at the first printed block. */
  starts: PageStart[];
}

/** Lines that are not a block's own text: the page number, scene numbers, "(MORE)". */
const FURNITURE = new Set(['page_number', 'scene_number', 'more']);

/** The text as pagination.ts prints it: control characters as spaces, capitals where the element prints them (length kept). */
function printedText(block: CanonicalRestBlock): string {
  const text = block.text.replace(/[\u0000-\u0009\u000B-\u001F\u007F]/g, ' ');
  const upper = (ELEMENT_FORMATS as Record<string, { upper: boolean }>)[block.type]?.upper ?? false;
  if (!upper) return text;
  let out = '';
  for (const ch of text) {
    const up = ch.toUpperCase();
    out += up.length === ch.length ? up : ch;
  }
  return out;
}

interface Located {
  block: number;
  /** Where the line's text starts in the block's printed text. */
  at: number;
  /** The block's first printed line. */
  first: boolean;
}

/**
 * Follows the laid-out lines back to the blocks they were set from. The layout prints every block's
 * text in document order, each line a slice of it (a split block's rest is wrapped afresh, still
 * from its text), so a cursor walking the blocks finds each line at or after the previous one.
 */
class LineCursor {
  private block = 0;
  private pos = 0;
  private started = false;
  private readonly texts: string[];

  constructor(private readonly blocks: readonly CanonicalRestBlock[]) {
    this.texts = blocks.map(printedText);
  }

  locate(line: PageLine): Located | null {
    for (let b = this.block; b < this.blocks.length; b++) {
      const block = this.blocks[b]!;
      const current = b === this.block;
      const from = current ? this.pos : 0;
      if (block.type === line.type) {
        const at = this.texts[b]!.indexOf(line.text, from);
        if (at !== -1) {
          const first = !(current && this.started);
          this.block = b;
          this.pos = at + line.text.length;
          this.started = true;
          return { block: b, at, first };
        }
      }
      // The architecture document's dialogue form: the cue is the dialogue block's `character`
      // field, printed before it; the dialogue's own lines follow.
      if (line.type === 'character' && block.type === 'dialogue' && typeof block.character === 'string' && !(current && this.started)) return null;
    }
    return null;
  }
}

/** The page count and each page's start, from the same layout as the PDF export (no title page, no scene numbers). */
export function scriptPages(scenes: readonly ScriptScene[]): ScriptPages {
  const owners: { sceneId: string; blockIndex: number }[] = [];
  const blocks: CanonicalRestBlock[] = [];
  for (const scene of scenes) {
    scene.blocks.forEach((block, blockIndex) => {
      owners.push({ sceneId: scene.sceneId, blockIndex });
      blocks.push({ ...block, text: block.text ?? '' } as CanonicalRestBlock);
    });
  }
  const layout = paginateScreenplay(
    { title: '', titlePage: {}, scenes: [{ blocks }] },
    { titlePage: false, sceneNumbers: false },
  );
  const cursor = new LineCursor(blocks);
  const starts: PageStart[] = [];
  for (const page of layout.pages) {
    let start: PageStart | null = null;
    for (const line of page.lines) {
      if (line.row === null || FURNITURE.has(line.type)) continue;
      // The repeated "NAME (CONT'D)" of a speech split at the page before: the page starts in that speech.
      if (line.continued) continue;
      const located = cursor.locate(line);
      if (located === null || start !== null) continue;
      const owner = owners[located.block]!;
      start = { page: page.number, sceneId: owner.sceneId, blockIndex: owner.blockIndex, offset: located.first ? 0 : located.at };
    }
    if (start !== null) starts.push(start);
  }
  return { pageCount: layout.pageCount, starts };
}

/** The page breaks inside one scene (every start but the script's first), for its editor's PageBreaks. */
export function pageBreaksOf(pages: ScriptPages, sceneId: string): PageStart[] {
  return pages.starts.filter((start) => start.page > 1 && start.sceneId === sceneId);
}
