import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import {
  classifyCause,
  compareSceneContent,
  diffBlocks,
  divergenceRate,
  firstDifferentBlock,
  readYjsSide,
  recommendedActionFor,
  severityFor,
  type CauseFacts,
  type DivergenceCause,
  type DivergenceFacts,
} from '../../src/restCopy/divergence.ts';
import { canonicalizeBlocks, checksumBlocks, restBlocksToYDoc, type CanonicalRestBlock } from '../../src/screenplay/index.ts';

const b = (type: string, text: string) => ({ type, text });
const canon = (blocks: unknown[]) => canonicalizeBlocks(blocks);
const SCENE = canon([b('scene_heading', 'INT. A - DAY'), b('action', 'One.'), b('character', 'ANNA'), b('dialogue', 'Two.'), b('transition', 'CUT TO:')]);

describe('classifyCause', () => {
  const base: CauseFacts = {
    hasYjsLog: true,
    yjsReadable: true,
    restValid: true,
    checksumsEqual: false,
    restDiffersFromRecordedChecksum: false,
    restYjsDerived: true,
    restBehindLog: false,
  };
  const table: Array<[string, Partial<CauseFacts>, DivergenceCause]> = [
    ['no log: REST is the source', { hasYjsLog: false, yjsReadable: false, restValid: false }, 'no_yjs_log'],
    ['unreadable Yjs wins over everything else', { yjsReadable: false, restValid: false, checksumsEqual: true }, 'yjs_unreadable'],
    ['invalid REST', { restValid: false }, 'invalid_rest'],
    ['equal content', { checksumsEqual: true, restDiffersFromRecordedChecksum: true, restBehindLog: true }, 'in_sync'],
    ['copy rewritten behind the snapshot', { restDiffersFromRecordedChecksum: true }, 'rest_modified'],
    ['rewritten and behind: rewriting is the finding', { restDiffersFromRecordedChecksum: true, restBehindLog: true }, 'rest_modified'],
    ['intact copy, older than the log', { restBehindLog: true }, 'snapshot_lag'],
    ['never derived from Yjs, behind', { restYjsDerived: false, restBehindLog: true, restDiffersFromRecordedChecksum: true }, 'snapshot_lag'],
    ['intact, current, different', {}, 'content_mismatch'],
  ];
  it.each(table)('%s -> %s', (_name, facts, expected) => {
    expect(classifyCause({ ...base, ...facts })).toBe(expected);
  });
});

describe('severityFor', () => {
  const diff = (changed: number, onlyInYjs = 0, onlyInRest = 0) => ({ changed, only_in_yjs: onlyInYjs, only_in_rest: onlyInRest, entries: [], truncated: false });
  const table: Array<[string, DivergenceCause, number, number, ReturnType<typeof diff> | null, ReturnType<typeof severityFor>]> = [
    ['in sync', 'in_sync', 5, 5, null, null],
    ['no log', 'no_yjs_log', 0, 5, null, null],
    ['lag is minor however large', 'snapshot_lag', 100, 0, diff(0, 100), 'minor'],
    ['invalid REST', 'invalid_rest', 5, 0, null, 'critical'],
    ['unreadable Yjs', 'yjs_unreadable', 0, 5, null, 'critical'],
    ['1 of 10 blocks', 'rest_modified', 10, 10, diff(1), 'minor'],
    ['2 of 10 blocks', 'rest_modified', 10, 10, diff(2), 'moderate'],
    ['5 of 10 blocks', 'content_mismatch', 10, 10, diff(5), 'moderate'],
    ['6 of 10 blocks', 'content_mismatch', 10, 10, diff(6), 'critical'],
    ['one side empty', 'rest_modified', 10, 0, diff(0, 10), 'critical'],
    ['no diff available', 'content_mismatch', 4, 4, null, 'critical'],
  ];
  it.each(table)('%s', (_name, cause, yjsBlockCount, restBlockCount, d, expected) => {
    expect(severityFor(cause, { yjsBlockCount, restBlockCount, diff: d })).toBe(expected);
  });
});

