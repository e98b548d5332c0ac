// divergence (architecture 4.5): the scheduled divergence job, a bounded sweep comparing REST
// copies with the Yjs logs, and its command (one sweep).
import { DivergenceDetector, type DivergenceSweep } from '../src/restCopy/divergenceDetector.ts';
import { SceneLog } from '../src/log/sceneLog.ts';
import { createMetrics } from '../src/metrics.ts';
import { jobLocksFor, LOCK_NAMESPACES, type JobLocks } from '../src/db/locks.ts';
import { SnapshotService } from '../src/restCopy/snapshots.ts';
import { EXIT, parseJobArgs, UsageError, type JobCommand } from './command.ts';
import { toJson } from './format.ts';
import { fullSpeed } from './pacing.ts';
import type { BackgroundJob, JobContext } from './scheduler.ts';

export type DivergencePassSummary = Omit<DivergenceSweep, 'diverged' | 'severity_counts'> & { skipped: boolean };

/**
 * Section 4.5: a bounded sweep that publishes the divergence rate (`divergence_rate`). One
 * instance sweeps at a time; the others skip that round (their health route still answers from a
 * sweep of its own when asked).
 */
export function divergenceJob(deps: { divergence: DivergenceDetector; locks: JobLocks; intervalMs: number; limit?: number }): BackgroundJob<DivergencePassSummary> {
  return {
    name: 'divergence',
    intervalMs: deps.intervalMs,
    async run({ progress }: JobContext) {
      const run = await deps.locks.withLock(LOCK_NAMESPACES.divergence, 'sweep', () => deps.divergence.sweep({ limit: deps.limit }));
      if (!run.acquired) {
        progress({ done: 0, detail: 'another instance is sweeping' });
        return { checked_at: new Date().toISOString(), duration_ms: 0, scenes_checked: 0, scenes_diverged: 0, scenes_lagging: 0, scenes_failed: 0, divergence_rate: 0, skipped: true };
      }
      const { diverged, severity_counts: _counts, ...figures } = run.value;
      progress({ done: figures.scenes_checked, detail: `${figures.scenes_diverged} diverged of ${figures.scenes_checked}` });
      for (const scene of diverged.slice(0, 10)) progress({ done: figures.scenes_checked, sceneId: scene.scene_id, detail: `${scene.cause} (${scene.severity})` });
      return { ...figures, skipped: false };
    },
  };
}

interface DivergenceArgs {
  limit: number;
  json: boolean;
}

export const divergenceCommand: JobCommand<DivergenceArgs> = {
  name: 'divergence',
  summary: 'compare REST copies with the Yjs logs and report the divergence rate (read-only)',
  usage: [
    'usage: npm run job -- divergence [--limit <n>] [--json]',
    '',
    '  --limit <n>  scenes checked at most (default 1000)',
    '  --json       print the sweep as JSON on stdout',
    '',
    'Read-only: nothing is repaired (POST the repair route, or run a snapshot, for that).',
  ].join('\n'),
  parse(argv) {
    const { values } = parseJobArgs(argv, { limit: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
    const limit = values.limit === undefined ? 1000 : Number(values.limit);
    if (!Number.isInteger(limit) || limit <= 0) throw new UsageError(`--limit must be a positive whole number, got ${JSON.stringify(values.limit)}`);
    return { limit, json: Boolean(values.json) };
  },
  async run(args, { database, config, logger, output }) {
    const metrics = createMetrics({ defaultMetrics: false });
    const sceneLog = new SceneLog(database.sql);
    const snapshots = new SnapshotService({ prisma: database.prisma, sceneLog, metrics, logger, intervalMs: config.snapshots.intervalMs });
    const detector = new DivergenceDetector({ prisma: database.prisma, sceneLog, snapshots, metrics, logger, sweepLimit: args.limit });
    const job = divergenceJob({ divergence: detector, locks: jobLocksFor(database.sql, database.kind), intervalMs: 0, limit: args.limit });
    const lines: string[] = [];
    const summary = await job.run({
      signal: new AbortController().signal,
      pace: fullSpeed,
      progress: ({ sceneId, detail }) => lines.push(sceneId ? `  ${sceneId}: ${detail}` : `divergence: ${detail}`),
    });
    for (const line of lines) output.progress(line);
    if (args.json) output.result(toJson(summary));
    else if (summary.skipped) output.result('another instance is sweeping right now; nothing checked');
    else {
      output.result(`scenes checked: ${summary.scenes_checked}`);
      output.result(`diverged:       ${summary.scenes_diverged} (rate ${(summary.divergence_rate * 100).toFixed(3)}%)`);
      output.result(`lagging:        ${summary.scenes_lagging}`);
      output.result(`failed:         ${summary.scenes_failed}`);
    }
    return summary.scenes_failed > 0 ? EXIT.FAILED : EXIT.OK;
  },
};
