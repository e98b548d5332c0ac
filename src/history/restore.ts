import type { ContentWriteResult, SceneContentWriter } from '../scenes/writer.ts';
import { inlineYjsWork, type YjsWork } from '../workers/pool.ts';
import type { HistoryPoint, HistoryPoints, PointState } from './points.ts';

export interface RestoreResult {
  /** The point restored and the seq it stands for. */
  from: PointState;
  write: ContentWriteResult;
}

export interface SceneRestorerConfiguration {
  points: HistoryPoints;
  /** The PATCH path: stores the change, then applies it to the live document. */
  writer: Pick<SceneContentWriter, 'write'>;
  /** Where the point's state is converted (the server's worker pool); default: this thread. */
  work?: Pick<YjsWork, 'blocksFromState'>;
}

/**
 * Brings a scene back to its content at a point of its history, as a forward change: the point's
 * state is converted to REST blocks and written like a PATCH without `base_seq` ("the scene
 * becomes this content"), which computes the minimal change from the live document, appends it
 * through the group commit queue and only then applies it, so connected editors see it at once.
 * Nothing in the log is rewritten; the restore is one more update, so it can be restored away
 * (restore the seq before it).
 *
 * Blocks, not TipTap JSON: the REST <-> TipTap <-> Yjs conversions are lossless for every
 * supported shape (DESIGN invariant 5), and the state -> blocks conversion is already a task of
 * the worker pool, so the restore's two Yjs steps (this conversion and the writer's change) both
 * run off the event loop with no new task kind. A state that cannot be converted losslessly is
 * refused (`ScreenplayConversionError`) rather than restored in part.
 */
export class SceneRestorer {
  private readonly work: Pick<YjsWork, 'blocksFromState'>;

  constructor(private readonly configuration: SceneRestorerConfiguration) {
    this.work = configuration.work ?? inlineYjsWork;
  }

  async restore(sceneId: string, point: HistoryPoint, userId: string): Promise<RestoreResult> {
    const from = await this.configuration.points.stateOf(sceneId, point);
    const blocks = from.state === null ? [] : await this.work.blocksFromState(from.state);
    const write = await this.configuration.writer.write(sceneId, userId, { blocks }, { kind: 'restore' });
    return { from, write };
  }
}
