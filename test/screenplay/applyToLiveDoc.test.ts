// REST PATCH on a live document: y-prosemirror's updateYFragment applied through the converter.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { applyRestBlocksToYDoc, applyTiptapJSONToYDoc, encodeRestBlocksAsUpdate, restBlocksToYDoc, yDocToRestBlocks } from '../../src/screenplay/convert.ts';
import { canonicalBlocksJSON } from '../../src/screenplay/restBlocks.ts';
import type { RestBlock } from '../../src/screenplay/restBlocks.ts';
import { freshDocFrom } from '../helpers/documents.ts';
import { scenesArb, textArb } from './arbitraries.ts';

describe('applying REST blocks to a live Y.Doc', () => {
  it('leaves exactly the new content, and the returned update carries the whole change', () => {
    fc.assert(
      fc.property(scenesArb, scenesArb, (before, after) => {
        const seed = encodeRestBlocksAsUpdate(before);
        const live = freshDocFrom(seed);
        const result = applyRestBlocksToYDoc(live, after, { origin: 'rest-patch' });
        expect(canonicalBlocksJSON(yDocToRestBlocks(live))).toBe(canonicalBlocksJSON(after));

        // A replica that only sees the stored log (seed + patch) ends up identical.
        const replica = freshDocFrom(seed);
        if (result.update) Y.applyUpdate(replica, result.update);
        expect(canonicalBlocksJSON(yDocToRestBlocks(replica))).toBe(canonicalBlocksJSON(after));

        // Applying the same content again changes nothing and produces no update.
        expect(applyRestBlocksToYDoc(live, after)).toEqual({ changed: false, update: null });
      }),
      { numRuns: 1000 },
    );
  });

  it('handles small edits of the same scene', () => {
    const editArb = scenesArb
      .filter((blocks) => blocks.length > 0)
      .chain((blocks) =>
        fc.tuple(
          fc.constant(blocks),
          fc.nat({ max: blocks.length - 1 }),
          textArb,
        ),
      );
    fc.assert(
      fc.property(editArb, ([blocks, index, newText]) => {
        const live = freshDocFrom(encodeRestBlocksAsUpdate(blocks));
        const edited = structuredClone(blocks);
        edited[index] = { type: edited[index]!.type, text: newText, id: 'edited' };
        applyRestBlocksToYDoc(live, edited);
        expect(canonicalBlocksJSON(yDocToRestBlocks(live))).toBe(canonicalBlocksJSON(edited));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('applying REST blocks: minimal change', () => {
  const scene: RestBlock[] = [
    { type: 'scene_heading', text: 'INT. KITCHEN - NIGHT', id: 'h' },
    { type: 'action', text: 'The kettle screams. Nobody moves.', id: 'a1' },
    { type: 'character', text: 'ANNA', id: 'c1' },
    { type: 'dialogue', text: 'Someone should get that.', id: 'd1' },
    { type: 'transition', text: 'CUT TO:', id: 't' },
  ];

  it('touches only the edited block: the update is a small fraction of the scene', () => {
    const seed = encodeRestBlocksAsUpdate(scene);
    const live = freshDocFrom(seed);
    const edited = structuredClone(scene);
    edited[1] = { ...edited[1]!, text: 'The kettle screams. Anna moves.' };
    const { changed, update } = applyRestBlocksToYDoc(live, edited);
    expect(changed).toBe(true);
    expect(update!.length).toBeLessThan(seed.length / 4);
    expect(yDocToRestBlocks(live)).toEqual(edited);
  });

  it('passes the caller origin to the transaction', () => {
    const live = restBlocksToYDoc(scene);
    const origins: unknown[] = [];
    live.on('update', (_update: Uint8Array, origin: unknown) => origins.push(origin));
    const origin = { kind: 'rest-patch' };
    applyRestBlocksToYDoc(live, [...scene, { type: 'action', text: 'FADE OUT.' }], { origin });
    expect(origins).toEqual([origin]);
  });

  it('keeps a concurrent client edit to another block', () => {
    const seed = encodeRestBlocksAsUpdate(scene);
    const server = freshDocFrom(seed);
    const client = freshDocFrom(seed);

    // The client types into the dialogue while the server applies a PATCH to the action line.
    const dialogueText = (client.getXmlFragment('default').get(3) as Y.XmlElement).get(0) as Y.XmlText;
    dialogueText.insert(dialogueText.length, ' Please.');
    const patched = structuredClone(scene);
    patched[1] = { ...patched[1]!, text: 'The kettle stops.' };
    applyRestBlocksToYDoc(server, patched);

    Y.applyUpdate(server, Y.encodeStateAsUpdate(client, Y.encodeStateVector(server)));
    Y.applyUpdate(client, Y.encodeStateAsUpdate(server, Y.encodeStateVector(client)));
    const expected = structuredClone(patched);
    expected[3] = { ...expected[3]!, text: 'Someone should get that. Please.' };
    expect(yDocToRestBlocks(server)).toEqual(expected);
    expect(yDocToRestBlocks(client)).toEqual(expected);
  });

  it('replaces content the schema does not know instead of failing the PATCH', () => {
    const live = new Y.Doc();
    const stray = new Y.XmlElement('legacyNode');
    live.getXmlFragment('default').insert(0, [stray]);
    applyRestBlocksToYDoc(live, scene);
    expect(yDocToRestBlocks(live)).toEqual(scene);
  });
});

describe('applying TipTap JSON to a live Y.Doc', () => {
  it('accepts editor JSON and refuses to run inside an open transaction', () => {
    const live = restBlocksToYDoc([{ type: 'action', text: 'Old.' }]);
    const json = { type: 'doc', content: [{ type: 'action', content: [{ type: 'text', text: 'New.' }] }] };
    expect(applyTiptapJSONToYDoc(live, json).changed).toBe(true);
    expect(yDocToRestBlocks(live)).toEqual([{ type: 'action', text: 'New.' }]);
    live.transact(() => {
      expect(() => applyTiptapJSONToYDoc(live, json)).toThrow(/open Yjs transaction/);
    });
  });
});
