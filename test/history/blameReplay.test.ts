// The Yjs half of blame (src/history/blameReplay.ts), on updates made by real Y.Docs: which rows
// touched which blocks, a page at a time.
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { blamePage } from '../../src/history/blameReplay.ts';
import { packUpdates } from '../../src/log/packed.ts';
import { applyRestBlocksToYDoc, yDocToRestBlocks } from '../../src/screenplay/index.ts';
import { inlineYjsWork } from '../../src/workers/pool.ts';

/** A writer's document that records each change it makes as one update (one log row). */
function writer(from?: Y.Doc) {
  const doc = new Y.Doc();
  if (from) Y.applyUpdate(doc, Y.encodeStateAsUpdate(from));
  const change = (blocks: unknown[]) => applyRestBlocksToYDoc(doc, blocks).update!;
  return { doc, change };
}

/** Which row (by index) each block was last touched by, in block order. */
function lastRows(pages: Array<{ rows: Uint8Array[] }>): Array<number | null> {
  let state: Uint8Array | null = null;
  const last = new Map<string, number>();
  let offset = 0;
  let blocks: string[] = [];
  for (const { rows } of pages) {
    const page = blamePage(state, packUpdates(rows));
    state = page.state;
    blocks = page.blocks;
    for (const [name, row] of page.touched) last.set(name, offset + row);
    offset += rows.length;
  }
  return blocks.map((name) => last.get(name) ?? null);
}

const A = { type: 'action', text: 'Rain.' };
const B = { type: 'character', text: 'MAYA' };
const C = { type: 'dialogue', text: 'We were never here.' };

describe('blamePage', () => {
  it('attributes inserted blocks, text edits and mark-only edits to the row that made them, across pages', () => {
    const w = writer();
    const rows = [
      w.change([A, B]), // 0: both blocks
      w.change([A, B, C]), // 1: C
      w.change([{ ...A, text: 'Rain. Neon.' }, B, C]), // 2: A's text
      w.change([{ ...A, text: 'Rain. Neon.' }, B, { ...C, marks: [{ type: 'italic', from: 3, to: 7 }] }]), // 3: C's marks only
    ];
    expect(lastRows([{ rows }])).toEqual([2, 0, 3]);
    expect(lastRows([{ rows: rows.slice(0, 1) }, { rows: rows.slice(1, 3) }, { rows: rows.slice(3) }])).toEqual([2, 0, 3]);
  });

  it('forgets deleted blocks and leaves their neighbours alone', () => {
    const w = writer();
    const rows = [w.change([A, B, C]), w.change([A, { ...B, text: 'LEO' }, C]), w.change([A, C])];
    const page = blamePage(null, packUpdates(rows));
    expect(page.blocks).toHaveLength(2);
    expect(page.touched.map(([, row]) => row)).toEqual([0, 0]);
    expect(yDocToRestBlocks(docOf(page.state))).toEqual([A, C]);
  });

  it("keeps two writers' concurrent rows apart: each block goes to the last row that touched it", () => {
    const first = writer();
    const base = first.change([A, B]);
    const second = writer(first.doc);
    const mine = first.change([{ ...A, text: 'Rain hard.' }, B]);
    const theirs = second.change([A, { ...B, text: 'MAYA (V.O.)' }]);
    expect(lastRows([{ rows: [base, mine, theirs] }])).toEqual([1, 2]);
    expect(lastRows([{ rows: [base, theirs, mine] }])).toEqual([2, 1]);
  });

  it('skips a row that does not decode, and attributes an update waiting for a dependency to the row that lets it apply', () => {
    const w = writer();
    const rows = [w.change([A]), w.change([A, B]), w.change([A, { ...B, text: 'LEO' }])];
    const corrupt = new Uint8Array([0xff, 0xff, 0xff, 0x01]);
    const page = blamePage(null, packUpdates([rows[0]!, corrupt, rows[2]!, rows[1]!]));
    expect(page.undecodable).toEqual([1]);
    // Row 2 (LEO) needs row 1's block: both apply when row 3 (the original row 1) arrives.
    expect(Object.fromEntries(page.touched.map(([name, row]) => [name, row]))).toEqual({ [page.blocks[0]!]: 0, [page.blocks[1]!]: 3 });
    expect(yDocToRestBlocks(docOf(page.state))).toEqual([A, { ...B, text: 'LEO' }]);
  });

  it('runs the same as a worker task (the inline YjsWork)', async () => {
    const w = writer();
    const rows = [w.change([A]), w.change([A, C])];
    expect(await inlineYjsWork.blamePage(null, packUpdates(rows))).toEqual(blamePage(null, packUpdates(rows)));
  });
});

function docOf(state: Uint8Array): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  return doc;
}