describe('recommendedActionFor', () => {
  it.each([
    ['in_sync', 'none'],
    ['no_yjs_log', 'none'],
    ['snapshot_lag', 'create_snapshot'],
    ['rest_modified', 'auto_repair_prefer_yjs'],
    ['content_mismatch', 'auto_repair_prefer_yjs'],
    ['invalid_rest', 'auto_repair_prefer_yjs'],
    ['yjs_unreadable', 'investigate_yjs_state'],
  ] as const)('%s -> %s', (cause, action) => {
    expect(recommendedActionFor(cause)).toBe(action);
  });
});

describe('diffBlocks', () => {
  const summary = (yjs: CanonicalRestBlock[], rest: CanonicalRestBlock[]) => {
    const d = diffBlocks(yjs, rest);
    return { counts: [d.only_in_yjs, d.only_in_rest, d.changed], ops: d.entries.map((e) => [e.op, e.yjs_index, e.rest_index]) };
  };
  it.each([
    ['equal', SCENE, SCENE, [0, 0, 0], []],
    ['REST lacks the last block', SCENE, SCENE.slice(0, 4), [1, 0, 0], [['only_in_yjs', 4, null]]],
    ['REST has an extra block in the middle', SCENE, [...SCENE.slice(0, 2), ...canon([b('action', 'extra')]), ...SCENE.slice(2)], [0, 1, 0], [['only_in_rest', null, 2]]],
    ['one block changed', SCENE, [SCENE[0]!, ...canon([b('action', 'Uno.')]), ...SCENE.slice(2)], [0, 0, 1], [['changed', 1, 1]]],
    ['both empty', [], [], [0, 0, 0], []],
    ['REST empty', SCENE.slice(0, 2), [], [2, 0, 0], [['only_in_yjs', 0, null], ['only_in_yjs', 1, null]]],
  ] as Array<[string, CanonicalRestBlock[], CanonicalRestBlock[], number[], unknown[]]>)('%s', (_name, yjs, rest, counts, ops) => {
    expect(summary(yjs, rest)).toEqual({ counts, ops });
  });

  it('is bounded: at most maxEntries entries and cut texts, with exact counts', () => {
    const many = canon(Array.from({ length: 100 }, (_, i) => b('action', `line ${i} `.repeat(40))));
    const other = canon(Array.from({ length: 100 }, (_, i) => b('action', `other ${i}`)));
    const d = diffBlocks(many, other, { maxEntries: 5, maxTextChars: 10 });
    expect(d.changed).toBe(100);
    expect(d.entries).toHaveLength(5);
    expect(d.truncated).toBe(true);
    expect(d.entries[0]!.yjs).toEqual({ type: 'action', text: 'line 0 lin', truncated: true });
  });

  it('falls back to a positional comparison when the lists are too large to align', () => {
    const middle = Array.from({ length: 50 }, (_, i) => b('action', `a${i}`));
    const yjs = canon([b('action', 'x'), ...middle, b('action', 'y')]);
    const rest = canon([b('action', 'z'), b('action', 'new'), ...middle, b('action', 'w')]);
    const aligned = diffBlocks(yjs, rest);
    expect([aligned.only_in_yjs, aligned.only_in_rest, aligned.changed]).toEqual([0, 1, 2]);
    const positional = diffBlocks(yjs, rest, { maxCells: 10 });
    // Shifted by one, every position differs; the counts still account for every block.
    expect([positional.only_in_yjs, positional.only_in_rest, positional.changed]).toEqual([0, 1, 52]);
  });
});

