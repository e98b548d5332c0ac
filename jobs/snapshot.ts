// snapshot (architecture 4.3 / 6.3): the scheduled snapshot job, and its command (one pass, or one
// scene on demand).
import { UnknownTargetError } from '../src/restCopy/errors.ts';
import type { Database } from '../src/db/client.ts';
import { SceneNotFoundError } from '../src/errors.ts';
import { SceneLog } from '../src/log/sceneLog.ts';
import type { Logger } from '../src/logger.ts';
import { createMetrics } from '../src/metrics.ts';
import { jobLocksFor, LOCK_NAMESPACES, type JobLocks } from '../src/db/locks.ts';
import { SnapshotService } from '../src/restCopy/snapshots.ts';
import { EXIT, parseJobArgs, parseUuid, type JobCommand } from './command.ts';
import { toJson } from './format.ts';
import { fullSpeed } from './pacing.ts';
import type { BackgroundJob, JobContext } from './scheduler.ts';

export interface SnapshotPassSummary {
  scenesDue: number;
  written: number;
  /** Another writer had already stored the same or a newer state. */
  superseded: number;
  /** Another instance was snapshotting the scene at that moment. */
  busy: number;
  failed: number;
  aborted: boolean;
}

/** Scenes listed per query; the pass continues until no scene it has not tried is due. */
const SNAPSHOT_PAGE = 100;

/**
 * Section 6.3: every `intervalMs`, scenes whose REST copy is older than the interval and behind
 * their log get a new snapshot. The snapshot write is itself guarded by `snapshot_seq` (it never
 * goes backwards); the lock only keeps two instances from deriving the same scene twice.
 */
export function snapshotJob(deps: { snapshots: SnapshotService; locks: JobLocks; logger: Logger; intervalMs: number; now?: () => Date }): BackgroundJob<SnapshotPassSummary> {
  const now = deps.now ?? (() => new Date());
  return {
    name: 'snapshot',
    intervalMs: deps.intervalMs,
    async run({ signal, progress, pace }: JobContext) {
      const summary: SnapshotPassSummary = { scenesDue: 0, written: 0, superseded: 0, busy: 0, failed: 0, aborted: false };
      const olderThan = new Date(now().getTime() - deps.snapshots.intervalMs);
      const tried = new Set<string>();
      for (;;) {
        // Scenes that failed or were busy come back in the next page; `tried` keeps the pass finite.
        const due = (await deps.snapshots.scenesNeedingSnapshot(olderThan, SNAPSHOT_PAGE)).filter((scene) => !tried.has(scene.sceneId));
        if (due.length === 0) break;
        for (const scene of due) {
          if (signal.aborted) {
            summary.aborted = true;
            return summary;
          }
          tried.add(scene.sceneId);
          summary.scenesDue += 1;
          let detail: string;
          try {
            const run = await deps.locks.withLock(LOCK_NAMESPACES.snapshot, scene.sceneId, () => deps.snapshots.snapshotScene(scene.sceneId, { trigger: 'yjs' }));
            if (!run.acquired) {
              summary.busy += 1;
              detail = 'busy';
            } else if (run.value.status === 'written') {
              summary.written += 1;
              detail = `written at seq ${run.value.seq}`;
            } else {
              summary.superseded += 1;
              detail = run.value.status;
            }
          } catch (error) {
            summary.failed += 1;
            detail = `failed: ${error instanceof Error ? error.message : String(error)}`;
            deps.logger.error({ err: error, sceneId: scene.sceneId }, 'snapshot of a scene failed; the pass goes on');
          }
          progress({ done: summary.scenesDue, sceneId: scene.sceneId, detail });
          await pace();
        }
      }
      return summary;
    },
  };
}

interface SnapshotArgs {
  sceneId?: string;
  json: boolean;
}

function snapshotService(database: Database, logger: Logger, intervalMs: number): SnapshotService {
  return new SnapshotService({
    prisma: database.prisma,
    sceneLog: new SceneLog(database.sql),
    metrics: createMetrics({ defaultMetrics: false }),
    logger,
    intervalMs,
  });
}

export function formatSnapshotSummary(summary: SnapshotPassSummary): string[] {
  return [
    `scenes due:            ${summary.scenesDue}`,
    `snapshots written:     ${summary.written}`,
    `already current:       ${summary.superseded}`,
    `busy (other instance): ${summary.busy}`,
    `failed:                ${summary.failed}${summary.aborted ? ' (stopped early)' : ''}`,
  ];
}

export const snapshotCommand: JobCommand<SnapshotArgs> = {
  name: 'snapshot',
  summary: 'derive the REST copy (scenes.content_blocks) of scenes whose snapshot is older than SNAPSHOT_INTERVAL_MS',
  usage: [
    'usage: npm run job -- snapshot [--scene <uuid>] [--json]',
    '',
    '  (no option)     one pass: every scene with updates newer than its REST copy whose snapshot is older',
    '                  than SNAPSHOT_INTERVAL_MS (or missing), those waiting longest first',
    '  --scene <uuid>  snapshot this scene now, whatever the age of its snapshot',
    '  --json          print the result as JSON on stdout',
    '',
    'A snapshot never replaces a REST copy derived from a newer state of the log.',
  ].join('\n'),
  parse(argv) {
    const { values } = parseJobArgs(argv, { scene: { type: 'string' }, json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
    const sceneId = values.scene === undefined ? undefined : parseUuid(values.scene as string, '--scene');
    return { ...(sceneId ? { sceneId } : {}), json: Boolean(values.json) };
  },
  async run(args, { database, config, logger, output, now }) {
    const snapshots = snapshotService(database, logger, config.snapshots.intervalMs);
    if (args.sceneId) {
      let outcome;
      try {
        outcome = await snapshots.snapshotScene(args.sceneId, { trigger: 'manual' });
      } catch (error) {
        if (error instanceof SceneNotFoundError) throw new UnknownTargetError('scene', args.sceneId);
        throw error;
      }
      if (args.json) output.result(toJson(outcome.status === 'written' ? { ...outcome, blocks: outcome.blocks.length } : outcome));
      else output.result(outcome.status === 'written' ? `${args.sceneId}: written at seq ${outcome.seq} (${outcome.blocks.length} blocks)` : `${args.sceneId}: ${outcome.status}`);
      return EXIT.OK;
    }
    let last = 0;
    const job = snapshotJob({ snapshots, locks: jobLocksFor(database.sql, database.kind), logger, intervalMs: config.snapshots.intervalMs, now });
    const summary = await job.run({
      signal: new AbortController().signal,
      pace: fullSpeed,
      progress: ({ done }) => {
        if (Date.now() - last < 1000) return;
        last = Date.now();
        output.progress(`snapshot: ${done} scenes done`);
      },
    });
    output.progress(`snapshot: done, ${summary.written} written`);
    if (args.json) output.result(toJson(summary));
    else for (const line of formatSnapshotSummary(summary)) output.result(line);
    return summary.failed > 0 ? EXIT.FAILED : EXIT.OK;
  },
};
