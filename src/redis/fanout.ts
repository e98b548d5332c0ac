import { randomUUID } from 'node:crypto';
import type { Document, Hocuspocus, afterLoadDocumentPayload, afterUnloadDocumentPayload, onConfigurePayload } from '@hocuspocus/server';
import { Redis, type RedisInstance } from '@hocuspocus/extension-redis';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { describeRedisEndpoint, parseRedisUrl, reconnectDelay, type RedisEndpoint } from './connection.ts';

export interface RedisFanoutLinkConfiguration {
  /** `REDIS_URL`. */
  url: string;
  /** `REDIS_PREFIX`: channels are `<prefix>:<scene id>`; instances sharing a prefix share documents. */
  prefix: string;
  /** This instance's name on the channels (its own messages are ignored by it); unique per process. */
  identifier: string;
  logger: Logger;
  metrics: Pick<Metrics, 'redisConnected' | 'redisFanoutEnabled'>;
  /** First and longest pause between attempts to reach Redis again while it is away. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** How long a connection attempt may take. */
  connectTimeoutMs: number;
  /** A PING every this often; no answer within it counts as Redis gone (a hung server, a cut network). */
  healthCheckIntervalMs: number;
  /** How long a loading document waits for another instance's state (extension-redis `awaitInitialSyncTimeout`). */
  awaitInitialSyncTimeoutMs: number;
  /** Delay before unloading, so last sync messages through Redis can arrive (extension-redis `disconnectDelay`). */
  disconnectDelayMs: number;
}

// The identifier is not among them: it is made per link (the constructor), so that two instances in
// one process (tests, an embedding) do not take each other's messages for their own and drop them.
const defaults = {
  reconnectMinMs: 250,
  reconnectMaxMs: 5000,
  connectTimeoutMs: 2000,
  healthCheckIntervalMs: 2000,
  awaitInitialSyncTimeoutMs: 1000,
  disconnectDelayMs: 1000,
};

export type RedisFanoutLinkOptions = Omit<RedisFanoutLinkConfiguration, keyof typeof defaults | 'identifier'> &
  Partial<Pick<RedisFanoutLinkConfiguration, keyof typeof defaults | 'identifier'>>;

/** One connection to Redis: an `@hocuspocus/extension-redis` instance and its two clients. */
interface Session {
  redis: Redis;
  clients: RedisInstance[];
  /** Both clients are ready and the session carries the fan-out. */
  active: boolean;
  ended: boolean;
  healthTimer: NodeJS.Timeout | null;
}

/** Documents joined at once when Redis comes back. */
const JOIN_CONCURRENCY = 32;

/**
 * This instance's link to the others through Redis, kept up while Redis comes and goes.
 *
 * `@hocuspocus/extension-redis` is built for a Redis that is always there: its commands queue
 * while Redis is away and hang document loads. So each connection to Redis is a session, an
 * upstream instance whose clients do not reconnect by themselves. When a session's connection
 * drops, the session is discarded, pending commands fail at once, and new sessions are tried with
 * backoff; meanwhile `upstream()` is null and the instance runs single-server (the
 * `redis_fanout_connected` gauge says 0), and nothing on the edit path waits for Redis. When a
 * session connects, every document open here joins it again: subscribing and publishing a state
 * vector, which makes every peer that has the document open answer with what this instance lacks
 * and ask for what it lacks in turn. The documents converge without anything being stored twice.
 */
export class RedisFanoutLink {
  private readonly configuration: RedisFanoutLinkConfiguration;
  private readonly endpoint: RedisEndpoint;
  /** Where Redis is, for logs: host, port and database, never a password. */
  private readonly description: string;
  private instance: Hocuspocus | null = null;
  private session: Session | null = null;
  private connecting = false;
  private stopped = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private everConnected = false;
  /** Documents this instance has loaded and not unloaded, joined again whenever Redis comes back. */
  private readonly documents = new Map<string, Document>();

  constructor(configuration: RedisFanoutLinkOptions) {
    this.configuration = { ...defaults, identifier: `writersroom-${randomUUID()}`, ...configuration };
    this.endpoint = parseRedisUrl(this.configuration.url);
    this.description = describeRedisEndpoint(this.endpoint);
    this.configuration.metrics.redisFanoutEnabled.set(1);
    this.configuration.metrics.redisConnected.set(0);
  }

  /** Starts connecting; the link then keeps trying until `stop()`. */
  start(instance: Hocuspocus): void {
    this.instance = instance;
    this.connect();
  }

