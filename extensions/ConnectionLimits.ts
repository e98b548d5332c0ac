import type { Duplex } from 'node:stream';
import type { Connection, connectedPayload, Extension, onAuthenticatePayload, onDestroyPayload, onUpgradePayload } from '@hocuspocus/server';
import { decodeJwt } from 'jose';
import { WebSocketServer } from 'ws';
import type { AuthRefusal } from '../src/auth/errors.ts';
import { describeId } from '../src/auth/ids.ts';
import type { ConnectionContext } from '../src/collab/origins.ts';
import { clientAddress, type ConnectionLedger } from '../src/guards/connectionLimits.ts';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';

export interface ConnectionLimitsConfiguration {
  /** The counts and the limits (`src/guards/connectionLimits.ts`). */
  ledger: ConnectionLedger<object, Connection<ConnectionContext>>;
  /** Reverse proxies in front of the server whose `X-Forwarded-For` is believed (0: none). */
  trustProxyHops: number;
  metrics: Metrics;
  logger: Logger;
}

/**
 * Limits what one address, one user and one socket may hold open, and refuses the rest with a
 * reason the provider receives:
 *
 * - Sockets per address, counted from the upgrade request until the TCP socket closes. A socket
 *   over the limit is accepted by a WebSocket server of this extension only to be closed at once
 *   with 4429 and `too-many-connections` (a browser cannot read an HTTP refusal's status or body);
 *   it never reaches Hocuspocus. The provider reconnects after its delay.
 * - Scenes open per user on this instance and per socket, counted while each document connection
 *   is served. A scene over either limit is refused when it authenticates, before it is loaded
 *   (`onAuthenticationFailed({ reason })` with `too-many-user-documents` or `too-many-documents`);
 *   the few that authenticate together past the count are closed with the same reason when they
 *   connect.
 *
 * Refusals are counted in `collab_sockets_refused_total` and `collab_connections_refused_total`.
 */
export class ConnectionLimits implements Extension {
  extensionName = 'ConnectionLimits';

  // Below Authentication (1200): its onAuthenticate runs only for a connection Authentication let
  // in, whose token therefore names a user.
  priority = 1150;

  private readonly configuration: ConnectionLimitsConfiguration;
  /** Completes the handshake of a refused socket so that it can be closed with a reason. */
  private readonly refusing = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 });

  constructor(configuration: ConnectionLimitsConfiguration) {
    this.configuration = { ...configuration };
  }

  async onUpgrade({ request, socket, head }: onUpgradePayload): Promise<void> {
    const { ledger, trustProxyHops, metrics, logger } = this.configuration;
    const address = clientAddress(request, trustProxyHops);
    const refusal = ledger.openSocket(address);
    if (!refusal) {
      (socket as Duplex).once('close', () => ledger.closeSocket(address));
      return;
    }
    metrics.socketsRefused.inc({ reason: refusal.code });
    logger.warn({ address, reason: refusal.reason }, 'socket refused');
    this.refusing.handleUpgrade(request, socket as Duplex, head as Buffer, (websocket) => websocket.close(refusal.closeCode, refusal.reason));
    // An empty rejection ends the hook chain and Hocuspocus leaves the upgrade alone (Server.ts).
    throw null;
  }

  async onAuthenticate({ request, token, documentName, socketId }: onAuthenticatePayload<ConnectionContext>): Promise<void> {
    // Authentication verified this token just before; the context it returned is not in this
    // payload yet (Hocuspocus merges it into the next hook's), so the user is read from the token.
    const userId = decodeJwt(token).sub;
    if (!userId) return;
    const refusal = this.configuration.ledger.admit(request, userId);
    if (!refusal) return;
    this.refused(refusal, { sceneId: describeId(documentName), socketId, userId });
    throw refusal;
  }

  async connected({ request, connection, context, socketId }: connectedPayload<ConnectionContext>): Promise<void> {
    const { ledger } = this.configuration;
    const userId = context?.userId;
    if (!userId) return;
    const refusal = ledger.opened(request, userId, connection);
    if (refusal) {
      this.refused(refusal, { sceneId: connection.document.name, socketId, userId });
      connection.close({ code: refusal.closeCode, reason: refusal.reason });
      return;
    }
    connection.onClose(() => ledger.closed(request, userId, connection));
  }

  async onDestroy(_: onDestroyPayload): Promise<void> {
    this.refusing.close();
  }

  private refused(refusal: AuthRefusal, fields: Record<string, unknown>): void {
    this.configuration.metrics.connectionsRefused.inc({ reason: refusal.code });
    this.configuration.logger.warn({ ...fields, reason: refusal.reason }, 'connection refused: limit');
  }
}
