import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { fullBucket, takeToken, type RateLimit } from '../../src/guards/rateLimit.ts';
import { inspectUpdate, updateProblem } from '../../src/guards/updateValidation.ts';
import { forgeSelfReference } from '../helpers/forgedUpdates.ts';
import { mulberry32 } from '../helpers/prng.ts';

describe('token bucket', () => {
  const limit: RateLimit = { perMinute: 60, capacity: 3 };

  it('lets a burst of `capacity` through, then one per refill interval', () => {
    let bucket = fullBucket(limit, 0);
    const results: boolean[] = [];
    // Four at t=0, then at 500 ms (half a token), 1000 ms (one token), 1000 ms again.
    for (const t of [0, 0, 0, 0, 500, 1000, 1000]) {
      const taken = takeToken(bucket, limit, t);
      results.push(taken.allowed);
      bucket = taken.bucket;
    }
    expect(results).toEqual([true, true, true, false, false, true, false]);
  });

  it('never holds more than `capacity` after a long pause', () => {
    let bucket = fullBucket(limit, 0);
    bucket = takeToken(bucket, limit, 0).bucket;
    const later = takeToken(bucket, limit, 3_600_000);
    expect(later.bucket.tokens).toBe(limit.capacity - 1);
  });

  it('a clock that steps back neither mints nor drains tokens', () => {
    const bucket = { tokens: 0.5, updatedAt: 10_000 };
    const taken = takeToken(bucket, limit, 5_000);
    expect(taken).toEqual({ allowed: false, bucket: { tokens: 0.5, updatedAt: 5_000 } });
  });

  it('over a minute of steady sending, passes about capacity + perMinute', () => {
    let bucket = fullBucket(limit, 0);
    let passed = 0;
    for (let t = 0; t < 60_000; t += 10) {
      const taken = takeToken(bucket, limit, t);
      bucket = taken.bucket;
      if (taken.allowed) passed += 1;
    }
    expect(passed).toBeGreaterThanOrEqual(60);
    expect(passed).toBeLessThanOrEqual(63);
  });
});

/** A few real updates of a TipTap-like document. */
function realUpdates(): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const fragment = doc.getXmlFragment('default');
  const paragraph = new Y.XmlElement('action');
  paragraph.insert(0, [new Y.XmlText()]);
  fragment.insert(0, [paragraph]);
  const text = paragraph.get(0) as Y.XmlText;
  for (const ch of 'FADE IN') text.insert(text.length, ch);
  text.format(0, 4, { bold: true });
  text.delete(1, 2);
  updates.push(Y.encodeStateAsUpdate(doc));
  return updates;
}

describe('updateProblem', () => {
  it('accepts every update Yjs makes, and the empty update', () => {
    for (const update of realUpdates()) expect(updateProblem(update, 1 << 20)).toBeNull();
    expect(updateProblem(new Uint8Array([0, 0]), 10)).toBeNull();
  });

  it.each<[string, Uint8Array, number, string | null]>([
    ['over the size limit', new Uint8Array(11), 10, 'too-large'],
    ['at the size limit (and malformed)', new Uint8Array(10).fill(0xff), 10, 'malformed'],
    ['empty bytes', new Uint8Array(0), 10, 'malformed'],
    ['a huge struct count', new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), 100, 'malformed'],
    ['random bytes', new Uint8Array([7, 200, 3, 1, 99, 4]), 100, 'malformed'],
  ])('%s', (_name, update, max, expected) => {
    expect(updateProblem(update, max)?.kind ?? null).toBe(expected);
  });

  it('refuses truncated updates', () => {
    const update = realUpdates().at(-1)!;
    for (let cut = 1; cut < update.length; cut += 1) {
      const problem = updateProblem(update.slice(0, cut), 1 << 20);
      // A prefix may by chance be a complete shorter update; it then must still apply cleanly.
      if (problem === null) Y.applyUpdate(new Y.Doc(), update.slice(0, cut));
      else expect(problem.kind).toBe('malformed');
    }
  });

  it('refuses an item that refers to its own client at a later clock (decodes, but throws in applyUpdate)', () => {
    const forged = forgeSelfReference();
    expect(() => Y.decodeUpdate(forged)).not.toThrow();
    expect(() => Y.applyUpdate(new Y.Doc(), forged)).toThrow();
    expect(updateProblem(forged, 1 << 20)?.kind).toBe('malformed');
  });

  it('mutated real updates: whatever passes applies cleanly to documents in several states', () => {
    const random = mulberry32(20240607);
    const pool = realUpdates();
    const base = pool.at(-1)!;
    let passed = 0;
    for (let n = 0; n < 20_000; n += 1) {
      const mutated = pool[Math.floor(random() * pool.length)]!.slice();
      for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips -= 1) {
        mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
      }
      if (updateProblem(mutated, 1 << 20)) continue;
      passed += 1;
      for (const state of [new Uint8Array([0, 0]), base]) {
        const doc = new Y.Doc();
        Y.applyUpdate(doc, state);
        Y.applyUpdate(doc, mutated);
        Y.encodeStateAsUpdate(doc);
      }
    }
    expect(passed).toBeGreaterThan(100);
  });
});

describe('inspectUpdate', () => {
  it('reads the struct ranges (skipped gaps left out) and the delete set from the decode the check already made', () => {
    const random = mulberry32(20261122);
    const pool = realUpdates();
    const mutated = Array.from({ length: 5_000 }, () => {
      const update = pool[Math.floor(random() * pool.length)]!.slice();
      update[Math.floor(random() * update.length)] = Math.floor(random() * 256);
      return update;
    });
    let compared = 0;
    for (const update of [...pool, new Uint8Array([0, 0]), ...mutated]) {
      const inspection = inspectUpdate(update, 1 << 20);
      expect(inspection.problem).toEqual(updateProblem(update, 1 << 20));
      if (inspection.problem) continue;
      const { structs, deletes } = inspection.meta;
      expect(structs).toEqual(contentRanges(update));
      // Within what Y.parseUpdateMeta reads, which counts a skipped gap as carried.
      const { from, to } = Y.parseUpdateMeta(update);
      for (const [client, ranges] of structs) {
        expect(ranges[0]![0]).toBeGreaterThanOrEqual(from.get(client)!);
        expect(ranges.at(-1)![1]).toBeLessThanOrEqual(to.get(client)!);
      }
      const ds = Y.decodeUpdate(update).ds.clients;
      expect(deletes).toEqual(new Map([...ds].map(([client, ranges]) => [client, ranges.map((r) => [r.clock, r.len])])));
      compared += 1;
    }
    expect(compared).toBeGreaterThan(pool.length + 100);
  });
});

/** Per client, the clock ranges of the structs that are not skipped gaps, sorted, touching ones joined. */
function contentRanges(update: Uint8Array): Map<number, Array<[number, number]>> {
  const ranges = new Map<number, Array<[number, number]>>();
  for (const struct of Y.decodeUpdate(update).structs) {
    if (struct instanceof Y.Skip) continue;
    const list = ranges.get(struct.id.client) ?? [];
    list.push([struct.id.clock, struct.id.clock + struct.length]);
    ranges.set(struct.id.client, list);
  }
  for (const [client, list] of ranges) {
    list.sort((a, b) => a[0] - b[0]);
    const joined: Array<[number, number]> = [];
    for (const [from, to] of list) {
      const last = joined.at(-1);
      if (last && from <= last[1]) last[1] = Math.max(last[1], to);
      else joined.push([from, to]);
    }
    ranges.set(client, joined);
  }
  return ranges;
}
