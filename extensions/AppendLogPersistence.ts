import type {
  Connection,
  connectedPayload,
  Extension,
  afterLoadDocumentPayload,
  afterUnloadDocumentPayload,
  beforeSyncPayload,
  onChangePayload,
  onLoadDocumentPayload,
  onStoreDocumentPayload,
} from '@hocuspocus/server';
import * as Y from 'yjs';
import { PayloadMap, readContentFrame, SYNC_STEP_2, SYNC_UPDATE } from '../src/collab/intake.ts';
import { classifyOrigin, userIdOfOrigin, type ConnectionContext } from '../src/collab/origins.ts';
import { coalesceWritesThisTurn } from '../src/collab/writeCoalescing.ts';
import type { UpdateMeta } from '../src/guards/updateValidation.ts';
import type { Logger } from '../src/logger.ts';
import { isEmptyUpdate, updateAddsNothing } from '../src/log/containment.ts';
import type { GroupCommitQueue } from '../src/log/groupCommit.ts';
import { CheckedLogs } from '../src/log/checkedLogs.ts';
import { allSound, applyAll, hasMissingDependencies, replayUpdates, type ReplayResult } from '../src/log/replay.ts';
import type { AppendedVersion, SceneLog } from '../src/log/sceneLog.ts';
import type { Metrics } from '../src/metrics.ts';

export interface AppendLogPersistenceConfiguration {
  log: SceneLog;
  queue: GroupCommitQueue;
  metrics: Metrics;
  logger: Logger;
  /** The update guards (`extensions/UpdateGuards.ts`); without them nothing is written before `beforeSync`. */
  guards?: AdmissionGuards;
}

/** What the append log asks the update guards about a content message. */
export interface AdmissionGuards {
  /**
   * The verdict, asked when the frame arrives: the update's meta when admitted, null when refused.
   * Only admitted messages are written early.
   */
  admit(connection: Connection<ConnectionContext>, payload: Uint8Array): UpdateMeta | null;
  /** The meta of a message the guards admitted in their own `beforeSync`, once. */
  metaOf(payload: Uint8Array): UpdateMeta | undefined;
}

/** An append started when the frame arrived, awaited when Hocuspocus processes the message. */
interface EarlyAppend {
  write: Promise<AppendedVersion>;
  stopTimer: () => void;
}

/** Close code for "your update was not stored, reconnect": the provider reconnects and resends. */
export const PERSISTENCE_UNAVAILABLE = { code: 4500, reason: 'persistence-unavailable: the update was not stored; reconnect and retry' };

/** Thrown from a hook to refuse a connection; Hocuspocus sends `reason` to the provider. */
export class SceneLoadError extends Error {
  readonly code = 'SCENE_LOAD_FAILED';
  readonly reason: string;
  constructor(sceneId: string, options: { cause?: unknown }) {
    super(`Scene ${sceneId} could not be loaded from the log`, options);
    this.name = 'SceneLoadError';
    this.reason = 'scene-load-failed: the scene could not be read from the database; retry shortly';
  }
}

/**
 * Makes the append-only log in `scene_versions` the document store.
 *
 * Client updates are appended in `beforeSync`, which Hocuspocus awaits before it applies,
 * broadcasts and acknowledges the message: an acknowledged edit is on disk.
 *
 * Hocuspocus processes one connection's messages one after another, so waiting for each commit in
 * turn would let a connection contribute one update per group commit. Instead the append starts
 * when the frame arrives (after the guards admitted it) and `beforeSync` awaits that same append:
 * every update already on the wire joins the next INSERT, and the acknowledgement still waits for
 * its own commit. Changes the server makes itself are appended from `onChange`. Loading replays
 * the log; a row that cannot be decoded is quarantined rather than allowed to blank the scene.
 */
export class AppendLogPersistence implements Extension {
  extensionName = 'AppendLogPersistence';

  // Runs before every other extension's load hook, so seeding and validation see the replayed
  // document.
  priority = 1000;

  private readonly configuration: AppendLogPersistenceConfiguration;

  /** Appends started when their frame arrived, by message. */
  private readonly early = new PayloadMap<EarlyAppend>();

  /** What earlier loads checked, so reopening a scene checks only what was appended since. */
  private readonly checked = new CheckedLogs();

  /** Appends of server-side changes not yet committed, per scene; `onStoreDocument` waits for them. */
  private readonly serverWrites = new Map<string, Set<Promise<unknown>>>();

