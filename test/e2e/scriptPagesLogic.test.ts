// The page's page count and page breaks (web/scriptPages.ts) agree with the PDF export's layout
// (src/interchange/pagination.ts) page by page. No browser.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ScreenplayDocument } from '../../src/interchange/document.ts';
import { parseFountain } from '../../src/interchange/fountain.ts';
import { paginateScreenplay, type LaidOutPage } from '../../src/interchange/pagination.ts';
import { toCapitals } from '../../src/screenplay/capitals.ts';
import { pageBreaksOf, scriptPages, type ScriptScene } from '../../web/scriptPages.ts';
import { fountainDocumentArb } from '../interchange/arbitraries.ts';
import { featureScript } from '../interchange/pdfSupport.ts';
import { fixtureText } from '../interchange/support.ts';

const scenesOf = (doc: ScreenplayDocument): ScriptScene[] => doc.scenes.map((scene, i) => ({ sceneId: `scene-${i}`, blocks: scene.blocks }));

/** The first line of a page that is a block's own text (not the page number, a scene number, "(MORE)" or a repeated cue). */
function firstTextLine(page: LaidOutPage) {
  return page.lines.find((line) => line.row !== null && !['page_number', 'scene_number', 'more'].includes(line.type) && !line.continued);
}

/** Every page starts where the PDF export's page does: its first line is the start block's text from the start offset. */
function expectAgreement(doc: ScreenplayDocument): void {
  const layout = paginateScreenplay(doc, { titlePage: false });
  const scenes = scenesOf(doc);
  const pages = scriptPages(scenes);
  expect(pages.pageCount).toBe(layout.pageCount);
  const printed = layout.pages.filter((page) => firstTextLine(page) !== undefined);
  expect(pages.starts.map((start) => start.page)).toEqual(printed.map((page) => page.number));
  printed.forEach((page, i) => {
    const start = pages.starts[i]!;
    const block = scenes.find((scene) => scene.sceneId === start.sceneId)!.blocks[start.blockIndex]!;
    const line = firstTextLine(page)!;
    const text = (block.text ?? '').replace(/[\u0000-\u0009\u000B-\u001F\u007F]/g, ' ');
    if (line.type === 'character' && block.type === 'dialogue') {
      // The dialogue form whose speaker is a field: the printed cue is that field.
      expect(toCapitals(block.character as string)).toContain(line.text);
      expect(start.offset).toBe(0);
    } else {
      expect(line.type).toBe(block.type);
      const upper = ['scene_heading', 'shot', 'character', 'transition'].includes(block.type);
      expect((upper ? toCapitals(text) : text).slice(start.offset).trimStart().startsWith(line.text)).toBe(true);
    }
  });
}

describe('scriptPages', () => {
  it('agrees with the PDF layout on the fixture, repeated into a longer script', () => {
    const fixture = parseFountain(fixtureText('night-shift.fountain'));
    const doc: ScreenplayDocument = { ...fixture, scenes: Array.from({ length: 8 }, () => fixture.scenes).flat() };
    const pages = scriptPages(scenesOf(doc));
    expect(pages.pageCount).toBeGreaterThan(3);
    expectAgreement(doc);
  });

  it('agrees on a feature-length script where speeches run over pages (CONT’D) and blocks split', () => {
    const sentences = (n: number, what: string) => Array.from({ length: n }, (_, i) => `${what} number ${i + 1} goes on for a while.`).join(' ');
    const long: ScreenplayDocument = {
      title: '',
      titlePage: {},
      scenes: [
        { blocks: [{ type: 'scene_heading', text: 'int. hall - night' }, { type: 'action', text: sentences(90, 'Sentence') }] },
        { blocks: [{ type: 'scene_heading', text: 'EXT. YARD - DAY' }, { type: 'character', text: 'maya' }, { type: 'dialogue', text: sentences(80, 'Word') }] },
        { blocks: [{ type: 'scene_heading', text: 'INT. CAR - NIGHT' }, { type: 'dialogue', character: 'Tomas', text: sentences(80, 'Reply') }] },
      ],
    };
    const pages = scriptPages(scenesOf(long));
    // Pages that start inside a block: an action split at a sentence, and speeches split with (CONT'D).
    expect(pages.starts.filter((start) => start.offset > 0).map((start) => start.sceneId)).toEqual(expect.arrayContaining(['scene-0', 'scene-1', 'scene-2']));
    expectAgreement(long);
    expectAgreement(featureScript(30));
  });

  it('gives each scene its own breaks, never the first page', () => {
    const doc = featureScript(6);
    const pages = scriptPages(scenesOf(doc));
    expect(pages.starts[0]).toEqual({ page: 1, sceneId: 'scene-0', blockIndex: 0, offset: 0 });
    const all = scenesOf(doc).flatMap((scene) => pageBreaksOf(pages, scene.sceneId));
    expect(all.map((start) => start.page)).toEqual(pages.starts.slice(1).map((start) => start.page));
  });

  it('an empty script is one page with no start', () => {
    expect(scriptPages([])).toEqual({ pageCount: 1, starts: [] });
    expect(scriptPages([{ sceneId: 'a', blocks: [{ type: 'scene_heading' }] }])).toEqual({ pageCount: 1, starts: [] });
  });

  it('agrees with the PDF layout on random screenplays', () => {
    fc.assert(fc.property(fountainDocumentArb, (doc) => expectAgreement(doc)), { numRuns: 150 });
  });
});
