import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { decideOnLoad, decideUnderLock, pickSeedClientId, type LockedFacts } from '../../src/restCopy/decisions.ts';
import { compareContent, firstDifferentBlock, readYjsContent } from '../../src/restCopy/loadDivergence.ts';
import { prepareSeed, readRestContent } from '../../src/restCopy/restContent.ts';
import { checksumBlocks, encodeRestBlocksAsUpdate, restBlocksToYDoc } from '../../src/screenplay/index.ts';
import { blocksOf, canonical, OTHER_BLOCKS, SCENE_BLOCKS } from './support.ts';

describe('decideOnLoad', () => {
  it.each([
    { documentBlockCount: 3, rest: 'valid', action: 'compare' },
    { documentBlockCount: 3, rest: 'empty', action: 'compare' },
    { documentBlockCount: 1, rest: 'invalid', action: 'compare' },
    { documentBlockCount: 0, rest: 'empty', action: 'serve-empty' },
    { documentBlockCount: 0, rest: 'valid', action: 'check-under-lock' },
    { documentBlockCount: 0, rest: 'invalid', action: 'check-under-lock' },
  ] as const)('$documentBlockCount blocks, REST $rest -> $action', ({ action, ...facts }) => {
    expect(decideOnLoad(facts).action).toBe(action);
  });
});

describe('decideUnderLock', () => {
  const cases: Array<{ facts: LockedFacts; log: unknown; reseed: unknown; why: string }> = [
    { why: 'empty, never seeded, REST valid', facts: { storedRows: 0, replayedBlockCount: 0, seeded: false, rest: 'valid' }, log: { action: 'seed' }, reseed: { action: 'seed' } },
    { why: 'migration: no rows', facts: { storedRows: 0, replayedBlockCount: null, seeded: false, rest: 'valid' }, log: { action: 'seed' }, reseed: { action: 'seed' } },
    { why: 'someone seeded first', facts: { storedRows: 1, replayedBlockCount: 4, seeded: true, rest: 'valid' }, log: { action: 'serve-log' }, reseed: { action: 'serve-log' } },
    { why: 'log has content, REST invalid', facts: { storedRows: 5, replayedBlockCount: 2, seeded: false, rest: 'invalid' }, log: { action: 'serve-log' }, reseed: { action: 'serve-log' } },
    { why: 'migration: rows exist', facts: { storedRows: 3, replayedBlockCount: null, seeded: false, rest: 'valid' }, log: { action: 'skip-has-log' }, reseed: { action: 'skip-has-log' } },
    { why: 'REST empty, log empty', facts: { storedRows: 0, replayedBlockCount: 0, seeded: false, rest: 'empty' }, log: { action: 'nothing-to-seed' }, reseed: { action: 'nothing-to-seed' } },
    { why: 'REST empty, log replays empty', facts: { storedRows: 7, replayedBlockCount: 0, seeded: true, rest: 'empty' }, log: { action: 'nothing-to-seed' }, reseed: { action: 'nothing-to-seed' } },
    { why: 'REST invalid, log empty', facts: { storedRows: 0, replayedBlockCount: 0, seeded: false, rest: 'invalid' }, log: { action: 'refuse-invalid-rest', corruption: null }, reseed: { action: 'refuse-invalid-rest', corruption: null } },
    { why: 'REST invalid, rows replay empty', facts: { storedRows: 2, replayedBlockCount: 0, seeded: false, rest: 'invalid' }, log: { action: 'refuse-invalid-rest', corruption: 'replays-empty' }, reseed: { action: 'refuse-invalid-rest', corruption: 'replays-empty' } },
    { why: 'rows replay empty', facts: { storedRows: 2, replayedBlockCount: 0, seeded: true, rest: 'valid' }, log: { action: 'corrupt', kind: 'replays-empty', reseed: false }, reseed: { action: 'corrupt', kind: 'replays-empty', reseed: true } },
    { why: 'seeded but rows gone', facts: { storedRows: 0, replayedBlockCount: 0, seeded: true, rest: 'valid' }, log: { action: 'corrupt', kind: 'seeded-log-missing', reseed: false }, reseed: { action: 'corrupt', kind: 'seeded-log-missing', reseed: true } },
    { why: 'migration: seeded but rows gone', facts: { storedRows: 0, replayedBlockCount: null, seeded: true, rest: 'valid' }, log: { action: 'corrupt', kind: 'seeded-log-missing', reseed: false }, reseed: { action: 'corrupt', kind: 'seeded-log-missing', reseed: true } },
  ];
  it.each(cases)('$why', ({ facts, log, reseed }) => {
    expect(decideUnderLock(facts, 'log')).toEqual(log);
    expect(decideUnderLock(facts, 'reseed')).toEqual(reseed);
  });

  it('never seeds over a log that has rows, whatever the policy', () => {
    for (const seeded of [true, false]) {
      for (const rest of ['empty', 'valid', 'invalid'] as const) {
        for (const replayedBlockCount of [null, 0, 1]) {
          for (const policy of ['log', 'reseed'] as const) {
            const decision = decideUnderLock({ storedRows: 1, replayedBlockCount, seeded, rest }, policy);
            expect(decision.action).not.toBe('seed');
          }
        }
      }
    }
  });
});

