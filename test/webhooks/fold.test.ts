import { describe, expect, it } from 'vitest';
import type { ChangeKind, SceneChange } from '../../src/log/changes.ts';
import { eventIdOf, parseEventId } from '../../src/webhooks/events.ts';
import { backoffMs, emptyState, foldChanges, type SceneDeliveryState } from '../../src/webhooks/fold.ts';
import { signatureHeader, verifySignature } from '../../src/webhooks/signing.ts';

const SCENE = '11111111-1111-4111-8111-111111111111';
const ALL = new Set<ChangeKind>(['edit', 'seed', 'import', 'restore', 'patch', 'delete']);
let id = 0n;
const change = (seq: number, kinds: ChangeKind[], by: string | null = null): SceneChange => ({
  position: { xid: 1n, changeId: ++id },
  sceneId: SCENE,
  scriptId: SCENE,
  seq: BigInt(seq),
  kinds,
  createdBy: by,
  at: new Date(1000 + Number(id)),
});
const state = (over: Partial<SceneDeliveryState>) => new Map([[SCENE, { ...emptyState(SCENE), ...over }]]);

describe('foldChanges: the coalescing of an endpoint\'s changes per scene', () => {
  it.each([
    { name: 'edits coalesce to the newest seq, kinds united, newest author', before: state({}), changes: [change(1, ['seed']), change(2, ['edit'], 'a'), change(3, ['patch'], 'b')], expect: { pendingSeq: 3n, pendingKinds: ['edit', 'patch', 'seed'], pendingCreatedBy: 'b', pendingChanges: 3, lifecycle: 0 } },
    { name: 'an edit at or below the delivered seq is covered', before: state({ deliveredSeq: 5n, pendingKinds: ['edit'] }), changes: [change(5, ['edit'])], expect: null },
    { name: 'a delete at the delivered seq still waits, and counts', before: state({ deliveredSeq: 5n }), changes: [change(5, ['delete'])], expect: { pendingSeq: 5n, deleted: true, lifecycle: 1 } },
    { name: 'a restore after a delete: live again, counted twice', before: state({}), changes: [change(4, ['delete']), change(4, ['restore'])], expect: { deleted: false, lifecycle: 2 } },
    { name: 'a new wait starts its kinds afresh (the old ones were the last delivery\'s)', before: state({ deliveredSeq: 2n, pendingKinds: ['seed'] }), changes: [change(3, ['edit'])], expect: { pendingKinds: ['edit'] } },
  ])('$name', ({ before, changes, expect: expected }) => {
    const folded = foldChanges(before, changes, ALL);
    if (expected === null) expect(folded).toEqual([]);
    else expect(folded[0]).toEqual(expect.objectContaining(expected));
  });

  it('leaves out kinds the endpoint did not subscribe to', () => {
    expect(foldChanges(state({}), [change(1, ['edit'])], new Set(['delete']))).toEqual([]);
  });
});

describe('event ids, signatures, backoff', () => {
  it('derives the same event id from the same endpoint, scene, seq and lifecycle, and reads it back', () => {
    const identity = { endpointId: '22222222-2222-4222-8222-222222222222', sceneId: SCENE, seq: 42n, lifecycle: 3 };
    expect(eventIdOf(identity)).toBe(eventIdOf({ ...identity }));
    expect(eventIdOf({ ...identity, lifecycle: 4 })).not.toBe(eventIdOf(identity));
    expect(parseEventId(eventIdOf(identity))).toEqual(identity);
    expect(() => parseEventId('evt_x')).toThrow();
  });

  it('signs the timestamp and the raw body', () => {
    const header = signatureHeader('s3cret', '{"a":1}', 1_700_000_000);
    expect(verifySignature('s3cret', header, '{"a":1}', { nowSeconds: 1_700_000_010 })).toBe(true);
    expect(verifySignature('s3cret', header, '{"a":2}', { nowSeconds: 1_700_000_010 })).toBe(false);
    expect(verifySignature('other', header, '{"a":1}', { nowSeconds: 1_700_000_010 })).toBe(false);
    expect(verifySignature('s3cret', header, '{"a":1}', { nowSeconds: 1_700_001_000 })).toBe(false);
  });

  it('doubles the backoff up to its maximum, with half of it random', () => {
    const options = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5].map((f) => backoffMs(f, options, () => 1))).toEqual([100, 200, 400, 800, 1000]);
    expect(backoffMs(3, options, () => 0)).toBe(200);
  });
});
