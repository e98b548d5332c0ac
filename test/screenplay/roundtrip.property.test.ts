// REST -> TipTap JSON / Yjs -> REST over thousands of generated scenes (DESIGN invariant 5).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  encodeRestBlocksAsUpdate,
  restBlocksToTiptapJSON,
  getScreenplayConverter,
  tiptapJSONToRestBlocks,
  yDocToRestBlocks,
} from '../../src/screenplay/convert.ts';
import { canonicalBlocksJSON } from '../../src/screenplay/restBlocks.ts';
import { freshDocFrom } from '../helpers/documents.ts';
import { soakOr } from '../helpers/soak.ts';
import { scenesArb } from './arbitraries.ts';

/** Random scripts per round-trip property; `SOAK=1` runs 4,000. */
const RUNS = soakOr(1000, 4000);

describe('REST -> TipTap JSON -> REST', () => {
  it('gives back the same scene in canonical form', () => {
    fc.assert(
      fc.property(scenesArb, (blocks) => {
        // Through JSON text, as the document would travel over HTTP or into jsonb.
        const json = JSON.parse(JSON.stringify(restBlocksToTiptapJSON(blocks)));
        expect(canonicalBlocksJSON(tiptapJSONToRestBlocks(json))).toBe(canonicalBlocksJSON(blocks));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('REST -> Yjs update -> fresh Y.Doc -> REST', () => {
  it('gives back the same scene in canonical form', () => {
    fc.assert(
      fc.property(scenesArb, (blocks) => {
        const doc = freshDocFrom(encodeRestBlocksAsUpdate(blocks));
        expect(canonicalBlocksJSON(yDocToRestBlocks(doc))).toBe(canonicalBlocksJSON(blocks));
        expect(doc.getXmlFragment('default').length).toBe(blocks.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('verifyRestRoundTrip agrees and hands back the seed update', () => {
    fc.assert(
      fc.property(scenesArb, (blocks) => {
        const report = getScreenplayConverter().verifyRestRoundTrip(blocks);
        expect(report.ok).toBe(true);
        if (report.ok) expect(canonicalBlocksJSON(yDocToRestBlocks(freshDocFrom(report.update)))).toBe(canonicalBlocksJSON(blocks));
      }),
      { numRuns: 300 },
    );
  });

  it('makes a seed deterministic, so a double seed of the same content is a no-op', () => {
    fc.assert(
      fc.property(scenesArb, (blocks) => {
        const first = encodeRestBlocksAsUpdate(blocks);
        const second = encodeRestBlocksAsUpdate(structuredClone(blocks));
        expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
        const doc = freshDocFrom(first);
        Y.applyUpdate(doc, second);
        expect(doc.getXmlFragment('default').length).toBe(blocks.length);
      }),
      { numRuns: 300 },
    );
  });
});
