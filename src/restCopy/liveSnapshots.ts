import { performance } from 'node:perf_hooks';
import type * as Y from 'yjs';
import type { SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { ScreenplayConversionError } from '../screenplay/index.ts';
import { committedLiveState } from '../scenes/sceneState.ts';
import type { YjsWork } from '../workers/pool.ts';
import type { SnapshotService } from './snapshots.ts';

/**
 * What became of one live document's snapshot; also the label of
 * `rest_copy_follower_snapshots_total{result}`.
 */
export type LiveSnapshotResult =
  /** The REST copy now holds the document's state, at the sequence number it provably is. */
  | 'written'
  /** The REST copy already stood at that sequence number or a newer one: nothing converted. */
  | 'current'
  /** Another writer (the job, another instance) wrote the same or a newer state first. */
  | 'superseded'
  /** The document could not be shown to be the log's state at any sequence number (it lags, or has a gap). */
  | 'unproven'
  /** The state cannot be converted to REST blocks without loss; the REST copy is left alone. */
  | 'unconvertible'
  /** The database or the worker pool failed; the snapshot job picks the scene up later. */
  | 'failed';

export interface LiveSnapshotOutcome {
  result: LiveSnapshotResult;
  sceneId: string;
  /** The sequence number the document was proven to be; null when unproven (or failed before). */
  seq: bigint | null;
}

export interface LiveSnapshotWriterConfiguration {
  sceneLog: SceneLog;
  snapshots: SnapshotService;
  /** Where the conversion runs (the server's worker pool). */
  work: Pick<YjsWork, 'restCopyFromState'>;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Writes a scene's REST copy from its document in memory, so the copy follows the live scene
 * instead of waiting for the snapshot job (`extensions/RestCopyFollower.ts` calls it from
 * Hocuspocus's debounced `onStoreDocument`).
 *
 * A document may only stand for the log state it provably is: its state is encoded and its
 * Yjs snapshot taken in one synchronous step, then checked against the newest rows of the log
 * (`committedLiveState`, the proof the reader's `live_document` origin uses), which names the
 * sequence number S whose content it is exactly. The conversion runs in the worker pool; the write
 * is `SnapshotService.writeSnapshot`, guarded on `snapshot_seq`, so a document that lags another
 * writer (an older state on another instance, a job that read the log later) can never move the
 * copy back. Nothing here throws: a snapshot that cannot be written is counted, logged and left to
 * the snapshot job, so a failure never keeps Hocuspocus from unloading the scene.
 */
export class LiveSnapshotWriter {
  private readonly configuration: LiveSnapshotWriterConfiguration;

  constructor(configuration: LiveSnapshotWriterConfiguration) {
    this.configuration = { ...configuration };
  }

  async snapshotDocument(sceneId: string, doc: Y.Doc): Promise<LiveSnapshotOutcome> {
    const outcome = await this.attempt(sceneId, doc);
    this.configuration.metrics.restCopyFollowerSnapshots.inc({ result: outcome.result });
    return outcome;
  }

  private async attempt(sceneId: string, doc: Y.Doc): Promise<LiveSnapshotOutcome> {
    const { sceneLog, snapshots, work, logger } = this.configuration;
    const started = performance.now();
    let seq: bigint | null = null;
    try {
      const live = await committedLiveState(sceneLog, sceneId, doc);
      if (live === null) {
        logger.debug({ sceneId }, 'live document not provably a committed state; left to the snapshot job');
        return { result: 'unproven', sceneId, seq };
      }
      seq = live.seq;
      // A store that follows another instance's (or a PATCH's) snapshot of the same state would
      // only be superseded: skip the conversion.
      const stored = await snapshots.snapshotSeq(sceneId);
      if (stored !== null && stored >= live.seq) return { result: 'current', sceneId, seq };
      const restCopy = await work.restCopyFromState(live.state);
      const written = await snapshots.writeSnapshot(
        sceneId,
        { ...live, blocks: restCopy.blocks, hasGap: false, undecodable: 0 },
        { trigger: 'yjs', startedAt: started, encoded: restCopy },
      );
      return { result: written.status === 'written' ? 'written' : 'superseded', sceneId, seq };
    } catch (error) {
      if (error instanceof ScreenplayConversionError) {
        logger.warn({ err: error, sceneId, seq: seq?.toString() }, 'live document not convertible to REST blocks; REST copy left alone');
        return { result: 'unconvertible', sceneId, seq };
      }
      logger.error({ err: error, sceneId, seq: seq?.toString() }, 'live snapshot failed; left to the snapshot job');
      return { result: 'failed', sceneId, seq };
    }
  }
}
