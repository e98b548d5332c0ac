// Inline formatting as runs: both file formats write bold/italic/underline per run of text
// (Fountain as *, ** and _ around it, FDX as <Text Style="Bold+Italic">), while REST blocks keep
// them as ranges (src/screenplay/README.md).
import type { RestMark } from '../screenplay/index.ts';
import type { ScreenplayMarkType } from '../screenplay/index.ts';

export interface StyledRun {
  text: string;
  marks: ReadonlySet<ScreenplayMarkType>;
}

/** Splits text at every mark boundary; each run carries the marks that cover it. */
export function runsOfMarks(text: string, marks: readonly RestMark[] | undefined): StyledRun[] {
  if (!marks || marks.length === 0) return text.length === 0 ? [] : [{ text, marks: new Set() }];
  const cuts = new Set<number>([0, text.length]);
  for (const mark of marks) {
    cuts.add(mark.from);
    cuts.add(mark.to);
  }
  const points = [...cuts].filter((p) => p >= 0 && p <= text.length).sort((a, b) => a - b);
  const runs: StyledRun[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const from = points[i];
    const to = points[i + 1];
    if (from === to) continue;
    const active = new Set<ScreenplayMarkType>();
    for (const mark of marks) if (mark.from <= from && mark.to >= to) active.add(mark.type);
    runs.push({ text: text.slice(from, to), marks: active });
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
  marks.sort((a, b) => a.from - b.from || a.to - b.to || a.type.localeCompare(b.type));
  return { text, marks };
}
