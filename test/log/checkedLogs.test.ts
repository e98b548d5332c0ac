import { describe, expect, it } from 'vitest';
import { CheckedLogs } from '../../src/log/checkedLogs.ts';

const SCENE = '00000000-0000-4000-8000-00000000000a';
const OTHER = '00000000-0000-4000-8000-00000000000b';
const bytes = (...values: number[]) => new Uint8Array(values);

describe('CheckedLogs', () => {
  it('counts as checked only the updates whose packed bytes are the same as before', () => {
    const checked = new CheckedLogs();
    const log = bytes(0, 0, 0, 1, 7, 0, 0, 0, 2, 8, 9);
    expect(checked.checkedPrefix(SCENE, log)).toBe(0);
    checked.remember(SCENE, log, 2);
    expect(checked.checkedPrefix(SCENE, log)).toBe(2);
    // The log grew: the old rows are still checked, the new one is not.
    expect(checked.checkedPrefix(SCENE, bytes(...log, 0, 0, 0, 1, 5))).toBe(2);
    // A byte of an old row changed, a row was removed, or another scene: nothing counts as checked.
    expect(checked.checkedPrefix(SCENE, bytes(0, 0, 0, 1, 6, 0, 0, 0, 2, 8, 9, 0, 0, 0, 1, 5))).toBe(0);
    expect(checked.checkedPrefix(SCENE, bytes(0, 0, 0, 2, 8, 9))).toBe(0);
    expect(checked.checkedPrefix(OTHER, log)).toBe(0);
    checked.forget(SCENE);
    expect(checked.checkedPrefix(SCENE, log)).toBe(0);
  });

  it('keeps the most recently checked scenes up to its capacity', () => {
    const checked = new CheckedLogs(2);
    const log = bytes(0, 0, 0, 1, 7);
    checked.remember('a', log, 1);
    checked.remember('b', log, 1);
    checked.remember('a', log, 1);
    checked.remember('c', log, 1);
    expect(['a', 'b', 'c'].map((scene) => checked.checkedPrefix(scene, log))).toEqual([1, 0, 1]);
  });
});
