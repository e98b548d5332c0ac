import type { SqlExecutor } from '../db/sql.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { compactScene, type CompactionResult } from './compaction.ts';
import type { Replayer } from './replay.ts';
import { FIRST_SCENE, type Numeric } from './rows.ts';

/** When a scene is compacted (architecture 4.6, plus a trigger for busy scenes). */
export interface CompactionThresholds {
  /** Age trigger: at least this many live updates older than `minAgeMs` (`COMPACTION_MIN_UPDATES`). */
  minUpdates: number;
  /** Age trigger: how old an update must be to be merged by it (`COMPACTION_MIN_AGE_HOURS`). */
  minAgeMs: number;
  /**
   * Hot-scene trigger: this many live rows or more, whatever their age, are all merged, so a scene
   * edited all day never needs a longer replay than this to load.
   */
  hotLiveRows: number;
  /** Rows merged by one compaction at most; a longer tail takes several in the same pass. */
  maxRowsPerCompaction: number;
}

export interface SceneLogShape {
  /** Live rows (a load replays them), counted up to `hotLiveRows`. */
  liveRows: number;
  /** Live original updates older than `minAgeMs`, counted up to `minUpdates`. */
  oldUpdates: number;
}

export type CompactionTrigger = 'hot' | 'age';

/**
 * Which trigger applies to a scene, if any. Hot wins: it merges everything live, a superset of
 * what the age trigger would merge.
 */
export function compactionTrigger(shape: SceneLogShape, thresholds: CompactionThresholds): CompactionTrigger | null {
  if (shape.liveRows >= thresholds.hotLiveRows && shape.liveRows >= 2) return 'hot';
  if (shape.oldUpdates >= thresholds.minUpdates && shape.liveRows >= 2) return 'age';
  return null;
}

export interface CompactionCandidate extends SceneLogShape {
  sceneId: string;
  trigger: CompactionTrigger;
}

// Both counts stop at their threshold (LIMIT inside), so a scene with a long log costs no more
// than the threshold in index entries; the (scene_id, compacted_by, seq) index serves both.
const SCENE_SHAPES_SQL = `
  SELECT h.scene_id,
         (SELECT count(*) FROM (SELECT 1 FROM scene_versions v
            WHERE v.scene_id = h.scene_id AND v.compacted_by IS NULL
            LIMIT $3) AS live) AS live_rows,
         (SELECT count(*) FROM (SELECT 1 FROM scene_versions v
            WHERE v.scene_id = h.scene_id AND v.compacted_by IS NULL AND v.is_compacted = false AND v.created_at < $4
            LIMIT $5) AS old) AS old_updates
  FROM scene_log_heads h
  WHERE h.scene_id > $1::uuid AND h.last_seq > 1
  ORDER BY h.scene_id
  LIMIT $2`;

/**
 * One page of scenes after `after` (by id), with the trigger that applies to each; `next` is the
 * cursor for the following page, null after the last.
 */
export async function findCompactionCandidates(
  sql: SqlExecutor,
  options: { thresholds: CompactionThresholds; now: Date; after?: string; pageSize?: number },
): Promise<{ candidates: CompactionCandidate[]; scanned: number; next: string | null }> {
  const { thresholds, now } = options;
  const pageSize = options.pageSize ?? 500;
  const rows = await sql.query<{ scene_id: string; live_rows: Numeric; old_updates: Numeric }>(
    'compaction_scene_shapes',
    SCENE_SHAPES_SQL,
    [options.after ?? FIRST_SCENE, pageSize, thresholds.hotLiveRows, new Date(now.getTime() - thresholds.minAgeMs), thresholds.minUpdates],
  );
  const candidates: CompactionCandidate[] = [];
  for (const row of rows) {
    const shape = { liveRows: Number(row.live_rows), oldUpdates: Number(row.old_updates) };
    const trigger = compactionTrigger(shape, thresholds);
    if (trigger) candidates.push({ sceneId: row.scene_id, trigger, ...shape });
  }
  return { candidates, scanned: rows.length, next: rows.length === pageSize ? rows[rows.length - 1]!.scene_id : null };
}

export interface CompactionPassSummary {
  scenesScanned: number;
  scenesCompacted: number;
  /** Compacted rows written (a long tail takes several per scene). */
  compactions: number;
  rowsMerged: number;
  bytesBefore: number;
  bytesAfter: number;
  /** Scenes another instance was compacting at that moment. */
  scenesBusy: number;
  scenesFailed: number;
  /** Rows left live because they do not decode (the load path quarantines them). */
  undecodableRows: number;
  durationMs: number;
  /** The pass stopped early because it was asked to (shutdown). */
  aborted: boolean;
}

