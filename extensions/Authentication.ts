import type { connectedPayload, Extension, onAuthenticatePayload, onTokenSyncPayload } from '@hocuspocus/server';
import type { AccessControl } from '../src/auth/access.ts';
import { AuthRefusal, refuse } from '../src/auth/errors.ts';
import { describeId, isCanonicalUuid } from '../src/auth/ids.ts';
import type { TokenVerifier } from '../src/auth/tokens.ts';
import type { OpenConnections } from '../src/collab/openConnections.ts';
import type { ConnectionContext } from '../src/collab/origins.ts';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';

export interface AuthenticationConfiguration {
  verifier: TokenVerifier;
  access: AccessControl;
  /** Watches every connection let in for as long as it stays open. */
  openConnections: OpenConnections;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Lets a provider open a scene only with a valid token and access to the scene's script. The
 * document name must be a canonical scene id, checked before any token work or query. Owners,
 * editors and administrators get a writable connection; viewers a read-only one (Hocuspocus then
 * acknowledges none of their updates as applied, applies none and broadcasts none, and the
 * append log stores none). A refusal reaches the provider as `onAuthenticationFailed({ reason })`
 * with a reason that starts with a stable code: `invalid-scene-id`, `invalid-token`,
 * `token-expired`, `unknown-user`, `unknown-scene`, `no-access` or `auth-unavailable`.
 *
 * A connection stays allowed only while its token is valid and its access unchanged
 * (`src/collab/openConnections.ts`): the server asks the provider for a fresh token before `exp`,
 * takes one whenever the provider sends it (`provider.sendToken()`, Hocuspocus's `onTokenSync`),
 * and ends the connection with `token-expired`, `access-changed`, `no-access` or `unknown-user`
 * when that stops being true.
 */
export class Authentication implements Extension {
  extensionName = 'Authentication';

  // Above every other onAuthenticate hook: nothing else may act for a connection that is refused.
  priority = 1200;

  private readonly configuration: AuthenticationConfiguration;

  constructor(configuration: AuthenticationConfiguration) {
    this.configuration = { ...configuration };
  }

  async onAuthenticate({ token, documentName, connectionConfig, socketId }: onAuthenticatePayload<ConnectionContext>): Promise<ConnectionContext> {
    const { verifier, access, logger, metrics } = this.configuration;
    try {
      if (!isCanonicalUuid(documentName)) {
        throw refuse('invalid-scene-id', `${describeId(documentName)} is not a scene id (a lower-case UUID)`);
      }
      const principal = await verifier.verify(token);
      const grant = await access.sceneAccess(principal, documentName);
      connectionConfig.readOnly = !grant.canWrite;
      // Returned additions become the connection's context; the append log reads `userId` from it.
      return { userId: principal.userId, isAdmin: principal.isAdmin, role: grant.role, tokenExpiresAt: principal.expiresAt };
    } catch (error) {
      const refusal = error instanceof AuthRefusal ? error : refuse('auth-unavailable', 'the connection could not be checked; retry shortly', { cause: error });
      if (!(error instanceof AuthRefusal)) logger.error({ err: error, socketId }, 'authentication failed unexpectedly; refused');
      metrics.connectionsRefused.inc({ reason: refusal.code });
      logger.info({ socketId, documentName: describeId(documentName), reason: refusal.reason }, 'connection refused');
      throw refusal;
    }
  }

  async connected({ connection }: connectedPayload<ConnectionContext>): Promise<void> {
    const { openConnections } = this.configuration;
    openConnections.add(connection);
    connection.onClose(() => openConnections.remove(connection));
  }

  /**
   * A token the provider sent on its open connection. Never throws: Hocuspocus would print the
   * error and close the connection with its own reason; the watch closes it with ours.
   */
  async onTokenSync({ connection, token }: onTokenSyncPayload<ConnectionContext>): Promise<void> {
    await this.configuration.openConnections.refresh(connection, token);
  }

  async onListen(): Promise<void> {
    this.configuration.openConnections.start();
  }

  async onDestroy(): Promise<void> {
    await this.configuration.openConnections.stop();
  }
}
