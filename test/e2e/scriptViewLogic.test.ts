import { describe, expect, it } from 'vitest';
import type { TiptapNodeJSON } from '../../src/screenplay/convert.ts';
import type { SaveStatus } from '../../web/saveStatus.ts';
import { headingOf, mergedBlocks, splitPoint } from '../../web/sceneSplit.ts';
import { NO_SCENE_OPEN, scriptSaveStatus } from '../../web/scriptSaveStatus.ts';

const block = (type: string, text = ''): TiptapNodeJSON => ({ type, ...(text ? { content: [{ type: 'text', text }] } : {}) });

/** The continuous script's decisions (web/sceneSplit.ts, web/scriptSaveStatus.ts), without a browser. */
describe('where a scene splits and what a merge appends', () => {
  it.each([
    { name: 'no heading below the first block', blocks: [block('sceneHeading', 'INT. A'), block('action', 'x')], at: null },
    { name: 'a heading with words further down', blocks: [block('sceneHeading', 'INT. A'), block('action', 'x'), block('sceneHeading', 'EXT. B')], at: 2 },
    { name: 'an empty heading (the writer is still choosing)', blocks: [block('sceneHeading', 'INT. A'), block('sceneHeading')], at: null },
    { name: 'a blank heading', blocks: [block('action', 'x'), block('sceneHeading', '   ')], at: null },
    { name: 'the first of two', blocks: [block('action', 'x'), block('sceneHeading', 'INT. B'), block('sceneHeading', 'INT. C')], at: 1 },
    { name: 'a heading as the first block only', blocks: [block('sceneHeading', 'INT. A')], at: null },
  ])('$name: $at', ({ blocks, at }) => {
    expect(splitPoint(blocks)).toBe(at);
  });

  it('turns the merged heading into action, keeps its words, and drops an empty one', () => {
    expect(mergedBlocks([block('sceneHeading', 'INT. B'), block('action', 'y')])).toEqual([block('action', 'INT. B'), block('action', 'y')]);
    expect(mergedBlocks([block('sceneHeading'), block('action', 'y')])).toEqual([block('action', 'y')]);
    expect(mergedBlocks([block('action', 'y')])).toEqual([block('action', 'y')]);
    expect(mergedBlocks([])).toEqual([]);
  });

  it('titles a scene by its first heading with words', () => {
    expect(headingOf([block('sceneHeading'), block('sceneHeading', ' INT. B ')])).toBe('INT. B');
    expect(headingOf([block('action', 'x')])).toBeNull();
  });
});

describe("the page's save indicator over every loaded scene", () => {
  const saved: SaveStatus = { state: 'saved', label: 'All changes saved', atRisk: false };
  const saving: SaveStatus = { state: 'saving', label: 'Saving…', atRisk: true };
  const loading: SaveStatus = { state: 'loading', label: 'Loading…', atRisk: false };
  const offline: SaveStatus = { state: 'unsaved-offline', label: 'Unsaved changes, reconnecting…', atRisk: true };
  const refused: SaveStatus = { state: 'refused', label: 'Not saved: no-access', atRisk: true };

  it.each([
    { name: 'nothing loaded', statuses: [], shown: NO_SCENE_OPEN },
    { name: 'every scene saved', statuses: [saved, saved], shown: saved },
    { name: 'one scene saving', statuses: [saved, saving, saved], shown: saving },
    { name: 'one scene still loading', statuses: [saved, loading], shown: loading },
    { name: 'unsaved offline outranks saving', statuses: [saving, offline], shown: offline },
    { name: 'a refusal outranks everything', statuses: [offline, refused, saved], shown: refused },
  ])('$name', ({ statuses, shown }) => {
    expect(scriptSaveStatus(statuses)).toEqual(shown);
  });

  it('is at risk when any scene is, whichever scene speaks for the page', () => {
    expect(scriptSaveStatus([{ ...loading, atRisk: true }, saved])).toEqual({ ...loading, atRisk: true });
    expect(scriptSaveStatus([loading, saving]).atRisk).toBe(true);
  });
});
