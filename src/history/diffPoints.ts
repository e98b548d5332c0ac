import type { SceneLog } from '../log/sceneLog.ts';
import type { CanonicalRestBlock } from '../screenplay/index.ts';
import { inlineYjsWork, type YjsWork } from '../workers/pool.ts';
import { diffBlocks, type BlockDiff } from './diff.ts';
import { HistoryError } from './errors.ts';
import type { HistoryPoint, HistoryPoints, PointState } from './points.ts';

/** `from` names a later point than `to`. */
export class PointsOutOfOrderError extends HistoryError {
  constructor(detail: string) {
    super(400, 'FROM_AFTER_TO', `"from" must not be later than "to" (${detail})`);
  }
}

/** One end of a diff: the point as asked, what it resolved to, and the blocks there. */
export interface DiffEnd {
  point: HistoryPoint;
  /** The newest update the content includes; null before the scene's first update. */
  seq: bigint | null;
  label: PointState['label'];
  blocks: CanonicalRestBlock[];
}

export interface SceneDiff {
  from: DiffEnd;
  to: DiffEnd;
  diff: BlockDiff;
}

export interface SceneDiffsConfiguration {
  points: Pick<HistoryPoints, 'stateOf'>;
  log: Pick<SceneLog, 'head'>;
  /** Where the states become blocks (the worker pool); default: this thread. */
  work?: Pick<YjsWork, 'blocksFromState'>;
}

/**
 * The difference between a scene's content at two points of its history (src/history/points.ts
 * resolves them: instants, seqs, labels). Both ends are exact states: a point whose updates
 * retention deleted is refused (410) by the resolver, never approximated, so a diff is either
 * right or not given.
 */
export class SceneDiffs {
  private readonly work: Pick<YjsWork, 'blocksFromState'>;

  constructor(private readonly configuration: SceneDiffsConfiguration) {
    this.work = configuration.work ?? inlineYjsWork;
  }

  /** `to` null: the scene now (its log's head). */
  async diff(sceneId: string, from: HistoryPoint, to: HistoryPoint | null): Promise<SceneDiff> {
    if (to !== null && 'at' in from && 'at' in to && from.at > to.at) {
      throw new PointsOutOfOrderError(`${from.at.toISOString()} is after ${to.at.toISOString()}`);
    }
    const toPoint: HistoryPoint = to ?? { seq: (await this.configuration.log.head(sceneId)) ?? 0n };
    const [older, newer] = await Promise.all([this.end(sceneId, from), this.end(sceneId, toPoint)]);
    if ((older.seq ?? 0n) > (newer.seq ?? 0n)) throw new PointsOutOfOrderError(`seq ${older.seq} is after seq ${newer.seq ?? 0}`);
    return { from: older, to: newer, diff: diffBlocks(older.blocks, newer.blocks) };
  }

  private async end(sceneId: string, point: HistoryPoint): Promise<DiffEnd> {
    const resolved = await this.configuration.points.stateOf(sceneId, point);
    const blocks = resolved.state === null ? [] : await this.work.blocksFromState(resolved.state);
    return { point, seq: resolved.seq, label: resolved.label, blocks };
  }
}