describe('pickSeedClientId', () => {
  it('keeps the preferred id when the document has no items from it', () => {
    expect(pickSeedClientId(1234, new Set([1, 2, 3]))).toBe(1234);
  });
  it('derives another id, deterministically, when the preferred one is taken', () => {
    const first = pickSeedClientId(1234, new Set([1234]));
    expect(first).not.toBe(1234);
    expect(pickSeedClientId(1234, new Set([1234]))).toBe(first);
    const second = pickSeedClientId(1234, new Set([1234, first]));
    expect(second).not.toBe(first);
    expect(second).not.toBe(1234);
    expect(second).toBeGreaterThanOrEqual(0);
    expect(second).toBeLessThan(2 ** 32);
  });
});

describe('readRestContent and prepareSeed', () => {
  it('treats [] as empty and anything that is not a block list as invalid, without throwing', () => {
    expect(readRestContent([])).toEqual({ kind: 'empty' });
    expect(prepareSeed([])).toEqual({ kind: 'empty' });
    for (const bad of [{}, null, 'text', 42, [{ type: 'action', text: 5 }], [{ text: 'no type' }]]) {
      expect(readRestContent(bad).kind).toBe('invalid');
      const prepared = prepareSeed(bad);
      expect(prepared.kind).toBe('invalid');
      if (prepared.kind === 'invalid') expect(prepared.problem.code).toBe('INVALID_REST_BLOCKS');
    }
  });

  it('prepares the deterministic seed after verifying the round trip', () => {
    const prepared = prepareSeed(SCENE_BLOCKS);
    expect(prepared.kind).toBe('valid');
    if (prepared.kind !== 'valid') return;
    expect(Buffer.from(prepared.update).equals(Buffer.from(encodeRestBlocksAsUpdate(SCENE_BLOCKS)))).toBe(true);
    expect(prepared.blockCount).toBe(SCENE_BLOCKS.length);
    expect(prepared.checksum).toBe(checksumBlocks(SCENE_BLOCKS));
    const doc = new Y.Doc();
    Y.applyUpdate(doc, prepared.update);
    expect(blocksOf(doc)).toBe(canonical(SCENE_BLOCKS));
  });

  it('reads equal content in different key orders as the same checksum', () => {
    const reordered = SCENE_BLOCKS.map((block) => Object.fromEntries(Object.entries(block).reverse()));
    const a = readRestContent(SCENE_BLOCKS);
    const b = readRestContent(reordered);
    expect(a.kind === 'valid' && b.kind === 'valid' && a.checksum === b.checksum).toBe(true);
  });
});

describe('compareContent', () => {
  const yjsOf = (blocks: unknown) => readYjsContent(restBlocksToYDoc(blocks));

  it('reports in-sync for equal content', () => {
    const report = compareContent(yjsOf(SCENE_BLOCKS), readRestContent(SCENE_BLOCKS));
    expect(report).toMatchObject({ status: 'in-sync', yjsBlockCount: 5, restBlockCount: 5, firstDifferentBlock: null, problem: null });
    expect(report.yjsChecksum).toBe(report.restChecksum);
  });

  it('reports the first differing block when content diverges', () => {
    const edited = SCENE_BLOCKS.map((b, i) => (i === 2 ? { ...b, text: 'MAYA (V.O.)' } : b));
    expect(compareContent(yjsOf(edited), readRestContent(SCENE_BLOCKS))).toMatchObject({ status: 'diverged', firstDifferentBlock: 2 });
    expect(compareContent(yjsOf(SCENE_BLOCKS), readRestContent(OTHER_BLOCKS))).toMatchObject({ status: 'diverged', firstDifferentBlock: 0 });
    expect(compareContent(yjsOf(SCENE_BLOCKS), readRestContent([]))).toMatchObject({ status: 'diverged', restBlockCount: 0, firstDifferentBlock: 0 });
  });

  it('reports rest-invalid and yjs-unreadable with the reason', () => {
    expect(compareContent(yjsOf(SCENE_BLOCKS), readRestContent({}))).toMatchObject({ status: 'rest-invalid', problem: { code: 'INVALID_REST_BLOCKS' } });
    const doc = new Y.Doc();
    doc.getXmlFragment('default').insert(0, [new Y.XmlElement('notANode')]);
    expect(compareContent(readYjsContent(doc), readRestContent(SCENE_BLOCKS))).toMatchObject({
      status: 'yjs-unreadable',
      problem: { code: 'UNKNOWN_NODE_TYPE' },
    });
  });

  it('firstDifferentBlock counts a missing block as a difference', () => {
    const a = readRestContent(SCENE_BLOCKS);
    if (a.kind !== 'valid') throw new Error('fixture');
    expect(firstDifferentBlock(a.blocks, a.blocks)).toBeNull();
    expect(firstDifferentBlock(a.blocks, a.blocks.slice(0, 3))).toBe(3);
    expect(firstDifferentBlock([], a.blocks)).toBe(0);
  });
});
