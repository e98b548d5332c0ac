// retention (architecture 6.4, step 7): the scheduled retention job, which deletes merged log rows
// older than the retention period and purges scenes deleted longer ago than theirs (with their
// logs), and its command (one pass).
import type { SqlExecutor } from '../src/db/sql.ts';
import { purgeExpiredChanges } from '../src/log/changes.ts';
import { runRetentionPass, type RetentionPassSummary } from '../src/log/retention.ts';
import { purgeDeletedScenes } from '../src/scripts/scriptStore.ts';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';
import { EXIT, parseJobArgs, UsageError, type JobCommand } from './command.ts';
import { toJson } from './format.ts';
import type { BackgroundJob } from './scheduler.ts';

/** A retention pass: the merged rows deleted, then the deleted scenes purged. */
export interface RetentionJobSummary extends RetentionPassSummary {
  /** Scenes soft-deleted longer ago than `SCENE_DELETE_RETENTION_DAYS`, deleted with their logs. */
  deletedScenesPurged: number;
  /** Change feed rows older than `CHANGE_FEED_RETENTION_DAYS`, deleted (an older cursor is then a 410). */
  changesDeleted: number;
}

/** Purges the scenes deleted before `now - sceneDeleteRetentionMs` after the pass over merged rows. */
async function withDeletedScenesPurged(
  summary: Promise<RetentionPassSummary>,
  options: { sql: SqlExecutor; sceneDeleteRetentionMs: number; changeRetentionMs?: number; batchSize: number; now: () => Date; signal?: AbortSignal; metrics?: Metrics },
): Promise<RetentionJobSummary> {
  const done = await summary;
  const cutoff = new Date(options.now().getTime() - options.sceneDeleteRetentionMs);
  const { purgedScenes } = await purgeDeletedScenes(options.sql, { cutoff, signal: options.signal });
  let changesDeleted = 0;
  if (options.changeRetentionMs !== undefined) {
    const cutoff = new Date(options.now().getTime() - options.changeRetentionMs);
    ({ deleted: changesDeleted } = await purgeExpiredChanges(options.sql, { cutoff, batchSize: options.batchSize, signal: options.signal }));
    options.metrics?.changeFeedRowsDeleted.inc(changesDeleted);
  }
  return { ...done, deletedScenesPurged: purgedScenes, changesDeleted };
}

export function retentionJob(deps: {
  sql: SqlExecutor;
  logger: Logger;
  metrics?: Metrics;
  intervalMs: number;
  retentionMs: number;
  batchSize: number;
  /** Deleted scenes older than this are purged (`config.scenes.deleteRetentionMs`). */
  sceneDeleteRetentionMs: number;
  /** Change feed rows older than this are deleted (`config.changes.retentionMs`); absent, they are kept. */
  changeRetentionMs?: number;
}): BackgroundJob<RetentionJobSummary> {
  return {
    name: 'retention',
    intervalMs: deps.intervalMs,
    run: ({ signal, progress }) => {
      let done = 0;
      const pass = runRetentionPass({
        sql: deps.sql,
        logger: deps.logger,
        metrics: deps.metrics,
        retentionMs: deps.retentionMs,
        batchSize: deps.batchSize,
        signal,
        onProgress: ({ sceneId, result }) => {
          done += 1;
          progress({ done, sceneId, detail: result instanceof Error ? `failed: ${result.message}` : `deleted ${result.deletedRows} rows${result.busy ? ' (busy)' : ''}` });
        },
      });
      return withDeletedScenesPurged(pass, {
        sql: deps.sql,
        sceneDeleteRetentionMs: deps.sceneDeleteRetentionMs,
        changeRetentionMs: deps.changeRetentionMs,
        batchSize: deps.batchSize,
        now: () => new Date(),
        signal,
        metrics: deps.metrics,
      });
    },
  };
}

interface RetentionArgs {
  /** Overrides RETENTION_DAYS for this run. */
  days?: number;
  json: boolean;
}

export function formatRetentionSummary(summary: RetentionJobSummary): string[] {
  return [
    `deleted scenes purged:           ${summary.deletedScenesPurged}`,
    `change feed rows deleted:        ${summary.changesDeleted}`,
    `scenes with expired merged rows: ${summary.scenesScanned}`,
    `scenes purged:                   ${summary.scenesPurged}`,
    `rows deleted:                    ${summary.deletedRows} (${(summary.deletedBytes / (1024 * 1024)).toFixed(3)} MB)`,
    `busy (other instance):           ${summary.scenesBusy}`,
    `failed scenes:                   ${summary.scenesFailed}`,
    `duration:                        ${(summary.durationMs / 1000).toFixed(1)} s${summary.aborted ? ' (stopped early)' : ''}`,
  ];
}

export const retentionCommand: JobCommand<RetentionArgs> = {
  name: 'retention',
  summary: 'delete log rows merged by compaction once they are older than RETENTION_DAYS (30)',
  usage: [
    'usage: npm run job -- retention [--days <n>] [--json]',
    '',
    '  --days <n>  keep merged rows younger than n days (default RETENTION_DAYS)',
    '  --json      print the result as JSON on stdout',
    '',
    'Only rows already merged into a compacted row are deleted; a load never reads them. History views',
    'before the retention period are no longer possible afterwards. Scenes deleted longer ago than',
    'SCENE_DELETE_RETENTION_DAYS (30) are purged with their logs; they can no longer be restored.',
  ].join('\n'),
  parse(argv) {
    const { values } = parseJobArgs(argv, { days: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
    let days: number | undefined;
    if (values.days !== undefined) {
      days = Number(values.days);
      if (!Number.isFinite(days) || days <= 0) throw new UsageError(`--days must be a positive number, got ${JSON.stringify(values.days)}`);
    }
    return { ...(days !== undefined ? { days } : {}), json: Boolean(values.json) };
  },
  async run(args, { database, config, logger, output, now }) {
    let last = 0;
    const pass = runRetentionPass({
      sql: database.sql,
      logger,
      retentionMs: args.days !== undefined ? args.days * 24 * 60 * 60 * 1000 : config.jobs.retention.retentionMs,
      batchSize: config.jobs.retention.batchSize,
      now,
      onProgress: ({ summary: s }) => {
        if (Date.now() - last < 1000) return;
        last = Date.now();
        output.progress(`retention: ${s.scenesScanned} scenes, ${s.deletedRows} rows deleted, ${s.scenesFailed} failed`);
      },
    });
    const summary = await withDeletedScenesPurged(pass, {
      sql: database.sql,
      sceneDeleteRetentionMs: config.scenes.deleteRetentionMs,
      changeRetentionMs: config.changes.retentionMs,
      batchSize: config.jobs.retention.batchSize,
      now,
    });
    output.progress(`retention: done, ${summary.deletedRows} rows deleted, ${summary.deletedScenesPurged} deleted scenes purged`);
    if (args.json) output.result(toJson(summary));
    else for (const line of formatRetentionSummary(summary)) output.result(line);
    return summary.scenesFailed > 0 ? EXIT.FAILED : EXIT.OK;
  },
};