export interface CompactionPassOptions {
  sql: SqlExecutor;
  logger: Logger;
  /** `config.jobs.compaction`. */
  thresholds: CompactionThresholds;
  metrics?: Pick<Metrics, 'compactions' | 'compactionRowsMerged'>;
  /** Where the rows are merged (`CompactSceneOptions.replayer`). */
  replayer?: Replayer;
  now?: () => Date;
  signal?: AbortSignal;
  /**
   * Scenes compacted at the same time (2): replaying one scene overlaps with the database writing
   * another's marks. On PGlite transactions queue on its one connection anyway.
   */
  concurrency?: number;
  /**
   * Called between two compactions and between the chunks of one compaction's marks: the job
   * scheduler's duty cycle (jobs/pacing.ts) waits there, so a pass never holds the database and a
   * worker thread for long at a stretch. Default: no wait.
   */
  pace?: () => Promise<void>;
  /** Called after each scene the pass worked on. */
  onProgress?: (progress: { summary: CompactionPassSummary; sceneId: string; result: CompactionResult | Error }) => void;
}

/** Safety bound on compactions of one scene in one pass (each merges up to `maxRowsPerCompaction`). */
const MAX_COMPACTIONS_PER_SCENE = 100;

/**
 * One pass over every scene: compacts those a trigger applies to. A scene that fails is logged and
 * skipped; the pass goes on. A scene another instance is compacting is skipped (busy).
 */
export async function runCompactionPass(options: CompactionPassOptions): Promise<CompactionPassSummary> {
  const { sql, logger, metrics, signal, thresholds } = options;
  const now = options.now ?? (() => new Date());
  const started = Date.now();
  const summary: CompactionPassSummary = {
    scenesScanned: 0,
    scenesCompacted: 0,
    compactions: 0,
    rowsMerged: 0,
    bytesBefore: 0,
    bytesAfter: 0,
    scenesBusy: 0,
    scenesFailed: 0,
    undecodableRows: 0,
    durationMs: 0,
    aborted: false,
  };

  const concurrency = Math.max(1, options.concurrency ?? 2);
  let after: string | undefined;
  for (;;) {
    const page = await findCompactionCandidates(sql, { thresholds, now: now(), after, pageSize: 500 });
    summary.scenesScanned += page.scanned;
    const queue = [...page.candidates];
    const worker = async () => {
      for (let candidate = queue.shift(); candidate; candidate = queue.shift()) {
        if (signal?.aborted) {
          summary.aborted = true;
          return;
        }
        const result = await compactCandidate(sql, candidate, { thresholds, now, summary, logger, metrics, replayer: options.replayer, pace: options.pace });
        options.onProgress?.({ summary, sceneId: candidate.sceneId, result });
        await options.pace?.();
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    if (summary.aborted || page.next === null) break;
    after = page.next;
  }
  summary.durationMs = Date.now() - started;
  return summary;
}

async function compactCandidate(
  sql: SqlExecutor,
  candidate: CompactionCandidate,
  context: Pick<CompactionPassOptions, 'thresholds' | 'logger' | 'metrics' | 'replayer' | 'pace'> & { now: () => Date; summary: CompactionPassSummary },
): Promise<CompactionResult | Error> {
  const { thresholds, now, summary, logger, metrics, replayer, pace } = context;
  // The age bound is fixed once per scene so successive compactions of a long tail agree on it.
  const createdBefore = candidate.trigger === 'age' ? new Date(now().getTime() - thresholds.minAgeMs) : undefined;
  let last: CompactionResult | Error | undefined;
  let compactedAny = false;
  try {
    for (let round = 0; round < MAX_COMPACTIONS_PER_SCENE; round += 1) {
      const result = await compactScene(sql, candidate.sceneId, { createdBefore, maxRows: thresholds.maxRowsPerCompaction, replayer, pace });
      last = result;
      summary.undecodableRows += result.undecodable;
      if (result.status === 'skipped') {
        if (result.reason === 'busy') summary.scenesBusy += 1;
        metrics?.compactions.inc({ result: result.reason });
        break;
      }
      compactedAny = true;
      summary.compactions += 1;
      summary.rowsMerged += result.mergedRows;
      summary.bytesBefore += result.bytesBefore;
      summary.bytesAfter += result.bytesAfter;
      metrics?.compactions.inc({ result: 'compacted' });
      metrics?.compactionRowsMerged.inc(result.mergedRows);
      logger.debug(
        { sceneId: candidate.sceneId, trigger: candidate.trigger, rows: result.mergedRows, seq: result.seq.toString(), bytesBefore: result.bytesBefore, bytesAfter: result.bytesAfter },
        'scene compacted',
      );
      if (result.hasGap) {
        logger.warn({ sceneId: candidate.sceneId, seq: result.seq.toString() }, 'compacted rows wait for updates missing from the log; kept as pending in the compacted row');
      }
      if (!result.truncated) break;
      await pace?.();
    }
  } catch (error) {
    summary.scenesFailed += 1;
    metrics?.compactions.inc({ result: 'failed' });
    logger.error({ err: error, sceneId: candidate.sceneId }, 'compaction of a scene failed; the pass goes on');
    last = error instanceof Error ? error : new Error(String(error));
  }
  if (compactedAny) summary.scenesCompacted += 1;
  return last!;
}
