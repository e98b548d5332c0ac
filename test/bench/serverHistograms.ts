/**
 * The server's own histograms of the group commit (issue 22, the tail analysis), read from
 * `/metrics` before and after a measured run: how many updates a batch held, how long its commit
 * took, and how long an update waited in the queue before its batch started. An edit->peer tail
 * beside them says whether it came from slower commits or from waiting behind them.
 */
import type { Target } from './targets.ts';

/** The group commit's histograms, by their `/metrics` names. */
export const COMMIT_HISTOGRAMS = {
  batchSize: 'yjs_append_batch_size',
  commitSeconds: 'yjs_append_statement_seconds',
  queueWaitSeconds: 'yjs_append_queue_wait_seconds',
} as const;
type HistogramKey = keyof typeof COMMIT_HISTOGRAMS;

/** Cumulative bucket counts by upper bound (`+Inf` as Infinity), and the observation count. */
interface Buckets {
  bounds: number[];
  cumulative: number[];
  count: number;
}

export type HistogramReading = Record<HistogramKey, Buckets>;

/** The p50 and p99 of what was observed between two readings (bucket-interpolated), and how many. */
export interface HistogramFigures {
  p50: number;
  p99: number;
  count: number;
}

function parse(text: string, name: string): Buckets {
  const pairs: Array<[number, number]> = [];
  let count = 0;
  for (const line of text.split('\n')) {
    const bucket = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`).exec(line);
    if (bucket) pairs.push([bucket[1] === '+Inf' ? Infinity : Number(bucket[1]), Number(bucket[2])]);
    const total = new RegExp(`^${name}_count (\\S+)$`).exec(line);
    if (total) count = Number(total[1]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  return { bounds: pairs.map((p) => p[0]), cumulative: pairs.map((p) => p[1]), count };
}

/** The group commit's histograms as the server reports them now (this project's server only). */
export async function readCommitHistograms(target: Target): Promise<HistogramReading | null> {
  if (!target.httpUrl) return null;
  return parseCommitHistograms(await (await fetch(`${target.httpUrl}/metrics`)).text());
}

/** The group commit's histograms in `/metrics` text. */
export function parseCommitHistograms(text: string): HistogramReading {
  const entries = Object.entries(COMMIT_HISTOGRAMS).map(([key, name]) => [key, parse(text, name)]);
  return Object.fromEntries(entries) as HistogramReading;
}

/**
 * The longest event loop delay since the previous scrape, in ms (prom-client's
 * `nodejs_eventloop_lag_max_seconds`; it resets its monitor on every scrape), or NaN.
 */
export function loopLagMaxMs(text: string): number {
  const match = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return match ? Number(match[1]) * 1000 : Number.NaN;
}

/** The quantile `q` of the observations in `after` minus `before`, interpolated inside its bucket. */
function quantile(before: Buckets, after: Buckets, q: number): number {
  const counts = after.cumulative.map((c, i) => c - (before.cumulative[i] ?? 0));
  const total = counts.at(-1) ?? 0;
  if (total === 0) return Number.NaN;
  const rank = q * total;
  for (let i = 0; i < counts.length; i += 1) {
    if (counts[i]! < rank) continue;
    const lower = i === 0 ? 0 : after.bounds[i - 1]!;
    const upper = after.bounds[i]!;
    // Beyond the last finite bound all that is known is "more than it".
    if (!Number.isFinite(upper)) return lower;
    const below = i === 0 ? 0 : counts[i - 1]!;
    const inBucket = counts[i]! - below;
    return inBucket === 0 ? upper : lower + ((rank - below) / inBucket) * (upper - lower);
  }
  return after.bounds.at(-2) ?? Number.NaN;
}

/** The line the scenarios log for `commitFigures`: commit p50/p99, queue wait p99, batch p50. */
export function describeCommitFigures(figures: Record<HistogramKey, HistogramFigures>): string {
  return `commit p50/p99 ${figures.commitSeconds.p50.toFixed(1)}/${figures.commitSeconds.p99.toFixed(1)} ms, queue wait p99 ${figures.queueWaitSeconds.p99.toFixed(1)} ms, batch p50 ${figures.batchSize.p50.toFixed(1)}`;
}

/** p50/p99 of each histogram over the run between two readings; times in milliseconds. */
export function commitFigures(before: HistogramReading, after: HistogramReading): Record<HistogramKey, HistogramFigures> {
  const figures = {} as Record<HistogramKey, HistogramFigures>;
  for (const key of Object.keys(COMMIT_HISTOGRAMS) as HistogramKey[]) {
    const scale = key === 'batchSize' ? 1 : 1000;
    figures[key] = {
      p50: quantile(before[key], after[key], 0.5) * scale,
      p99: quantile(before[key], after[key], 0.99) * scale,
      count: after[key].count - before[key].count,
    };
  }
  return figures;
}
