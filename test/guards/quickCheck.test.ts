import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { quicklySound } from '../../src/guards/quickCheck.ts';
import { updateProblem } from '../../src/guards/updateValidation.ts';
import { CONTENT_STRING, forgeSelfReference, ORIGIN_FLAG, ROOT_PARENT } from '../helpers/forgedUpdates.ts';
import { mulberry32 } from '../helpers/prng.ts';

const sound = (update: Uint8Array) => updateProblem(update, Number.POSITIVE_INFINITY) === null;

/**
 * Updates of every kind the walk reads: screenplay blocks with attributes (`any` content), typing
 * with four-byte characters, deletions (delete sets), a map of every `any` value and binary
 * content, several clients, and whole states in which deleted content became GC structs.
 */
function variedUpdates(): Uint8Array[] {
  const updates: Uint8Array[] = [];
  const docs = [new Y.Doc(), new Y.Doc()];
  for (const doc of docs) doc.on('update', (update: Uint8Array) => updates.push(update));
  const [a, b] = docs as [Y.Doc, Y.Doc];
  const fragment = a.getXmlFragment('default');
  const heading = new Y.XmlElement('sceneHeading');
  heading.setAttribute('level', '1');
  heading.insert(0, [new Y.XmlText()]);
  fragment.insert(0, [heading]);
  const text = heading.get(0) as Y.XmlText;
  for (const ch of 'INT. KITCHEN – NIGHT 🌙 ☕ ') text.insert(text.length, ch);
  text.delete(3, 4);
  const action = new Y.XmlElement('action');
  action.insert(0, [new Y.XmlText('She waits.')]);
  fragment.insert(1, [action]);
  // Yjs's types leave Y.XmlHook out of a fragment's children, which it stores like any other.
  fragment.insert(2, [new Y.XmlHook('pageBreak') as unknown as Y.XmlElement]);
  const map = a.getMap('meta');
  map.set('draft', 3);
  map.set('ratio', 0.75);
  map.set('big', 2n ** 40n);
  map.set('flags', [true, false, null, undefined, -42, 'x', { nested: [1, { deep: '😀' }] }]);
  map.set('blob', new Uint8Array([1, 2, 3, 255]));
  map.set('sub', new Y.Map());
  a.getArray('list').insert(0, [1, 'two', { three: 3 }]);
  a.getText('note').insert(0, 'BOM \uFEFF and é');
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
  (b.getXmlFragment('default').get(1) as Y.XmlElement).insert(1, [new Y.XmlText(' Then leaves.')]);
  b.getMap('meta').delete('draft');
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b));
  fragment.delete(2, 1);
  updates.push(Y.encodeStateAsUpdate(a), Y.encodeStateAsUpdate(b), Y.mergeUpdates(updates.slice(0, 8)));
  return updates;
}

function mutate(pool: Uint8Array[], random: () => number): Uint8Array {
  const update = pool[Math.floor(random() * pool.length)]!.slice();
  for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips -= 1) {
    update[Math.floor(random() * update.length)] = Math.floor(random() * 256);
  }
  return random() < 0.2 ? update.subarray(0, Math.floor(random() * update.length)) : update;
}

describe('quicklySound', () => {
  it('vouches for the updates Yjs makes of screenplay content, and for the empty update', () => {
    const updates = variedUpdates();
    expect(updates.length).toBeGreaterThan(40);
    for (const update of updates) expect(quicklySound(update)).toBe(true);
    expect(quicklySound(new Uint8Array([0, 0]))).toBe(true);
  });

  it('leaves content it does not parse (formatting marks, JSON) to the full check', () => {
    const doc = new Y.Doc();
    const updates: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => updates.push(update));
    const text = doc.getText('t');
    text.insert(0, 'bold');
    text.format(0, 4, { bold: true });
    expect(updates.map(quicklySound)).toEqual([true, false]);
    expect(updates.every(sound)).toBe(true);
  });

  it('never vouches for an update the full check refuses, over 30,000 mutated and cut updates', () => {
    const random = mulberry32(20261122);
    const pool = variedUpdates();
    let vouched = 0;
    let refused = 0;
    for (let n = 0; n < 30_000; n += 1) {
      const update = mutate(pool, random);
      const full = sound(update);
      if (quicklySound(update)) {
        expect(full, Buffer.from(update).toString('hex')).toBe(true);
        vouched += 1;
      }
      if (!full) refused += 1;
    }
    // Both verdicts are common, so the comparison means something.
    expect(vouched).toBeGreaterThan(3_000);
    expect(refused).toBeGreaterThan(3_000);
  });

  it('does not read past the update: a length running into bytes that follow it in memory', () => {
    const [update] = variedUpdates();
    const packed = new Uint8Array(update!.length + 64).fill(0x01);
    packed.set(update!);
    // Cut inside the first item's content, on a view of the larger buffer.
    const view = packed.subarray(0, update!.length - 2);
    expect(quicklySound(view)).toBe(false);
  });

  it('refuses what the full check refuses for its own reasons: a self-reference and an empty delete range', () => {
    const selfReference = forgeSelfReference();
    // No structs; a delete set of client 7 with one range of length 0.
    const emptyRange = new Uint8Array([0, 1, 7, 1, 3, 0]);
    for (const update of [selfReference, emptyRange]) {
      expect(sound(update)).toBe(false);
      expect(quicklySound(update)).toBe(false);
    }
  });

  it('counts a four-byte character as two clock units, as Yjs does', () => {
    // Client 7: "😀" at clocks 0-1, then "x" at clock 2 whose left origin is 7:1, the emoji's last unit.
    const emoji = [...new TextEncoder().encode('😀')];
    const update = new Uint8Array([
      1, 2, 7, 0,
      CONTENT_STRING, ROOT_PARENT, 1, 't'.charCodeAt(0), emoji.length, ...emoji,
      ORIGIN_FLAG | CONTENT_STRING, 7, 1, 1, 'x'.charCodeAt(0),
      0,
    ]);
    expect(sound(update)).toBe(true);
    expect(quicklySound(update)).toBe(true);
    // The same second item one clock earlier (origin 7:2 at its own clock 2) refers to itself.
    const selfReferring = update.slice();
    selfReferring[selfReferring.length - 4] = 2;
    expect(sound(selfReferring)).toBe(false);
    expect(quicklySound(selfReferring)).toBe(false);
  });
});
