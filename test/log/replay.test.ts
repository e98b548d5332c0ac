import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { allSound, applyAll, hasMissingDependencies, replayUpdates } from '../../src/log/replay.ts';
import type { StoredUpdate } from '../../src/log/rows.ts';

function row(seq: number, update: Uint8Array): StoredUpdate {
  return { versionId: `v${seq}`, seq: BigInt(seq), update, isCompacted: false, compactedCount: 1, createdAt: new Date() };
}

/** Typing "abc..." one character per update, as an editor would. */
function typingRows(text: string): StoredUpdate[] {
  const doc = new Y.Doc();
  const rows: StoredUpdate[] = [];
  doc.on('update', (update: Uint8Array) => rows.push(row(rows.length + 1, update)));
  for (let i = 0; i < text.length; i += 1) doc.getText('t').insert(i, text[i]!);
  return rows;
}

function textOf(state: Uint8Array): string {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  return doc.getText('t').toString();
}

describe('replayUpdates', () => {
  it('rebuilds the document from every row', () => {
    const result = replayUpdates(typingRows('screenplay'));
    expect(textOf(result.state)).toBe('screenplay');
    expect(result).toMatchObject({ applied: 10, undecodable: [], hasGap: false });
  });

  it('rebuilds across chunk boundaries', () => {
    const text = 'x'.repeat(4500);
    expect(textOf(replayUpdates(typingRows(text)).state)).toBe(text);
  });

  it('sets an undecodable row aside and still loads the rest', () => {
    const rows = typingRows('abc');
    const independent = new Y.Doc();
    independent.getText('t').insert(0, 'Z');
    const garbage = row(99, new Uint8Array([1, 2, 250, 255, 255, 255, 255, 7]));
    const all = [...rows, garbage, row(100, Y.encodeStateAsUpdate(independent))];
    const result = replayUpdates(all);
    expect(result.undecodable.map((u) => u.versionId)).toEqual(['v99']);
    expect(result.applied).toBe(4);
    const text = textOf(result.state);
    expect(text).toContain('abc');
    expect(text).toContain('Z');
  });

  it('reports a gap when a row depends on an update that is missing', () => {
    const rows = typingRows('abcd');
    const result = replayUpdates([rows[0]!, rows[2]!, rows[3]!]);
    expect(result.hasGap).toBe(true);
    expect(textOf(result.state)).toBe('a');
  });

  it('gives an empty state for an empty log', () => {
    const result = replayUpdates([]);
    expect(result).toMatchObject({ applied: 0, undecodable: [], hasGap: false });
    expect(textOf(result.state)).toBe('');
  });
});

describe('applying a sound log straight to a document', () => {
  it('tells a log the guards would accept from one with a corrupt update', () => {
    const updates = typingRows('abc').map((r) => r.update);
    expect(allSound(updates)).toBe(true);
    expect(allSound([...updates, new Uint8Array([1, 2, 250, 255, 255, 255, 255, 7])])).toBe(false);
    expect(allSound([])).toBe(true);
  });

  it('applies every update in one transaction, to the same state as the scratch replay', () => {
    const rows = typingRows('y'.repeat(4500));
    const doc = new Y.Doc();
    const events: Uint8Array[] = [];
    doc.on('update', (update: Uint8Array) => events.push(update));
    applyAll(doc, rows.map((r) => r.update));
    expect(events).toHaveLength(1);
    expect(doc.getText('t').toString()).toBe('y'.repeat(4500));
    expect(Y.encodeStateAsUpdate(doc)).toEqual(replayUpdates(rows).state);
    expect(hasMissingDependencies(doc)).toBe(false);
  });
});
