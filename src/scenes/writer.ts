import type { Hocuspocus } from '@hocuspocus/server';
import * as Y from 'yjs';
import { alreadyStoredOrigin } from '../collab/origins.ts';
import type { GroupCommitQueue } from '../log/groupCommit.ts';
import type { ChangeKind } from '../log/changes.ts';
import { AlreadyInLog, type AppendedVersion, type SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { inlineYjsWork, type YjsWork } from '../workers/pool.ts';
import type { SceneContentInput } from '../workers/tasks.ts';

export type { SceneContentInput } from '../workers/tasks.ts';

export type ContentWriteResult = { changed: false } | { changed: true; appended: AppendedVersion };

/** `base_seq` names a state the log never reached. */
export class BaseSeqAheadError extends Error {
  readonly code = 'BASE_SEQ_AHEAD';
  constructor(
    readonly baseSeq: bigint,
    readonly latestSeq: bigint | null,
  ) {
    super(`base_seq ${baseSeq} is ahead of the scene's log (latest seq ${latestSeq ?? 'none'})`);
    this.name = 'BaseSeqAheadError';
  }
}

export interface SceneContentWriterConfiguration {
  sceneLog: SceneLog;
  hocuspocus: Hocuspocus;
  queue: GroupCommitQueue;
  metrics: Metrics;
  logger: Logger;
  /** Where the base is replayed and the change computed (the server's worker pool); default: this thread. */
  work?: YjsWork;
}

/**
 * Applies content sent over HTTP to a scene's live document as a minimal change, the way an
 * editor's own edit is applied: stored first, then applied and broadcast.
 *
 * The change is computed on a scratch document (y-prosemirror's `updateYFragment`, which touches
 * only what differs), appended to the log through the same group commit queue as every client
 * update, and only once committed applied to the live document with an origin that tells the
 * append-log extension it is already stored. Connected editors see it at once, the response can
 * name the sequence number the change got, and nothing that is not on disk is ever broadcast.
 * (Applying to the live document first and storing the change from a hook afterwards would
 * broadcast it before the commit; the append-log extension stores nothing from `onChange`.)
 *
 * What the scratch document starts from decides what the PATCH means:
 * - with `baseSeq` (the `seq` of the read the client edited), the scene as it was at that seq: the
 *   update is exactly the client's edit, and it merges with everything committed since like an
 *   editor that was offline since then, so concurrent typing anywhere survives;
 * - without it, the live document: the scene becomes the sent content, overwriting what the
 *   server already had where the content says otherwise.
 */
export class SceneContentWriter {
  private readonly configuration: Required<SceneContentWriterConfiguration>;

  constructor(configuration: SceneContentWriterConfiguration) {
    this.configuration = { ...configuration, work: configuration.work ?? inlineYjsWork };
  }

  /** `kind` is how the change reads in the change feed: `patch` (default), `restore` or `import`. */
  async write(sceneId: string, userId: string, input: SceneContentInput, options: { baseSeq?: bigint; kind?: ChangeKind } = {}): Promise<ContentWriteResult> {
    const { sceneLog, hocuspocus, queue, metrics, logger, work } = this.configuration;
    // A direct connection loads the scene (replaying the log, and seeding it if that is due) when
    // no editor has it open, and keeps it loaded until the change has been applied.
    const connection = await hocuspocus.openDirectConnection(sceneId, { userId });
    try {
      const live = connection.document!;
      let base: Uint8Array;
      if (options.baseSeq === undefined) {
        base = Y.encodeStateAsUpdate(live);
      } else {
        const head = await sceneLog.head(sceneId);
        if (head === null || options.baseSeq > head) throw new BaseSeqAheadError(options.baseSeq, head);
        base = await sceneLog.history.stateAtSeq(sceneId, options.baseSeq);
      }
      // Computed off this thread in the server; the live document may take editors' updates
      // meanwhile, which merge with this change as with any concurrent edit.
      const update = await work.contentUpdate(base, input);
      if (update === null) return { changed: false };
      const appended = await queue.append({ sceneId, update, createdBy: userId, kind: options.kind ?? 'patch' });
      // The update comes from a fresh client id, so the log cannot hold it already; if it did, it
      // would have nothing to store, and the live document would still take it.
      if (appended instanceof AlreadyInLog) {
        Y.applyUpdate(live, update, alreadyStoredOrigin({ userId }));
        return { changed: false };
      }
      metrics.updatesAppended.inc({ origin: 'server' });
      Y.applyUpdate(live, update, alreadyStoredOrigin({ userId }));
      logger.info(
        { sceneId, userId, seq: appended.seq.toString(), baseSeq: options.baseSeq?.toString() ?? null, bytes: update.byteLength },
        'scene content written over HTTP',
      );
      return { changed: true, appended };
    } finally {
      await connection.disconnect();
    }
  }
}
