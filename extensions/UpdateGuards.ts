import type { beforeSyncPayload, Extension } from '@hocuspocus/server';
import { SYNC_STEP_2, SYNC_UPDATE } from '../src/collab/intake.ts';
import type { ConnectionContext } from '../src/collab/origins.ts';
import { GUARD_REFUSALS, type UpdateAdmission } from '../src/guards/admission.ts';
import { isEmptyUpdate, updateAddsNothing } from '../src/log/containment.ts';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';

export interface UpdateGuardsConfiguration {
  /** The verdicts on content messages, shared with the append log, which asks when a frame arrives. */
  admission: UpdateAdmission;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Enforces the admission verdict (size, a per-connection rate limit, a full decode) on every
 * content-carrying message (SyncStep2 and Update) before anything else sees it, so a malformed
 * update is never appended to the log nor applied. Read-only connections are checked the same way,
 * and their content is counted as refused (`read_only`) and left to Hocuspocus, which never
 * applies it.
 *
 * How each refusal ends, and why. Every refusal throws, which makes Hocuspocus drop the message
 * unapplied, unbroadcast and unacknowledged, and close that one document connection; nothing else
 * on the scene is touched. The difference is what the editor does next:
 *
 * - `update-too-large`, `malformed-update`: the same content would be refused again, so the socket
 *   stays open and the provider is not made to reconnect (a reconnect would resend the content in
 *   its SyncStep2 and loop). The provider receives a close message whose reason it reports through
 *   `onClose({ event })`; the editor should show it and offer a reload.
 * - `rate-limited`: the socket is closed with 4429. The provider reconnects after its delay and its
 *   sync step sends everything it has as one update, so an honest burst heals by itself and a
 *   runaway client is slowed to one attempt per reconnect delay.
 */
export class UpdateGuards implements Extension {
  extensionName = 'UpdateGuards';

  // Above AppendLogPersistence (1000), whose beforeSync appends the update: a refused update must
  // be stopped before it is stored.
  priority = 1100;

  private readonly configuration: UpdateGuardsConfiguration;

  constructor(configuration: UpdateGuardsConfiguration) {
    this.configuration = { ...configuration };
  }

  async beforeSync({ connection, document, documentName, type, payload }: beforeSyncPayload<ConnectionContext>): Promise<void> {
    if (type !== SYNC_STEP_2 && type !== SYNC_UPDATE) return;
    const { admission, metrics, logger } = this.configuration;
    const { refusal, meta } = admission.verdict(connection, payload);
    if (refusal) {
      metrics.updatesRefused.inc({ reason: GUARD_REFUSALS[refusal.kind].metric });
      logger.warn(
        { sceneId: documentName, socketId: connection.socketId, userId: connection.context?.userId, reason: refusal.reason },
        'client update refused',
      );
      if (refusal.kind === 'rate-limited') connection.webSocket.close(refusal.code, refusal.reason);
      throw refusal;
    }
    if (!connection.readOnly) return;
    if (isEmptyUpdate(payload) || (type === SYNC_STEP_2 && updateAddsNothing(document, payload, meta))) return;
    metrics.updatesRefused.inc({ reason: 'read_only' });
    logger.debug({ sceneId: documentName, socketId: connection.socketId }, 'update from a read-only connection not applied');
  }
}
