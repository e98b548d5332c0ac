/**
 * What a scenario file hands its figures to (run.ts implements it): a table row per figure with a
 * value per server, percentiles as three rows, extra SVG charts (the growth curves), and progress
 * lines. Scenario files take it instead of importing run.ts's globals.
 */
import type { Percentiles } from './scenarios.ts';

export type TargetName = 'floor' | 'database' | 'durable';

/** How large a scenario runs: `--smoke` proves it works end to end in seconds; `--quick`; the full size. */
export type BenchSize = 'smoke' | 'quick' | 'full';

export interface FigureMeta {
  scenario: string;
  label: string;
  unit: string;
  /** Whether a larger value is better (for the ratio column's reading). */
  higherIsBetter: boolean;
  goal?: string;
}

export interface Report {
  size: BenchSize;
  seed: number;
  record(figure: FigureMeta, target: TargetName, value: number | null): void;
  /** p50, p95, p99 (and max when `withMax`) of `label`, the goal on the p99 row. */
  recordPercentiles(scenario: string, label: string, target: TargetName, p: Percentiles | null, options?: { goal?: string; withMax?: boolean }): void;
  /** An SVG written beside the scenario's bar chart, as `<name>.svg`. */
  chart(name: string, svg: string): void;
  log(line: string): void;
}

/** A scenario's sizes by bench size. */
export function sized<T>(size: BenchSize, sizes: Record<BenchSize, T>): T {
  return sizes[size];
}
