// Inline formatting as runs: both file formats write bold/italic/underline per run of text
// (Fountain as *, ** and _ around it, FDX as <Text Style="Bold+Italic">), while REST blocks keep
// them as ranges (src/screenplay/README.md).
import { canonicalMarks } from '../screenplay/index.ts';
import type { RestMark, ScreenplayMarkType } from '../screenplay/index.ts';

export interface StyledRun {
  text: string;
  marks: ReadonlySet<ScreenplayMarkType>;
}

const MARK_TYPES: readonly ScreenplayMarkType[] = ['bold', 'italic', 'underline'];

// The eight combinations of marks, one read-only set each, shared by every run that has it.
const SETS_BY_MASK: ReadonlyArray<ReadonlySet<ScreenplayMarkType>> = Array.from(
  { length: 8 },
  (_, mask) => new Set(MARK_TYPES.filter((_type, bit) => (mask & (1 << bit)) !== 0)),
);

/** Splits text at every mark boundary; each run carries the marks that cover it. */
export function runsOfMarks(text: string, marks: readonly RestMark[] | undefined): StyledRun[] {
  if (!marks || marks.length === 0) return text.length === 0 ? [] : [{ text, marks: SETS_BY_MASK[0]! }];
  // One sweep over the range ends sorted by position, counting how many ranges of each type cover
  // the run: O(m log m) in the marks (a block may carry thousands), nothing per character.
  const events: Array<{ at: number; bit: number; delta: number }> = [];
  for (const mark of marks) {
    const from = Math.max(0, Math.min(mark.from, text.length));
    const to = Math.max(0, Math.min(mark.to, text.length));
    if (to <= from) continue;
    const bit = MARK_TYPES.indexOf(mark.type);
    events.push({ at: from, bit, delta: 1 }, { at: to, bit, delta: -1 });
  }
  events.sort((a, b) => a.at - b.at);
  const depth = [0, 0, 0];
  const runs: StyledRun[] = [];
  let position = 0;
  let next = 0;
  while (position < text.length) {
    while (next < events.length && events[next]!.at === position) {
      const event = events[next++]!;
      depth[event.bit]! += event.delta;
    }
    const end = next < events.length ? Math.min(events[next]!.at, text.length) : text.length;
    const mask = (depth[0]! > 0 ? 1 : 0) | (depth[1]! > 0 ? 2 : 0) | (depth[2]! > 0 ? 4 : 0);
    if (end > position) runs.push({ text: text.slice(position, end), marks: SETS_BY_MASK[mask]! });
    position = end;
  }
  return runs;
}

/** The inverse of runsOfMarks: joined text and merged, sorted ranges. */
export function marksOfRuns(runs: readonly StyledRun[]): { text: string; marks: RestMark[] } {
  let text = '';
  const open = new Map<ScreenplayMarkType, number>();
  const marks: RestMark[] = [];
  const close = (type: ScreenplayMarkType, at: number) => {
    const from = open.get(type)!;
    open.delete(type);
    if (at > from) marks.push({ type, from, to: at });
  };
  for (const run of runs) {
    if (run.text.length === 0) continue;
    for (const type of [...open.keys()]) if (!run.marks.has(type)) close(type, text.length);
    for (const type of run.marks) if (!open.has(type)) open.set(type, text.length);
    text += run.text;
  }
  for (const type of [...open.keys()]) close(type, text.length);
  return { text, marks: canonicalMarks(marks) };
}
