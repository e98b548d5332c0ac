import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { snapshotFreshness, type SnapshotFreshness } from '../../src/scenes/freshness.ts';

const NOW = new Date('2025-01-22T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const MIN = 60_000;

describe('snapshot freshness (section 8.2)', () => {
  const table: Array<[string, Date | null, SnapshotFreshness]> = [
    ['no snapshot', null, 'never'],
    ['just written', NOW, 'fresh'],
    ['stamped slightly in the future (clock skew)', new Date(NOW.getTime() + 1500), 'fresh'],
    ['4m59.999s', ago(5 * MIN - 1), 'fresh'],
    ['exactly 5 minutes', ago(5 * MIN), 'stale'],
    ['12 minutes', ago(12 * MIN), 'stale'],
    ['29m59.999s', ago(30 * MIN - 1), 'stale'],
    ['exactly 30 minutes', ago(30 * MIN), 'very_stale'],
    ['a week', ago(7 * 24 * 60 * MIN), 'very_stale'],
  ];
  it.each(table)('%s -> %s', (_name, snapshotAt, expected) => {
    expect(snapshotFreshness(snapshotAt, NOW, loadConfig({}).snapshots.freshness)).toBe(expected);
  });

  it('takes other thresholds', () => {
    const thresholds = { freshMs: 1000, staleMs: 2000 };
    expect(snapshotFreshness(ago(999), NOW, thresholds)).toBe('fresh');
    expect(snapshotFreshness(ago(1000), NOW, thresholds)).toBe('stale');
    expect(snapshotFreshness(ago(2000), NOW, thresholds)).toBe('very_stale');
  });
});
