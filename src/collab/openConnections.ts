import type { Connection } from '@hocuspocus/server';
import type { AccessControl } from '../auth/access.ts';
import { AuthRefusal, refuse } from '../auth/errors.ts';
import { accessVerdict, tokenExpired, tokenState } from '../auth/tokenLifetime.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { ConnectionContext } from './origins.ts';

export interface OpenConnectionsConfiguration {
  verifier: TokenVerifier;
  access: AccessControl;
  /** How often every open connection's token and access are checked (`AUTH_RECHECK_INTERVAL_MS`). */
  recheckIntervalMs: number;
  /** How long before `exp` the provider is asked for a fresh token (`AUTH_TOKEN_REFRESH_LEAD_MS`). */
  tokenRefreshLeadMs: number;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}

/** One authenticated document connection, as this instance serves it. */
interface OpenConnection {
  connection: Connection<ConnectionContext>;
  userId: string;
  isAdmin: boolean;
  sceneId: string;
  expiresAt: number;
  since: number;
  refreshRequested: boolean;
}

/**
 * The document connections this instance serves, watched for as long as they stay open: a token
 * that expires, a collaborator removed or made a viewer, a deleted user, a deleted scene
 * (`scene-deleted`: the decision of `AccessControl.decideMany` reads `scenes.deleted_at`). A connection was allowed in
 * once (extensions/Authentication.ts); this keeps it allowed only while that stays true.
 *
 * Every `recheckIntervalMs` one pass ends the connections whose token has expired (`token-expired`),
 * asks the providers whose token is about to expire for a fresh one (Hocuspocus's token sync: the
 * provider answers with its token function's value, which `refresh` checks), and decides every
 * remaining connection's access again in two queries. Each instance watches its own connections
 * against the database, so a change made anywhere (SQL, another service, another instance) reaches
 * every instance within one interval, with nothing to deliver between instances that could be lost
 * while Redis is down.
 *
 * Ending a connection closes that one document connection with the refusal as its reason. Messages
 * the connection received before that are still processed; nothing it sends afterwards reaches the
 * scene. The provider keeps what it has not had acknowledged and sends it when it connects again.
 */
export class OpenConnections {
  private readonly configuration: OpenConnectionsConfiguration;
  private readonly open = new Map<Connection<ConnectionContext>, OpenConnection>();
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<void> | null = null;

  constructor(configuration: Omit<OpenConnectionsConfiguration, 'now'> & { now?: () => number }) {
    this.configuration = { now: Date.now, ...configuration };
  }

  get size(): number {
    return this.open.size;
  }

  /** Starts watching an authenticated connection (from the `connected` hook). */
  add(connection: Connection<ConnectionContext>): void {
    const { userId, isAdmin, tokenExpiresAt } = connection.context ?? {};
    if (!userId || tokenExpiresAt === undefined) return;
    this.open.set(connection, {
      connection,
      userId,
      isAdmin: isAdmin === true,
      sceneId: connection.document.name,
      expiresAt: tokenExpiresAt,
      since: this.configuration.now(),
      refreshRequested: false,
    });
  }

  remove(connection: Connection<ConnectionContext>): void {
    this.open.delete(connection);
  }

  /**
   * A token the provider sent on its open connection (Hocuspocus's `onTokenSync`). A valid token for
   * the same user with a later `exp` extends the connection; the same token again changes nothing
   * (it still ends at its `exp`); anything else ends the connection with the token's refusal.
   */
  async refresh(connection: Connection<ConnectionContext>, token: string): Promise<void> {
    const { verifier, metrics, now } = this.configuration;
    const entry = this.open.get(connection);
    if (!entry) return;
    let verified;
    try {
      verified = await verifier.verify(token);
    } catch (error) {
      metrics.tokenRefreshes.inc({ result: 'refused' });
      this.end(entry, error instanceof AuthRefusal ? error : refuse('invalid-token', 'the token could not be verified', { cause: error }));
      return;
    }
    if (verified.userId !== entry.userId) {
      metrics.tokenRefreshes.inc({ result: 'refused' });
      this.end(entry, refuse('invalid-token', 'the fresh token is for another user; connect again with it'));
      return;
    }
    if (verified.expiresAt <= entry.expiresAt) {
      metrics.tokenRefreshes.inc({ result: 'unchanged' });
      return;
    }
    Object.assign(entry, { expiresAt: verified.expiresAt, isAdmin: verified.isAdmin, since: now(), refreshRequested: false });
    if (connection.context) connection.context.tokenExpiresAt = verified.expiresAt;
    metrics.tokenRefreshes.inc({ result: 'extended' });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.configuration.recheckIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.pass;
  }

  /** One pass over every open connection; a pass still running when the next is due is not doubled. */
  check(): Promise<void> {
    this.pass ??= this.checkAll().finally(() => {
      this.pass = null;
    });
    return this.pass;
  }

  private async checkAll(): Promise<void> {
    const { access, tokenRefreshLeadMs, metrics, logger, now } = this.configuration;
    const time = now();
    for (const entry of [...this.open.values()]) {
      const state = tokenState(time, entry, tokenRefreshLeadMs);
      if (state === 'expired') this.end(entry, tokenExpired(entry.expiresAt));
      else if (state === 'refresh-due') {
        entry.refreshRequested = true;
        entry.connection.requestToken();
      }
    }
    const entries = [...this.open.values()];
    if (entries.length === 0) return;
    let decisions;
    try {
      decisions = await access.decideMany(entries.map((e) => ({ principal: { userId: e.userId, isAdmin: e.isAdmin }, sceneId: e.sceneId })));
    } catch (error) {
      // An unreachable database is no reason to end anyone's connection: the next pass asks again.
      metrics.accessRechecks.inc({ result: 'failed' });
      logger.warn({ err: error, connections: entries.length }, 'open connections could not be checked again; kept until the next pass');
      return;
    }
    metrics.accessRechecks.inc({ result: 'ok' });
    entries.forEach((entry, i) => {
      const refusal = accessVerdict(decisions[i]!, entry.connection.readOnly);
      // A connection that closed or was ended while the queries ran is already gone.
      if (refusal && this.open.get(entry.connection) === entry) this.end(entry, refusal);
    });
  }

  private end(entry: OpenConnection, refusal: AuthRefusal): void {
    const { metrics, logger } = this.configuration;
    this.open.delete(entry.connection);
    metrics.connectionsEnded.inc({ reason: refusal.code });
    logger.info(
      { sceneId: entry.sceneId, userId: entry.userId, socketId: entry.connection.socketId, reason: refusal.reason },
      'open connection ended',
    );
    entry.connection.close({ code: refusal.closeCode, reason: refusal.reason });
  }
}