describe('compareSceneContent', () => {
  const facts = (over: Partial<DivergenceFacts>): DivergenceFacts => ({
    sceneId: '00000000-0000-4000-8000-000000000001',
    hasYjsLog: true,
    yjsBlocks: SCENE,
    yjsError: null,
    yjsSeq: 10n,
    restBlocks: SCENE,
    restSnapshotSeq: 10n,
    restRecordedChecksum: checksumBlocks(SCENE),
    restYjsDerived: true,
    checkedAt: new Date('2026-01-02T03:04:05.000Z'),
    ...over,
  });

  it('sees through key order and null-versus-absent', () => {
    const reordered = SCENE.map((block) => ({ text: block.text, type: block.type, character: null, metadata: {} }));
    const report = compareSceneContent(facts({ restBlocks: reordered }));
    expect(report).toMatchObject({ diverged: false, cause: 'in_sync', severity: null, recommended_action: 'none', diff: null });
    expect(report).toMatchObject({ scene_id: '00000000-0000-4000-8000-000000000001', yjs_seq: 10, rest_snapshot_seq: 10, checked_at: '2026-01-02T03:04:05.000Z' });
    expect(report.yjs_checksum).toBe(report.rest_checksum);
  });

  it('reports lag with a diff', () => {
    const report = compareSceneContent(facts({ restBlocks: SCENE.slice(0, 3), restSnapshotSeq: 8n, restRecordedChecksum: checksumBlocks(SCENE.slice(0, 3)) }));
    expect(report).toMatchObject({ diverged: true, cause: 'snapshot_lag', severity: 'minor', yjs_block_count: 5, rest_block_count: 3 });
    expect(report.diff).toMatchObject({ only_in_yjs: 2, only_in_rest: 0, changed: 0 });
    expect(firstDifferentBlock(report)).toBe(3);
  });

  it('reports a tampered copy and an invalid one', () => {
    const tampered = compareSceneContent(facts({ restBlocks: [...SCENE.slice(0, 4), b('transition', 'SMASH CUT TO:')] }));
    expect(tampered).toMatchObject({ diverged: true, cause: 'rest_modified', severity: 'moderate', recommended_action: 'auto_repair_prefer_yjs' });
    const invalid = compareSceneContent(facts({ restBlocks: { not: 'a list' } }));
    expect(invalid).toMatchObject({ diverged: true, cause: 'invalid_rest', severity: 'critical', rest_checksum: null, rest_block_count: 0, diff: null });
    expect(invalid.rest_error).toMatch(/^INVALID_REST_BLOCKS: /);
    expect(firstDifferentBlock(invalid)).toBeNull();
    const unreadable = compareSceneContent(facts({ yjsBlocks: null, yjsError: 'UNKNOWN_NODE_TYPE: legacyWidget' }));
    expect(unreadable).toMatchObject({ cause: 'yjs_unreadable', yjs_checksum: null, yjs_error: 'UNKNOWN_NODE_TYPE: legacyWidget', recommended_action: 'investigate_yjs_state' });
  });

  it('names the first differing block, a missing one included', () => {
    const edited = SCENE.map((block, i) => (i === 2 ? { ...block, text: 'ANNA (V.O.)' } : block));
    expect(firstDifferentBlock(compareSceneContent(facts({ yjsBlocks: edited })))).toBe(2);
    expect(firstDifferentBlock(compareSceneContent(facts({ restBlocks: [...SCENE, b('action', 'More.')] })))).toBe(5);
    expect(firstDifferentBlock(compareSceneContent(facts({ restBlocks: [] })))).toBe(0);
    expect(firstDifferentBlock(compareSceneContent(facts({})))).toBeNull();
  });
});

describe('readYjsSide', () => {
  it('reads a document as blocks, and says why one cannot be converted', () => {
    expect(readYjsSide(restBlocksToYDoc(SCENE))).toEqual({ yjsBlocks: SCENE, yjsError: null });
    const doc = new Y.Doc();
    doc.getXmlFragment('default').insert(0, [new Y.XmlElement('notANode')]);
    expect(readYjsSide(doc)).toMatchObject({ yjsBlocks: null, yjsError: expect.stringMatching(/^UNKNOWN_NODE_TYPE: /) });
  });
});

describe('divergenceRate', () => {
  it.each([
    [[], 0],
    [['in_sync', 'in_sync'], 0],
    [['snapshot_lag', 'in_sync'], 0],
    [['rest_modified', 'in_sync', 'snapshot_lag', 'in_sync'], 0.25],
    [['no_yjs_log', 'content_mismatch'], 1],
    [['invalid_rest', 'yjs_unreadable'], 1],
  ] as Array<[DivergenceCause[], number]>)('%o -> %s', (causes, rate) => {
    expect(divergenceRate(causes)).toBe(rate);
  });
});
