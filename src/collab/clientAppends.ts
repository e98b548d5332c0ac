import type { Connection, Document } from '@hocuspocus/server';
import type { UpdateAdmission } from '../guards/admission.ts';
import type { UpdateMeta } from '../guards/updateValidation.ts';
import { isEmptyUpdate, updateAddsNothing, updateMetaOf, withoutContainedStructs } from '../log/containment.ts';
import type { GroupCommitQueue } from '../log/groupCommit.ts';
import { AlreadyInLog, type AppendOutcome } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { PERSISTENCE_UNAVAILABLE } from './closeReasons.ts';
import { PayloadMap, readContentFrame } from './intake.ts';
import type { ConnectionContext } from './origins.ts';
import { coalesceWritesThisTurn } from './writeCoalescing.ts';

export interface ClientAppendsConfiguration {
  queue: GroupCommitQueue;
  metrics: Metrics;
  logger: Logger;
  /** The verdicts the update guards enforce; without them nothing is written before `beforeSync`. */
  admission?: UpdateAdmission;
}

/** An append started when the frame arrived, awaited when Hocuspocus processes the message. */
interface EarlyAppend {
  write: Promise<AppendOutcome>;
  stopTimer: () => void;
}

/**
 * Stores a client's updates in the log before Hocuspocus applies, broadcasts and acknowledges them.
 *
 * Hocuspocus processes one connection's messages one after another, so waiting for each commit in
 * turn would let a connection contribute one update per group commit. Instead the append starts
 * when the frame arrives (`appendOnArrival`, once admitted) and `store`, called from `beforeSync`,
 * awaits that same append: every update already on the wire joins the next INSERT, and the
 * acknowledgement still waits for its own commit.
 */
export class ClientAppends {
  private readonly configuration: ClientAppendsConfiguration;

  /** Appends started when their frame arrived, by message. */
  private readonly early = new PayloadMap<EarlyAppend>();

  constructor(configuration: ClientAppendsConfiguration) {
    this.configuration = { ...configuration };
  }

  /** Starts the append of an admitted content frame for `connection`'s document as it arrives. */
  appendOnArrival(connection: Connection<ConnectionContext>, frame: Uint8Array): void {
    if (connection.readOnly) return;
    const content = readContentFrame(frame);
    if (!content || content.documentName !== connection.document.name) return;
    const { admission, queue, metrics } = this.configuration;
    // Without an admission to decide it, or when refused, the message is decided in beforeSync.
    const meta = admission?.admitOnArrival(connection, content.payload);
    if (!meta) return;
    // Empty and already-contained updates are skipped in beforeSync; checking here against a
    // document that has not applied this connection's earlier messages can only say "new".
    if (updateAddsNothing(connection.document, content.payload, meta)) return;
    const stopTimer = metrics.ackLatency.startTimer();
    const { update, structs } = withoutContainedStructs(connection.document, content.payload, meta);
    const write = queue.append({ sceneId: content.documentName, update, structs, createdBy: connection.context?.userId ?? null });
    // Awaited in beforeSync; if the connection closes before that, nobody else observes it.
    write.catch(() => undefined);
    this.early.set(content.payload, { write, stopTimer });
  }

  /**
   * Resolves once `payload` is committed (or needs no storing: empty, or already in the document).
   * If it cannot be stored, the client's socket is closed with `persistence-unavailable` and this
   * throws, which stops Hocuspocus from applying, broadcasting and acknowledging the update.
   */
  async store(connection: Connection<ConnectionContext>, document: Document, payload: Uint8Array): Promise<void> {
    // Hocuspocus refuses to apply a read-only connection's update; nothing to store.
    if (connection.readOnly) return;
    const { admission, metrics, logger } = this.configuration;
    const sceneId = document.name;
    // An append started on arrival is awaited whatever the document holds by now.
    const early = this.early.take(payload);
    if (!early && isEmptyUpdate(payload)) {
      metrics.updatesSkipped.inc({ reason: 'empty' });
      return;
    }
    const meta = early ? null : (admission?.metaOf(payload) ?? updateMetaOf(payload));
    if (meta && updateAddsNothing(document, payload, meta)) {
      metrics.updatesSkipped.inc({ reason: 'already_contained' });
      return;
    }
    const stopTimer = early?.stopTimer ?? metrics.ackLatency.startTimer();
    try {
      const outcome = await (early?.write ?? this.appendNow(connection, document, payload, meta!));
      // The commit released this connection's other updates of the batch too: their
      // acknowledgements leave in one write at the end of this turn.
      coalesceWritesThisTurn(connection.webSocket);
      // One the log held already (first stored through another instance) was counted by the queue.
      if (!(outcome instanceof AlreadyInLog)) metrics.updatesAppended.inc({ origin: 'client' });
      stopTimer();
    } catch (error) {
      logger.warn({ err: error, sceneId, socketId: connection.socketId }, 'client update not stored; closing its socket');
      // Closing only this document's connection would leave the provider waiting on an open socket
      // forever; closing the socket makes it reconnect, and its sync step sends the update again.
      connection.webSocket.close(PERSISTENCE_UNAVAILABLE.code, PERSISTENCE_UNAVAILABLE.reason);
      throw Object.assign(new Error(PERSISTENCE_UNAVAILABLE.reason, { cause: error }), PERSISTENCE_UNAVAILABLE);
    }
  }

  /** Queues what the update adds to the document: without the structs the document (and so the log) holds. */
  private appendNow(connection: Connection<ConnectionContext>, document: Document, payload: Uint8Array, meta: UpdateMeta): Promise<AppendOutcome> {
    const { update, structs } = withoutContainedStructs(document, payload, meta);
    return this.configuration.queue.append({ sceneId: document.name, update, structs, createdBy: connection.context?.userId ?? null });
  }
}
