// compaction (architecture 4.6 / 6.4): the scheduled compaction job, and its command (one pass, or
// one scene on demand).
import { compactScene, type CompactionResult } from '../src/log/compaction.ts';
import { runCompactionPass, type CompactionPassSummary, type CompactionThresholds } from '../src/log/compactionPass.ts';
import type { Replayer } from '../src/log/replay.ts';
import type { SqlExecutor } from '../src/db/sql.ts';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';
import { UnknownTargetError } from '../src/restCopy/errors.ts';
import { EXIT, parseJobArgs, parseUuid, type JobCommand, type JobOutput } from './command.ts';
import { toJson } from './format.ts';
import type { BackgroundJob } from './scheduler.ts';

export function compactionJob(deps: {
  sql: SqlExecutor;
  logger: Logger;
  metrics?: Metrics;
  intervalMs: number;
  thresholds: CompactionThresholds;
  /** Where the rows are merged (the server's worker pool); the locks and transactions stay here. */
  replayer?: Replayer;
}): BackgroundJob<CompactionPassSummary> {
  return {
    name: 'compaction',
    intervalMs: deps.intervalMs,
    run: ({ signal, progress, pace }) => {
      let done = 0;
      return runCompactionPass({
        sql: deps.sql,
        logger: deps.logger,
        metrics: deps.metrics,
        thresholds: deps.thresholds,
        replayer: deps.replayer,
        signal,
        pace,
        onProgress: ({ sceneId, result, summary }) => {
          done += 1;
          const detail =
            result instanceof Error
              ? `failed: ${result.message}`
              : result.status === 'compacted'
                ? `compacted (${summary.rowsMerged} rows merged so far)`
                : `skipped: ${result.reason}`;
          progress({ done, sceneId, detail });
        },
      });
    },
  };
}

interface CompactionArgs {
  sceneId?: string;
  json: boolean;
}

/** Prints a progress line at most every this many milliseconds (and at the end). */
const PROGRESS_EVERY_MS = 1000;

export function formatCompactionSummary(summary: CompactionPassSummary): string[] {
  const mb = (bytes: number) => (bytes / (1024 * 1024)).toFixed(3);
  return [
    `scenes scanned:     ${summary.scenesScanned}`,
    `scenes compacted:   ${summary.scenesCompacted} (${summary.compactions} compacted rows written)`,
    `rows merged:        ${summary.rowsMerged}`,
    `merged bytes:       ${mb(summary.bytesBefore)} MB -> ${mb(summary.bytesAfter)} MB`,
    `busy (other inst.): ${summary.scenesBusy}`,
    `undecodable rows:   ${summary.undecodableRows} (left live; quarantined when the scene loads)`,
    `failed scenes:      ${summary.scenesFailed}`,
    `duration:           ${(summary.durationMs / 1000).toFixed(1)} s${summary.aborted ? ' (stopped early)' : ''}`,
  ];
}

function describeResult(result: CompactionResult): string {
  if (result.status === 'skipped') return `${result.sceneId}: skipped (${result.reason})${result.undecodable ? `, ${result.undecodable} undecodable rows left live` : ''}`;
  return `${result.sceneId}: merged ${result.mergedRows} rows (${result.mergedUpdates} updates, ${result.bytesBefore} -> ${result.bytesAfter} bytes) into seq ${result.seq}`;
}

function throttled(output: JobOutput): (line: string, force?: boolean) => void {
  let last = 0;
  return (line, force = false) => {
    const now = Date.now();
    if (!force && now - last < PROGRESS_EVERY_MS) return;
    last = now;
    output.progress(line);
  };
}

export const compactionCommand: JobCommand<CompactionArgs> = {
  name: 'compaction',
  summary: 'merge old or long Yjs logs into compacted rows (marks the originals; retention deletes them later)',
  usage: [
    'usage: npm run job -- compaction [--scene <uuid>] [--json]',
    '',
    '  (no option)     one pass over every scene: those with COMPACTION_MIN_UPDATES live updates older than',
    '                  COMPACTION_MIN_AGE_HOURS, or COMPACTION_HOT_LIVE_ROWS live rows of any age',
    '  --scene <uuid>  compact this scene\'s whole live log now, whatever the thresholds',
    '  --json          print the result as JSON on stdout',
    '',
    'Safe while the server runs and editors type: appends during a compaction stay live, and a scene',
    'another instance is compacting is skipped (busy).',
  ].join('\n'),
  parse(argv) {
    const { values } = parseJobArgs(argv, { scene: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
    const sceneId = values.scene === undefined ? undefined : parseUuid(values.scene as string, '--scene');
    return { ...(sceneId ? { sceneId } : {}), json: Boolean(values.json) };
  },
  async run(args, { database, config, logger, output }) {
    const sql = database.sql;
    if (args.sceneId) {
      const exists = await sql.query('job_scene_exists', 'SELECT 1 AS one FROM scenes WHERE scene_id = $1::uuid', [args.sceneId]);
      if (exists.length === 0) throw new UnknownTargetError('scene', args.sceneId);
      const results: CompactionResult[] = [];
      for (;;) {
        const result = await compactScene(sql, args.sceneId, { wait: true, maxRows: config.jobs.compaction.maxRowsPerCompaction });
        results.push(result);
        output.progress(describeResult(result));
        if (result.status !== 'compacted' || !result.truncated) break;
      }
      if (args.json) output.result(toJson(results));
      else output.result(describeResult(results[results.length - 1]!));
      return EXIT.OK;
    }

    const progress = throttled(output);
    let done = 0;
    const summary = await runCompactionPass({
      sql,
      logger,
      thresholds: config.jobs.compaction,
      onProgress: ({ summary: s }) => {
        done += 1;
        progress(`compaction: ${done} scenes worked on, ${s.scenesCompacted} compacted, ${s.rowsMerged} rows merged, ${s.scenesFailed} failed`);
      },
    });
    progress(`compaction: done, ${summary.scenesScanned} scenes scanned`, true);
    if (args.json) output.result(toJson(summary));
    else for (const line of formatCompactionSummary(summary)) output.result(line);
    return summary.scenesFailed > 0 ? EXIT.FAILED : EXIT.OK;
  },
};
