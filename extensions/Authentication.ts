import type { Extension, onAuthenticatePayload } from '@hocuspocus/server';
import type { AccessControl } from '../src/auth/access.ts';
import { AuthRefusal, refuse } from '../src/auth/errors.ts';
import { describeId, isCanonicalUuid } from '../src/auth/ids.ts';
import type { TokenVerifier } from '../src/auth/tokens.ts';
import type { ConnectionContext } from '../src/collab/origins.ts';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';

export interface AuthenticationConfiguration {
  verifier: TokenVerifier;
  access: AccessControl;
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
      return { userId: principal.userId, isAdmin: principal.isAdmin, role: grant.role };
    } catch (error) {
      const refusal = error instanceof AuthRefusal ? error : refuse('auth-unavailable', 'the connection could not be checked; retry shortly', { cause: error });
      if (!(error instanceof AuthRefusal)) logger.error({ err: error, socketId }, 'authentication failed unexpectedly; refused');
      metrics.connectionsRefused.inc({ reason: refusal.code });
      logger.info({ socketId, documentName: describeId(documentName), reason: refusal.reason }, 'connection refused');
      throw refusal;
    }
  }
}
