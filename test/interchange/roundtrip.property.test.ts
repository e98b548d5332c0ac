// Round trips over generated screenplays: a document written as Fountain (or FDX) and read back is
// the same document, and writing what was read gives the same file (the writer's output is canonical).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFdx, serializeFdx } from '../../src/interchange/fdx.ts';
import { fountainView, parseFountain, serializeFountain } from '../../src/interchange/fountain.ts';
import type { ScreenplayDocument } from '../../src/interchange/document.ts';
import { canonicalizeBlocks, parseRestBlocks } from '../../src/screenplay/index.ts';
import { fdxDocumentArb, fountainDocumentArb } from './arbitraries.ts';

const RUNS = 300;

const blocksOf = (doc: ScreenplayDocument) => doc.scenes.map((scene) => canonicalizeBlocks(scene.blocks));

describe('Fountain round trip', () => {
  it('document -> Fountain -> document keeps every block, and the Fountain text is canonical', () => {
    fc.assert(
      fc.property(fountainDocumentArb, (doc) => {
        const text = serializeFountain(doc);
        const read = parseFountain(text);
        expect(read.titlePage).toEqual(doc.titlePage);
        expect(read.title).toBe(doc.title);
        expect(blocksOf(read)).toEqual(doc.scenes.map((scene) => canonicalizeBlocks(scene.blocks.map(fountainView))));
        for (const scene of read.scenes) parseRestBlocks(scene.blocks);
        expect(serializeFountain(read)).toBe(text);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('FDX round trip', () => {
  it('document -> FDX -> document is exact, and the FDX text is canonical', () => {
    fc.assert(
      fc.property(fdxDocumentArb, (doc) => {
        const xml = serializeFdx(doc);
        const read = parseFdx(xml);
        expect(read.titlePage).toEqual(doc.titlePage);
        expect(blocksOf(read)).toEqual(blocksOf(doc));
        for (const scene of read.scenes) parseRestBlocks(scene.blocks);
        expect(serializeFdx(read)).toBe(xml);
      }),
      { numRuns: RUNS },
    );
  });
});
