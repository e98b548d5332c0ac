import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { coalesce } from '../../src/log/coalesce.ts';
import { applyAll } from '../../src/log/replay.ts';
import type { AppendEntry } from '../../src/log/sceneLog.ts';
import { storedOnceProblem } from '../helpers/logContent.ts';

const SCENE_A = '00000000-0000-4000-8000-00000000000a';
const SCENE_B = '00000000-0000-4000-8000-00000000000b';
const DANA = '00000000-0000-4000-8000-0000000000d1';
const SAM = '00000000-0000-4000-8000-0000000000d2';

/** A writer typing into one document: each keystroke is one update. */
class Writer {
  readonly doc = new Y.Doc();
  private readonly updates: Uint8Array[] = [];
  constructor() {
    this.doc.on('update', (update: Uint8Array) => this.updates.push(update));
  }
  type(text: string): Uint8Array[] {
    const start = this.updates.length;
    for (const char of text) this.doc.getText('t').insert(this.doc.getText('t').length, char);
    return this.updates.slice(start);
  }
}

const entry = (sceneId: string, createdBy: string | null, update: Uint8Array): AppendEntry => ({ sceneId, createdBy, update });

function textOf(...updates: Uint8Array[]): string {
  const doc = new Y.Doc();
  applyAll(doc, updates);
  return doc.getText('t').toString();
}

describe('coalesce', () => {
  it('merges a writer’s consecutive updates to a scene into one row that stands for all of them', () => {
    const updates = new Writer().type('INT. KITCHEN');
    const { rows, rowOf } = coalesce(updates.map((u) => entry(SCENE_A, DANA, u)), 64);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ sceneId: SCENE_A, createdBy: DANA, updateCount: 12 });
    expect(rowOf).toEqual(updates.map(() => 0));
    expect(textOf(rows[0]!.update)).toBe('INT. KITCHEN');
    expect(rows[0]!.update.byteLength).toBeLessThan(updates.reduce((sum, u) => sum + u.byteLength, 0));
  });

  it('keeps each scene’s order and starts a new row whenever the author changes', () => {
    const dana = new Writer();
    const sam = new Writer();
    Y.applyUpdate(sam.doc, Y.encodeStateAsUpdate(dana.doc));
    const batch = [
      ...dana.type('ab').map((u) => entry(SCENE_A, DANA, u)),
      ...new Writer().type('x').map((u) => entry(SCENE_B, SAM, u)),
      ...sam.type('cd').map((u) => entry(SCENE_A, SAM, u)),
      ...new Writer().type('y').map((u) => entry(SCENE_B, SAM, u)),
      ...dana.type('e').map((u) => entry(SCENE_A, DANA, u)),
    ];
    const { rows, rowOf } = coalesce(batch, 64);
    expect(rows.map((r) => [r.sceneId, r.createdBy, r.updateCount ?? 1])).toEqual([
      [SCENE_A, DANA, 2],
      [SCENE_A, SAM, 2],
      [SCENE_A, DANA, 1],
      [SCENE_B, SAM, 2],
    ]);
    expect(rowOf).toEqual([0, 0, 3, 1, 1, 3, 2]);
    expect(rows[0]!.update).not.toBe(batch[0]!.update);
    // A single update is stored as it came.
    expect(rows[2]!.update).toBe(batch[6]!.update);
  });

  it('stores exactly what was sent, once (and the tests’ check of that notices when it is not)', () => {
    const dana = new Writer();
    const sam = new Writer();
    const sent = [...dana.type('INT.'), ...sam.type('EXT.'), ...dana.type(' DAY')];
    const authors = [DANA, DANA, DANA, DANA, SAM, SAM, SAM, SAM, DANA, DANA, DANA, DANA];
    const { rows } = coalesce(sent.map((u, i) => entry(SCENE_A, authors[i]!, u)), 3);
    const stored = rows.map((row) => ({ update: row.update, updateCount: row.updateCount ?? 1 }));
    expect(stored.length).toBeLessThan(sent.length);
    expect(storedOnceProblem(stored, sent)).toBeNull();
    expect(storedOnceProblem([...stored, stored[0]!], sent)).toMatch(/stand for 15 updates; 12 were sent/);
    expect(storedOnceProblem([...stored.slice(0, -1), stored[1]!], sent)).toMatch(/is stored twice/);
    expect(storedOnceProblem(stored.slice(1), sent)).toMatch(/stand for/);
  });

  it('puts at most maxPerRow updates in one row, and one per row when merging is off', () => {
    const updates = new Writer().type('abcdefg').map((u) => entry(SCENE_A, null, u));
    expect(coalesce(updates, 3).rows.map((r) => r.updateCount ?? 1)).toEqual([3, 3, 1]);
    expect(coalesce(updates, 3).rowOf).toEqual([0, 0, 0, 1, 1, 1, 2]);
    const off = coalesce(updates, 1);
    expect(off.rows.map((r) => r.update)).toEqual(updates.map((e) => e.update));
    expect(off.rowOf).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('counts what already merged rows stand for', () => {
    const updates = new Writer().type('abc');
    const { rows } = coalesce([{ ...entry(SCENE_A, DANA, updates[0]!), updateCount: 5 }, entry(SCENE_A, DANA, updates[1]!)], 64);
    expect(rows[0]!.updateCount).toBe(6);
  });

  it('stores the updates one per row when they cannot be merged', () => {
    const good = new Writer().type('a')[0]!;
    const truncated = new Uint8Array([1, 1, 1, 1, 1]);
    const { rows, rowOf } = coalesce([entry(SCENE_A, DANA, good), entry(SCENE_A, DANA, truncated)], 64);
    expect(rows.map((r) => r.update)).toEqual([good, truncated]);
    expect(rowOf).toEqual([0, 1]);
  });
});