  constructor(configuration: AppendLogPersistenceConfiguration) {
    this.configuration = configuration;
  }

  /**
   * Replays the scene's log into the live document. When every stored update passes the guards'
   * check (the usual case) they are applied straight to `document`, in log order; otherwise the
   * rows are replayed in a scratch document that leaves the bad ones out, and those are
   * quarantined. Updates an earlier load checked, byte for byte the same, are not checked again.
   */
  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    const { log, metrics } = this.configuration;
    const stopTimer = metrics.sceneLoadTime.startTimer();
    let updates: Uint8Array[];
    let packed: Uint8Array;
    try {
      ({ updates, packed } = await log.loadUpdates(documentName));
    } catch (error) {
      throw this.loadFailed(documentName, error);
    }
    const alreadyChecked = this.checked.checkedPrefix(documentName, packed);
    metrics.loadRowsChecked.inc(updates.length - alreadyChecked);
    this.checked.forget(documentName);
    if (allSound(updates, alreadyChecked)) {
      try {
        applyAll(document, updates);
        this.checked.remember(documentName, packed, updates.length);
      } catch (error) {
        // An update passed the check and still threw: this document holds part of it and is
        // never served (Hocuspocus discards a document whose load fails). The scratch replay
        // finds and quarantines the update, so the editor's retry loads the rest.
        await this.replayAndQuarantine(documentName).catch(() => undefined);
        throw this.loadFailed(documentName, error);
      }
      if (hasMissingDependencies(document)) this.reportGap(documentName, updates.length);
    } else {
      let result: ReplayResult;
      try {
        result = await this.replayAndQuarantine(documentName);
      } catch (error) {
        throw this.loadFailed(documentName, error);
      }
      if (result.hasGap) this.reportGap(documentName, result.applied + result.undecodable.length);
      // Applied before Hocuspocus registers its update handler, so this replay reaches no hook.
      Y.applyUpdate(document, result.state);
    }
    stopTimer();
  }

  /** Rebuilds the scene from its rows in a scratch document and moves the rows that fail to quarantine. */
  private async replayAndQuarantine(sceneId: string): Promise<ReplayResult> {
    const { log, metrics, logger } = this.configuration;
    const result = replayUpdates(await log.load(sceneId));
    for (const bad of result.undecodable) {
      metrics.quarantinedUpdates.inc();
      logger.warn(
        { sceneId, versionId: bad.versionId, seq: bad.seq.toString(), reason: bad.reason },
        'stored update failed to decode; moved to quarantined_updates, the rest of the scene loads',
      );
      await log.quarantine(sceneId, bad.versionId, bad.reason).catch((error: unknown) => {
        logger.error({ err: error, sceneId, versionId: bad.versionId }, 'quarantine failed; the row stays in the log');
      });
    }
    return result;
  }

  /** Never hand out an empty or partial document that later edits would build on: refuse the connection. */
  private loadFailed(sceneId: string, error: unknown): SceneLoadError {
    this.configuration.logger.error({ err: error, sceneId }, 'scene load failed; connection refused');
    return new SceneLoadError(sceneId, { cause: error });
  }

  private reportGap(sceneId: string, rows: number): void {
    this.configuration.metrics.loadGaps.inc();
    this.configuration.logger.error(
      { sceneId, rows },
      'scene loaded with missing dependencies: the log has a gap; content that depends on the missing updates is not shown',
    );
  }

  /**
   * Watches the connection's incoming frames. Messages that arrived before the connection was set
   * up (while it authenticated) were handed over already and take the ordinary path in
   * `beforeSync`.
   */
  async connected({ connection }: connectedPayload<ConnectionContext>): Promise<void> {
    const handleMessage = connection.handleMessage.bind(connection);
    connection.handleMessage = (frame: Uint8Array) => {
      this.appendOnArrival(connection, frame);
      handleMessage(frame);
    };
  }

  private appendOnArrival(connection: Connection<ConnectionContext>, frame: Uint8Array): void {
    if (connection.readOnly) return;
    const content = readContentFrame(frame);
    if (!content || content.documentName !== connection.document.name) return;
    const { guards, queue, metrics } = this.configuration;
    // Without guards to admit it, or when refused, the message is decided in beforeSync.
    const meta = guards?.admit(connection, content.payload);
    if (!meta) return;
    // Empty and already-contained updates are skipped in beforeSync; checking here against a
    // document that has not applied this connection's earlier messages can only say "new".
    if (updateAddsNothing(connection.document, content.payload, meta)) return;
    const stopTimer = metrics.ackLatency.startTimer();
    const write = queue.append({ sceneId: content.documentName, update: content.payload, createdBy: connection.context?.userId ?? null });
    // Awaited in beforeSync; if the connection closes before that, nobody else observes it.
    write.catch(() => undefined);
    this.early.set(content.payload, { write, stopTimer });
  }

  async afterLoadDocument({ document }: afterLoadDocumentPayload): Promise<void> {
    this.configuration.metrics.documentsLoaded.inc();
    // What loading applied (the log, a seed) is buffered by Hocuspocus as an update to broadcast,
    // and would reach whoever connected by the time it flushes: the first editor would download
    // the whole scene twice, once in its sync step and once as this update. Nobody is connected
    // before the load finishes, so flushing now sends it to no one.
    if (document.getConnectionsCount() === 0) document.flush();
  }

  async afterUnloadDocument(_: afterUnloadDocumentPayload): Promise<void> {
    this.configuration.metrics.documentsLoaded.dec();
  }

  async beforeSync({ connection, document, documentName, type, payload }: beforeSyncPayload<ConnectionContext>): Promise<void> {
    if (type !== SYNC_STEP_2 && type !== SYNC_UPDATE) return;
    // Hocuspocus refuses to apply a read-only connection's update; nothing to store.
    if (connection.readOnly) return;
    const { queue, metrics, logger } = this.configuration;
    // An append started on arrival is awaited whatever the document holds by now.
    const early = this.early.take(payload);
    if (!early && isEmptyUpdate(payload)) {
      metrics.updatesSkipped.inc({ reason: 'empty' });
      return;
    }
    if (!early && updateAddsNothing(document, payload, this.configuration.guards?.metaOf(payload))) {
      metrics.updatesSkipped.inc({ reason: 'already_contained' });
      return;
    }
    const stopTimer = early?.stopTimer ?? metrics.ackLatency.startTimer();
    try {
      await (early?.write ?? queue.append({ sceneId: documentName, update: payload, createdBy: connection.context?.userId ?? null }));
      // The commit released this connection's other updates of the batch too: their
      // acknowledgements leave in one write at the end of this turn.
      coalesceWritesThisTurn(connection.webSocket);
      metrics.updatesAppended.inc({ origin: 'client' });
      stopTimer();
    } catch (error) {
      logger.warn({ err: error, sceneId: documentName, socketId: connection.socketId }, 'client update not stored; closing its socket');
      // Closing only this document's connection would leave the provider waiting on an open socket
      // forever; closing the socket makes it reconnect, and its sync step sends the update again.
      connection.webSocket.close(PERSISTENCE_UNAVAILABLE.code, PERSISTENCE_UNAVAILABLE.reason);
      // The throw stops Hocuspocus from applying, broadcasting and acknowledging the update.
      throw Object.assign(new Error(PERSISTENCE_UNAVAILABLE.reason, { cause: error }), PERSISTENCE_UNAVAILABLE);
    }
  }

  async onChange({ documentName, update, transactionOrigin }: onChangePayload): Promise<void> {
    if (classifyOrigin(transactionOrigin) !== 'server') return;
    const { queue, metrics, logger } = this.configuration;
    const write = queue
      .append({ sceneId: documentName, update, createdBy: userIdOfOrigin(transactionOrigin) })
      .then(() => metrics.updatesAppended.inc({ origin: 'server' }));
    const pending = this.serverWrites.get(documentName) ?? new Set();
    this.serverWrites.set(documentName, pending);
    pending.add(write);
    write
      .catch((error: unknown) => {
        logger.error({ err: error, sceneId: documentName }, 'server-side change could not be stored');
      })
      .finally(() => {
        pending.delete(write);
        if (pending.size === 0 && this.serverWrites.get(documentName) === pending) this.serverWrites.delete(documentName);
      });
  }

  /**
   * Hocuspocus calls this when a direct connection disconnects and before it unloads a document;
   * it resolves once the server's own changes are committed and rejects if one failed, so
   * Hocuspocus keeps the document in memory.
   */
  async onStoreDocument({ documentName }: onStoreDocumentPayload): Promise<void> {
    await this.serverWritesCommitted(documentName);
  }

  /** Resolves once every server-side change made to the scene so far is committed. */
  async serverWritesCommitted(sceneId: string): Promise<void> {
    const pending = this.serverWrites.get(sceneId);
    if (!pending || pending.size === 0) return;
    await Promise.all([...pending]);
  }
}
