import * as Y from 'yjs';
import { expect, it } from 'vitest';
import { HistoryNotRetainedError, InvalidPointError, SeqAheadError, UnknownLabelError } from '../../src/history/errors.ts';
import { HistoryPoints, parsePointText, pointBodySchema, readsAsSeqOrInstant } from '../../src/history/points.ts';
import { compactScene } from '../../src/log/compaction.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { Typist } from '../helpers/typing.ts';
import { expectedDocument, JOB_DEFAULTS, retireMergedOriginals, sameDocument } from '../compaction/support.ts';

const DAY = 24 * 60 * 60 * 1000;

it('reads a point written as one string: digits are a seq, an ISO instant with zone an instant, anything else a label', () => {
  expect(parsePointText('42')).toEqual({ seq: 42n });
  expect(parsePointText('0')).toEqual({ seq: 0n });
  expect(parsePointText('2025-01-22T10:30:00Z')).toEqual({ at: new Date('2025-01-22T10:30:00Z') });
  expect(parsePointText('2025-01-22T10:30:00+02:00')).toEqual({ at: new Date('2025-01-22T08:30:00Z') });
  // Without a zone an instant is ambiguous: it reads as a label name (which then is unknown).
  expect(parsePointText('2025-01-22T10:30:00')).toEqual({ label: '2025-01-22T10:30:00' });
  expect(parsePointText('Draft 2 to producer')).toEqual({ label: 'Draft 2 to producer' });
  expect(parsePointText('-1')).toEqual({ label: '-1' });
  expect(parsePointText('')).toBeNull();
  expect(readsAsSeqOrInstant('12')).toBe(true);
  expect(readsAsSeqOrInstant('2025-01-22T10:30:00Z')).toBe(true);
  expect(readsAsSeqOrInstant('Draft 12')).toBe(false);
});

it('takes exactly one of at, seq and label in a body, and refuses unknown fields', () => {
  expect(pointBodySchema.parse({ seq: 3 })).toEqual({ seq: 3n });
  expect(pointBodySchema.parse({ at: '2025-01-22T10:30:00Z' })).toEqual({ at: new Date('2025-01-22T10:30:00Z') });
  expect(pointBodySchema.parse({ label: 'Draft' })).toEqual({ label: 'Draft' });
  for (const bad of [{}, { seq: 1, label: 'x' }, { seq: -1 }, { seq: 1.5 }, { seq: '3' }, { at: '2025-01-22' }, { at: '2025-01-22T10:30:00' }, { label: '' }, { seq: 1, extra: true }]) {
    expect(pointBodySchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
  }
});

describeEachDatabase('history points', (db) => {
  async function sceneWithUpdates(count: number) {
    const { sceneIds } = await createScript(db().prisma);
    const sceneId = sceneIds[0]!;
    const log = new SceneLog(db().database.sql);
    const typist = new Typist();
    const updates = Array.from({ length: count }, (_, i) => typist.type(String.fromCharCode(97 + (i % 26))));
    for (const update of updates) await log.append([{ sceneId, update, createdBy: null }]);
    return { sceneId, log, updates };
  }

  function docOf(state: Uint8Array | null): Y.Doc {
    const doc = new Y.Doc();
    if (state !== null) Y.applyUpdate(doc, state);
    return doc;
  }

  it('gives the state at a seq and at an instant, and null before the first update', async () => {
    const { sceneId, log, updates } = await sceneWithUpdates(6);
    const points = new HistoryPoints(log);
    const atThree = await points.stateOf(sceneId, { seq: 3n });
    expect(atThree.seq).toBe(3n);
    expect(sameDocument(docOf(atThree.state), expectedDocument(updates.slice(0, 3)))).toBe(true);
    expect(await points.stateOf(sceneId, { seq: 0n })).toEqual({ state: null, seq: null, label: null });

    const now = await points.stateOf(sceneId, { at: new Date(Date.now() + 1000) });
    expect(now.seq).toBe(6n);
    expect(sameDocument(docOf(now.state), expectedDocument(updates))).toBe(true);
    const before = await points.stateOf(sceneId, { at: new Date('2000-01-01T00:00:00Z') });
    expect(before).toEqual({ state: null, seq: null, label: null });
  });

  it('refuses a seq ahead of the log, an unknown label and an invalid instant', async () => {
    const { sceneId, log } = await sceneWithUpdates(2);
    const points = new HistoryPoints(log);
    await expect(points.stateOf(sceneId, { seq: 3n })).rejects.toBeInstanceOf(SeqAheadError);
    await expect(points.stateOf(sceneId, { label: 'nope' })).rejects.toBeInstanceOf(UnknownLabelError);
    await expect(points.stateOf(sceneId, { at: new Date('garbage') })).rejects.toBeInstanceOf(InvalidPointError);
    const empty = (await createScript(db().prisma)).sceneIds[0]!;
    await expect(points.stateOf(empty, { seq: 1n })).rejects.toMatchObject({ status: 400, code: 'SEQ_AHEAD' });
  });

  it('answers 410 for a point whose originals retention deleted, and still gives the points after the compacted row', async () => {
    const { sceneId, log, updates } = await sceneWithUpdates(8);
    const sql = db().database.sql;
    const beforeCompaction = new Date();
    await compactScene(sql, sceneId, { maxRows: JOB_DEFAULTS.compaction.maxRowsPerCompaction });
    const points = new HistoryPoints(log);
    // Before retention the originals are still there.
    expect((await points.stateOf(sceneId, { seq: 4n })).seq).toBe(4n);
    await retireMergedOriginals(sql, sceneId);

    await expect(points.stateOf(sceneId, { seq: 4n })).rejects.toBeInstanceOf(HistoryNotRetainedError);
    await expect(points.stateOf(sceneId, { seq: 4n })).rejects.toMatchObject({ status: 410, code: 'HISTORY_NOT_RETAINED' });
    const aged = new Date(beforeCompaction.getTime() - 31 * DAY - 60_000);
    await expect(points.stateOf(sceneId, { at: aged })).rejects.toBeInstanceOf(HistoryNotRetainedError);
    const head = await points.stateOf(sceneId, { seq: 8n });
    expect(sameDocument(docOf(head.state), expectedDocument(updates))).toBe(true);
  });
});
