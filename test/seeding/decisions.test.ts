import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { decideOnLoad, decideUnderLock, pickSeedClientId, type LockedFacts } from '../../src/restCopy/decisions.ts';
import { compareSceneContent, firstDifferentBlock, readYjsSide } from '../../src/restCopy/divergence.ts';
import { loadCheckResultOf } from '../../src/restCopy/loadValidation.ts';
import { prepareSeed, readRestContent } from '../../src/restCopy/restContent.ts';
import { checksumBlocks, encodeRestBlocksAsUpdate, restBlocksToYDoc } from '../../src/screenplay/index.ts';
import { OTHER_BLOCKS, SCENE_BLOCKS } from './support.ts';
import { blocksOf, canonical } from '../helpers/documents.ts';

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

describe('the load check compares as the detector does, and keeps its metric labels', () => {
  const yjsOf = (blocks: unknown) => readYjsSide(restBlocksToYDoc(blocks));
  // What a load knows: the document, the log head, and the scenes row.
  const compare = (yjs: ReturnType<typeof readYjsSide>, restBlocks: unknown) =>
    compareSceneContent({
      sceneId: '00000000-0000-4000-8000-000000000001',
      hasYjsLog: true,
      ...yjs,
      yjsSeq: 2n,
      restBlocks,
      restSnapshotSeq: 1n,
      restRecordedChecksum: null,
      restYjsDerived: false,
      checkedAt: new Date(0),
    });

  it('reports in-sync for equal content', () => {
    const report = compare(yjsOf(SCENE_BLOCKS), SCENE_BLOCKS);
    expect(report).toMatchObject({ cause: 'in_sync', yjs_block_count: 5, rest_block_count: 5, yjs_error: null, rest_error: null });
    expect(firstDifferentBlock(report)).toBeNull();
    expect(report.yjs_checksum).toBe(report.rest_checksum);
    expect(loadCheckResultOf(report.cause)).toBe('in-sync');
  });

  it('reports the first differing block when content diverges', () => {
    const edited = SCENE_BLOCKS.map((b, i) => (i === 2 ? { ...b, text: 'MAYA (V.O.)' } : b));
    for (const [yjs, rest, first] of [
      [edited, SCENE_BLOCKS, 2],
      [SCENE_BLOCKS, OTHER_BLOCKS, 0],
      [SCENE_BLOCKS, [], 0],
      [SCENE_BLOCKS, SCENE_BLOCKS.slice(0, 3), 3],
    ] as const) {
      const report = compare(yjsOf(yjs), rest);
      expect(loadCheckResultOf(report.cause)).toBe('diverged');
      expect(firstDifferentBlock(report)).toBe(first);
    }
    expect(compare(yjsOf(SCENE_BLOCKS), [])).toMatchObject({ rest_block_count: 0 });
  });

  it('reports rest-invalid and yjs-unreadable with the reason', () => {
    const invalid = compare(yjsOf(SCENE_BLOCKS), {});
    expect(loadCheckResultOf(invalid.cause)).toBe('rest-invalid');
    expect(invalid.rest_error).toMatch(/^INVALID_REST_BLOCKS: /);
    const doc = new Y.Doc();
    doc.getXmlFragment('default').insert(0, [new Y.XmlElement('notANode')]);
    const unreadable = compare(readYjsSide(doc), SCENE_BLOCKS);
    expect(loadCheckResultOf(unreadable.cause)).toBe('yjs-unreadable');
    expect(unreadable.yjs_error).toMatch(/^UNKNOWN_NODE_TYPE: /);
  });

  it.each([
    ['in_sync', 'in-sync'],
    ['snapshot_lag', 'diverged'],
    ['rest_modified', 'diverged'],
    ['content_mismatch', 'diverged'],
    ['invalid_rest', 'rest-invalid'],
    ['yjs_unreadable', 'yjs-unreadable'],
    ['no_yjs_log', 'unchecked'],
  ] as const)('cause %s -> scene_load_checks_total{result="%s"}', (cause, label) => {
    expect(loadCheckResultOf(cause)).toBe(label);
  });
});
