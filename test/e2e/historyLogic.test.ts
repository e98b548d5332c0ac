import { describe, expect, it } from 'vitest';
import {
  describeSession,
  diffParameter,
  diffSummary,
  formatBytes,
  pointOfLabel,
  pointOfSession,
  previewInstant,
  routeMissing,
  timelineEntries,
  writerColor,
  writerName,
  type EditingSession,
  type SceneLabel,
} from '../../web/historyTimeline.ts';

/** The history panel's decisions, without a browser (web/historyTimeline.ts). */
const session = (overrides: Partial<EditingSession>): EditingSession => ({
  user_id: '11111111-1111-4111-8111-111111111111',
  email: 'dana@writersroom.example',
  started_at: '2026-12-03T10:00:00.000Z',
  ended_at: '2026-12-03T10:05:00.000Z',
  rows: 3,
  updates: 7,
  bytes: 300,
  first_seq: 1,
  last_seq: 3,
  ...overrides,
});
const label = (overrides: Partial<SceneLabel>): SceneLabel => ({
  labelUUID: '22222222-2222-4222-8222-222222222222',
  name: 'first draft',
  seq: 3,
  labelled_at: '2026-12-03T10:05:00.000Z',
  ...overrides,
});

describe('the history timeline', () => {
  it('merges sessions and labels newest first; a label at the same instant as a session comes first', () => {
    const older = session({ ended_at: '2026-12-03T10:05:00.000Z', last_seq: 3 });
    const newer = session({ user_id: null, email: null, ended_at: '2026-12-03T11:00:00.000Z', last_seq: 9 });
    const tie = label({ labelled_at: older.ended_at });
    const oldest = label({ labelUUID: '33333333-3333-4333-8333-333333333333', labelled_at: '2026-12-03T09:00:00.000Z' });
    const entries = timelineEntries([older, newer], [oldest, tie]);
    expect(entries.map((entry) => entry.key)).toEqual([
      'session:9',
      `label:${tie.labelUUID}`,
      'session:3',
      `label:${oldest.labelUUID}`,
    ]);
    expect(timelineEntries([], [])).toEqual([]);
  });

  it('holds back labels older than the oldest loaded session while older sessions are still to come', () => {
    const loaded = session({ ended_at: '2026-12-03T10:05:00.000Z', last_seq: 3 });
    const newer = label({ labelled_at: '2026-12-03T11:00:00.000Z' });
    const same = label({ labelUUID: '44444444-4444-4444-8444-444444444444', labelled_at: loaded.ended_at });
    const older = label({ labelUUID: '33333333-3333-4333-8333-333333333333', labelled_at: '2026-12-03T09:00:00.000Z' });
    const keys = (complete: boolean) => timelineEntries([loaded], [older, same, newer], complete).map((entry) => entry.key);
    expect(keys(false)).toEqual([`label:${newer.labelUUID}`, `label:${same.labelUUID}`, 'session:3']);
    expect(keys(true)).toEqual([`label:${newer.labelUUID}`, `label:${same.labelUUID}`, 'session:3', `label:${older.labelUUID}`]);
    // No session at all: every label shows.
    expect(timelineEntries([], [older], false)).toHaveLength(1);
  });

  it('acts on exact points: a session by its last seq, a label by its id', () => {
    expect(pointOfSession(session({ last_seq: 42 }))).toEqual({ seq: 42 });
    expect(pointOfLabel(label({}))).toEqual({ label: '22222222-2222-4222-8222-222222222222' });
    expect(diffParameter({ seq: 0 })).toBe('0');
    expect(diffParameter({ label: 'abc' })).toBe('abc');
  });

  it('previews the millisecond after a session ends or a label was taken, so the last row is in', () => {
    const [entry] = timelineEntries([session({ ended_at: '2026-12-03T10:05:00.999Z' })], []);
    expect(previewInstant(entry!)).toBe('2026-12-03T10:05:01.000Z');
    const [labelled] = timelineEntries([], [label({ labelled_at: '2026-12-03T10:05:00.000Z' })]);
    expect(previewInstant(labelled!)).toBe('2026-12-03T10:05:00.001Z');
  });

  it('names writers by their email, the server as server', () => {
    expect(writerName(session({}))).toBe('dana');
    expect(writerName(session({ user_id: null, email: null }))).toBe('server');
    expect(writerName(session({ email: null }))).toBe('unknown writer');
    expect(writerColor('a')).toBe(writerColor('a'));
    expect(writerColor('11111111-1111-4111-8111-111111111111')).not.toBe(writerColor('22222222-2222-4222-8222-222222222222'));
    expect(writerColor(null)).toMatch(/^hsl\(0 0% /);
  });

  it('describes sizes and sessions', () => {
    expect([formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(3 * 1024 * 1024)]).toEqual(['0 B', '1023 B', '1.5 kB', '3.0 MB']);
    const text = describeSession(session({ updates: 1, bytes: 2048 }));
    expect(text).toMatch(/· 1 edit · 2\.0 kB$/);
    expect(describeSession(session({ updates: 7 }))).toMatch(/–.* · 7 edits · 300 B$/);
    // One instant: one time, no range.
    expect(describeSession(session({ ended_at: '2026-12-03T10:00:00.000Z' }))).not.toContain('–');
  });

  it('takes only an unmounted route for a missing one', () => {
    expect(routeMissing(404, 'NOT_FOUND')).toBe(true);
    expect(routeMissing(404, undefined)).toBe(true);
    expect(routeMissing(404, 'UNKNOWN_SCENE')).toBe(false);
    expect(routeMissing(404, 'UNKNOWN_LABEL')).toBe(false);
    expect(routeMissing(403, 'NO_ACCESS')).toBe(false);
    expect(routeMissing(500, undefined)).toBe(false);
  });

  it('sums a diff up in one line', () => {
    expect(diffSummary({ added: [1], removed: [], changed: [1, 2] })).toBe('1 added · 2 changed');
    expect(diffSummary({ added: [], removed: [], changed: [] })).toBe('no difference');
  });
});
