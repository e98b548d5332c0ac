// The pure block diff (src/history/diff.ts): table cases and properties.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyBlockDiff, applyTextRanges, diffBlocks, isEmptyDiff, textRanges } from '../../src/history/diff.ts';
import type { CanonicalRestBlock } from '../../src/screenplay/index.ts';

const action = (text: string, extra: Partial<CanonicalRestBlock> = {}): CanonicalRestBlock => ({ type: 'action', text, ...extra });
const dialogue = (text: string, character = 'MAYA'): CanonicalRestBlock => ({ type: 'dialogue', text, character });

describe('diffBlocks', () => {
  it('finds nothing between equal lists', () => {
    const blocks = [action('Rain.'), dialogue('Hi.'), action('Neon.', { id: 'b3' })];
    expect(diffBlocks(blocks, blocks)).toEqual({ added: [], removed: [], changed: [], unchanged: 3 });
  });

  it('reports an added and a removed block by their indices', () => {
    const diff = diffBlocks([action('A'), action('B'), action('C')], [action('A'), action('C'), action('D')]);
    expect(diff.removed).toEqual([{ index: 1, block: action('B') }]);
    expect(diff.added).toEqual([{ index: 2, block: action('D') }]);
    expect(diff.changed).toEqual([]);
    expect(diff.unchanged).toBe(2);
  });

  it('reports an edited line as one changed block with its text ranges in UTF-16 offsets', () => {
    const diff = diffBlocks([action('Start'), dialogue('We were never here.'), action('End')], [action('Start'), dialogue('We were 🎬 there.'), action('End')]);
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.changed).toHaveLength(1);
    const [change] = diff.changed;
    expect(change).toMatchObject({ from_index: 1, to_index: 1, fields: ['text'] });
    expect(applyTextRanges(change!.before.text, change!.text)).toBe('We were 🎬 there.');
    for (const range of change!.text) {
      expect(change!.before.text.slice(range.from, range.to)).toBe(range.removed);
      expect(change!.after.text.slice(range.new_from, range.new_to)).toBe(range.inserted);
    }
  });

  it('names the fields that changed besides the text', () => {
    const diff = diffBlocks([dialogue('Hi.', 'MAYA')], [{ ...dialogue('Hi.', 'LEO'), marks: [{ type: 'bold', from: 0, to: 2 }] }]);
    expect(diff.changed).toHaveLength(1);
    expect(diff.changed[0]!.fields).toEqual(['character', 'marks']);
    expect(diff.changed[0]!.text).toEqual([]);
  });

  it('matches blocks by their id: an edited and moved block is changed, not removed and added', () => {
    const before = [action('One', { id: 'a' }), action('Two', { id: 'b' }), action('Three', { id: 'c' })];
    const after = [action('Three, edited', { id: 'c' }), action('One', { id: 'a' }), action('Two', { id: 'b' })];
    const diff = diffBlocks(before, after);
    expect(diff.added).toEqual([]);
    expect(diff.removed).toEqual([]);
    expect(diff.changed).toEqual([expect.objectContaining({ from_index: 2, to_index: 0, fields: ['text'] })]);
    expect(applyBlockDiff(before, diff)).toEqual(after);
  });

  it('never pairs two blocks with different ids', () => {
    const diff = diffBlocks([action('Same', { id: 'x' })], [action('Same', { id: 'y' })]);
    expect(diff.removed).toHaveLength(1);
    expect(diff.added).toHaveLength(1);
  });

  it('pairs a block whose type changed only when nothing else fits', () => {
    const diff = diffBlocks([action('MAYA')], [{ type: 'character', text: 'MAYA' }]);
    expect(diff.removed).toHaveLength(1);
    expect(diff.added).toHaveLength(1);
  });

  it('gives whole words, an adjacent removal and insertion joined into one range', () => {
    expect(textRanges('the rain falls', 'the snow falls')).toEqual([{ from: 4, to: 8, new_from: 4, new_to: 8, removed: 'rain', inserted: 'snow' }]);
    expect(textRanges('', 'new')).toEqual([{ from: 0, to: 0, new_from: 0, new_to: 3, removed: '', inserted: 'new' }]);
    expect(textRanges('same', 'same')).toEqual([]);
  });
});

// Small alphabets so that lists share blocks and texts share characters.
const textArb = fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '🎬', 'é'), maxLength: 8 });
const blockArb: fc.Arbitrary<CanonicalRestBlock> = fc
  .record({
    type: fc.constantFrom('action', 'dialogue', 'character'),
    text: textArb,
    id: fc.option(fc.constantFrom('b1', 'b2', 'b3', 'b4', 'b5'), { nil: undefined }),
    character: fc.option(fc.constantFrom('MAYA', 'LEO'), { nil: undefined }),
  })
  .map((block) => {
    const out: CanonicalRestBlock = { type: block.type, text: block.text };
    if (block.id !== undefined) out.id = block.id;
    if (block.character !== undefined) out.character = block.character;
    return out;
  });
const blocksArb = fc.array(blockArb, { maxLength: 8 });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('diffBlocks properties', () => {
  it('diff(a, a) is empty', () => {
    fc.assert(
      fc.property(blocksArb, (a) => {
        const diff = diffBlocks(a, a);
        expect(isEmptyDiff(diff)).toBe(true);
        expect(diff.unchanged).toBe(a.length);
      }),
      { numRuns: 500 },
    );
  });

  it('applying added, removed and changed to a gives b', () => {
    fc.assert(
      fc.property(blocksArb, blocksArb, (a, b) => {
        const diff = diffBlocks(a, b);
        expect(applyBlockDiff(a, diff)).toEqual(b);
        expect(diff.unchanged + diff.changed.length + diff.added.length).toBe(b.length);
        expect(diff.unchanged + diff.changed.length + diff.removed.length).toBe(a.length);
        for (const change of diff.changed) {
          expect(change.before).toEqual(a[change.from_index]);
          expect(change.after).toEqual(b[change.to_index]);
          expect(applyTextRanges(change.before.text, change.text)).toBe(change.after.text);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('text ranges rebuild the new text and never split a surrogate pair', () => {
    fc.assert(
      fc.property(textArb, textArb, (x, y) => {
        const ranges = textRanges(x, y);
        expect(applyTextRanges(x, ranges)).toBe(y);
        for (const range of ranges) {
          expect(x.slice(range.from, range.to)).toBe(range.removed);
          expect(y.slice(range.new_from, range.new_to)).toBe(range.inserted);
          expect(range.removed.length + range.inserted.length).toBeGreaterThan(0);
          expect(LONE_SURROGATE.test(range.removed) || LONE_SURROGATE.test(range.inserted)).toBe(false);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
