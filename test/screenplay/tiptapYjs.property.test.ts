// TipTap JSON -> Yjs -> TipTap JSON over generated documents (DESIGN invariant 5).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { restBlocksToTiptapJSON, getScreenplayConverter, tiptapJSONToYDoc, yDocToTiptapJSON } from '../../src/screenplay/convert.ts';
import type { TiptapNodeJSON } from '../../src/screenplay/convert.ts';
import { BLOCK_ATTRIBUTE, SCREENPLAY_MARK_TYPES, screenplaySchema } from '../../src/screenplay/schema.ts';
import { freshDocFrom } from '../helpers/documents.ts';
import { scenesArb, textArb } from './arbitraries.ts';

const RUNS = 2000;

describe('TipTap JSON -> Yjs -> TipTap JSON', () => {
  it('is the identity on documents made from REST blocks', () => {
    fc.assert(
      fc.property(scenesArb, (blocks) => {
        const json = restBlocksToTiptapJSON(blocks);
        const doc = freshDocFrom(Y.encodeStateAsUpdate(tiptapJSONToYDoc(json)));
        expect(yDocToTiptapJSON(doc)).toEqual(json);
      }),
      { numRuns: RUNS },
    );
  });

  // Independent of the REST mapping: any block node, any attribute strings (not only valid
  // JSON), text split into runs that may repeat marks.
  const attrValue = fc.option(fc.oneof(fc.string({ unit: 'binary', maxLength: 10 }), fc.constant('')), { nil: null });
  const textRunArb: fc.Arbitrary<TiptapNodeJSON> = fc
    .record({ text: textArb.filter((t) => t.length > 0), marks: fc.subarray([...SCREENPLAY_MARK_TYPES]) })
    .map(({ text, marks }) => ({ type: 'text', text, ...(marks.length > 0 ? { marks: marks.map((type) => ({ type })) } : {}) }));
  const blockNodeNames = Object.values(screenplaySchema.nodes)
    .filter((type) => type.isBlock && type !== screenplaySchema.topNodeType)
    .map((type) => type.name);
  const blockNodeArb: fc.Arbitrary<TiptapNodeJSON> = fc.constantFrom(...blockNodeNames).chain((name) => {
    const attrNames = Object.keys(screenplaySchema.nodes[name]!.spec.attrs ?? {});
    return fc
      .record({
        attrs: fc.record(Object.fromEntries(attrNames.map((attr) => [attr, attrValue])), { requiredKeys: [] }),
        content: fc.array(textRunArb, { maxLength: 5 }),
      })
      .map(({ attrs, content }) => ({ type: name, attrs, ...(content.length > 0 ? { content } : {}) }));
  });
  const docArb = fc.array(blockNodeArb, { maxLength: 10 }).map((content) => ({ type: 'doc', content }));

  it('is the identity (up to ProseMirror normal form) on arbitrary schema documents', () => {
    const converter = getScreenplayConverter();
    fc.assert(
      fc.property(docArb, (json) => {
        const expected = converter.tiptapJSONToProseMirrorNode(json).toJSON();
        const doc = freshDocFrom(Y.encodeStateAsUpdate(tiptapJSONToYDoc(json)));
        expect(yDocToTiptapJSON(doc)).toEqual(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('keeps attributes such as character and restType exactly', () => {
    const json = restBlocksToTiptapJSON([
      { type: 'dialogue', text: 'Hi.', character: 'JOHN' },
      { type: 'dual_dialogue', text: 'x' },
    ]);
    const back = yDocToTiptapJSON(tiptapJSONToYDoc(json));
    expect(back.content?.[0]?.attrs?.[BLOCK_ATTRIBUTE.character]).toBe('JOHN');
    expect(back.content?.[1]?.attrs?.[BLOCK_ATTRIBUTE.restType]).toBe('dual_dialogue');
  });
});