  /** The upstream extension of the session that carries the fan-out now; null while Redis is away. */
  upstream(): Redis | null {
    return this.activeSession()?.redis ?? null;
  }

  /** A document loaded here: it joins the current session now, or the next one when Redis is back. */
  async documentLoaded(documentName: string, document: Document): Promise<void> {
    this.documents.set(documentName, document);
    const session = this.activeSession();
    if (session) await this.join(session, documentName, document);
  }

  /** A document unloaded here and not loaded again meanwhile: it leaves the channels. */
  async documentUnloaded(payload: afterUnloadDocumentPayload): Promise<void> {
    this.documents.delete(payload.documentName);
    await this.activeSession()?.redis.afterUnloadDocument(payload);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const session = this.session;
    this.session = null;
    if (session) await this.endSession(session, true);
    this.configuration.metrics.redisConnected.set(0);
  }

  private activeSession(): Session | null {
    return this.session?.active && !this.session.ended ? this.session : null;
  }

  /** Opens a session; on failure, schedules the next attempt. */
  private connect(): void {
    if (this.stopped || this.session || this.connecting || !this.instance) return;
    this.connecting = true;
    this.attempts += 1;
    void this.openSession()
      .then((session) => {
        this.connecting = false;
        if (this.stopped) {
          void this.endSession(session, true);
          return;
        }
        this.session = session;
        session.active = true;
        this.attempts = 0;
        this.configuration.metrics.redisConnected.set(1);
        const rejoin = this.everConnected;
        this.everConnected = true;
        this.configuration.logger.info(
          { redis: this.description, documents: this.documents.size },
          rejoin ? 'Redis is back: fanning out again and reconciling open documents with the other instances' : 'Redis fan-out connected',
        );
        this.startHealthChecks(session);
        void this.joinAll(session);
      })
      .catch((error: unknown) => {
        this.connecting = false;
        if (this.attempts === 1 || this.attempts % 20 === 0) {
          this.configuration.logger.warn(
            { err: error, redis: this.description, attempts: this.attempts },
            'Redis unreachable: single-server mode (editing and storing go on; no fan-out to other instances)',
          );
        }
        this.scheduleReconnect();
      });
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.reconnectTimer) return;
    const delay = reconnectDelay(this.attempts, this.configuration.reconnectMinMs, this.configuration.reconnectMaxMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private openSession(): Promise<Session> {
    const { prefix, identifier, connectTimeoutMs, awaitInitialSyncTimeoutMs, disconnectDelayMs, logger } = this.configuration;
    const { host, port, ...auth } = this.endpoint;
    const clients: RedisInstance[] = [];
    const redis = new Redis({
      host,
      port,
      prefix,
      identifier,
      awaitInitialSyncTimeout: awaitInitialSyncTimeoutMs,
      disconnectDelay: disconnectDelayMs,
      options: {
        ...auth,
        connectTimeout: connectTimeoutMs,
        // No reconnection inside a session: a dropped connection ends the session, which fails its
        // queued commands at once instead of letting document loads wait for Redis.
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      },
    });
    clients.push(redis.pub, redis.sub);
    const session: Session = { redis, clients, active: false, ended: false, healthTimer: null };
    redis.onConfigure({ instance: this.instance! } as onConfigurePayload);

    let errorsLogged = 0;
    for (const client of clients) {
      // Without a listener ioredis prints every connection error; with one, the process never sees
      // an unhandled 'error' event from Redis.
      client.on('error', (error: Error) => {
        if (errorsLogged++ === 0) logger.debug({ err: error }, 'Redis connection error');
      });
      client.on('end', () => this.lost(session, 'connection closed'));
      client.on('close', () => this.lost(session, 'connection closed'));
      markPublishRejectionsHandled(client);
    }

    return new Promise<Session>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no connection to Redis within ${connectTimeoutMs} ms`)), connectTimeoutMs + 500);
      let ready = 0;
      const fail = (error: Error) => {
        clearTimeout(timer);
        void this.endSession(session, false);
        reject(error);
      };
      for (const client of clients) {
        if (client.status === 'ready') ready += 1;
        client.once('ready', () => {
          ready += 1;
          if (ready === clients.length) {
            clearTimeout(timer);
            resolve(session);
          }
        });
        client.once('end', () => fail(new Error('Redis closed the connection')));
      }
    });
  }

  /** A session's connection is gone: back to single-server mode and try again. */
  private lost(session: Session, reason: string): void {
    if (session.ended) return;
    void this.endSession(session, false);
    if (this.session !== session) return;
    this.session = null;
    this.configuration.metrics.redisConnected.set(0);
    this.configuration.logger.warn(
      { redis: this.description, reason, documents: this.documents.size },
      'Redis connection lost: single-server mode (editing and storing go on; open documents are reconciled when Redis is back)',
    );
    this.attempts = 0;
    this.scheduleReconnect();
  }

  private async endSession(session: Session, graceful: boolean): Promise<void> {
    if (session.ended) return;
    session.ended = true;
    session.active = false;
    if (session.healthTimer) clearInterval(session.healthTimer);
    if (graceful) {
      // Cancels upstream's pending publishes and quits both clients.
      await session.redis.onDestroy().catch(() => undefined);
    }
    for (const client of session.clients) client.disconnect(false);
  }

  private startHealthChecks(session: Session): void {
    const { healthCheckIntervalMs } = this.configuration;
    let inFlight = false;
    session.healthTimer = setInterval(() => {
      if (inFlight || session.ended) return;
      inFlight = true;
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('PING timed out')), healthCheckIntervalMs).unref());
      Promise.race([session.redis.pub.ping(), timeout])
        .catch(() => this.lost(session, 'no answer to PING'))
        .finally(() => {
          inFlight = false;
        });
    }, healthCheckIntervalMs);
    session.healthTimer.unref();
  }

  /**
   * Subscribes the document and publishes its state vector; peers that have it open answer with
   * what this instance lacks and ask for what they lack. Bounded in time: a load never waits on
   * Redis longer than the initial-sync timeout and a little more.
   */
  private async join(session: Session, documentName: string, document: Document): Promise<void> {
    if (this.documents.get(documentName) !== document) return;
    const payload = { instance: this.instance!, documentName, document } as afterLoadDocumentPayload;
    const joined = session.redis.afterLoadDocument(payload);
    const limit = this.configuration.awaitInitialSyncTimeoutMs + this.configuration.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), limit);
    });
    try {
      const outcome = await Promise.race([joined.then(() => 'joined' as const), timeout]);
      if (outcome === 'timeout') {
        this.configuration.logger.warn({ sceneId: documentName }, 'joining a document on Redis is slow; it loads without waiting for the other instances');
        joined.catch(() => undefined);
      }
    } catch (error) {
      // The session is going away; the next one joins the document again.
      this.configuration.logger.debug({ err: error, sceneId: documentName }, 'document not joined on Redis');
    } finally {
      clearTimeout(timer);
    }
    // Unloaded while it was joining: leave the channel again (upstream skips this if it is loaded anew).
    if (this.documents.get(documentName) !== document && !session.ended) {
      await session.redis.afterUnloadDocument({ instance: this.instance!, documentName } as afterUnloadDocumentPayload).catch(() => undefined);
    }
  }

  private async joinAll(session: Session): Promise<void> {
    const open = [...this.documents.entries()];
    for (let i = 0; i < open.length && this.activeSession() === session; i += JOIN_CONCURRENCY) {
      await Promise.all(open.slice(i, i + JOIN_CONCURRENCY).map(([name, document]) => this.join(session, name, document)));
    }
  }
}

/**
 * Replaces the client's `publish` on the instance so that a publish whose promise nobody holds
 * cannot end the process when the connection drops: callers that await it still see the rejection.
 *
 * A peer's answer to a sync step is published from a callback whose promise is dropped:
 * Hocuspocus's `MessageReceiver` calls `reply(message)` as `(message: Uint8Array) => void`, and
 * extension-redis's `reply` returns `this.pub.publish(...)`. When the connection is gone that
 * publish rejects, unhandled, and Node ends the process. No public API reaches that promise:
 * ioredis has no option that keeps a command from rejecting, the extension hands no hook around
 * its reply, and its `createClient` option would mean building our own clients from the top-level
 * ioredis (6), not the ioredis (5) the extension is typed and tested against. Unmeasured: it buys
 * no speed, only that losing Redis in the middle of a reply does not stop the server (the
 * multi-instance test stops Redis under open documents).
 */
function markPublishRejectionsHandled(client: RedisInstance): void {
  const publish = client.publish.bind(client) as (...args: unknown[]) => Promise<unknown>;
  (client as unknown as { publish: (...args: unknown[]) => Promise<unknown> }).publish = (...args: unknown[]) => {
    const result = publish(...args);
    result.catch(() => undefined);
    return result;
  };
}
