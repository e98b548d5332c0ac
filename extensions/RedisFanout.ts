import { randomUUID } from 'node:crypto';
import type {
  Document,
  Extension,
  Hocuspocus,
  afterLoadDocumentPayload,
  afterStoreDocumentPayload,
  afterUnloadDocumentPayload,
  beforeBroadcastStatelessPayload,
  beforeUnloadDocumentPayload,
  onAwarenessUpdatePayload,
  onChangePayload,
  onConfigurePayload,
} from '@hocuspocus/server';
import { Redis, type RedisInstance } from '@hocuspocus/extension-redis';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';
import { describeRedisEndpoint, parseRedisUrl, reconnectDelay, type RedisEndpoint } from '../src/redis/connection.ts';

export interface RedisFanoutConfiguration {
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

export type FanoutMode = 'multi-instance' | 'single-server';

export interface FanoutStatus {
  mode: FanoutMode;
  connected: boolean;
  /** Where Redis is, without credentials. */
  redis: string;
  /** Since when the current mode holds. */
  since: Date;
  /** Times Redis came back after being away. */
  reconnects: number;
}

/** One connection to Redis: an `@hocuspocus/extension-redis` instance and its two clients. */
interface Session {
  redis: Redis;
  clients: RedisInstance[];
  /** Both clients are ready and the session carries the fan-out. */
  active: boolean;
  ended: boolean;
  healthTimer: NodeJS.Timeout | null;
}

const defaults = {
  identifier: `writersroom-${randomUUID()}`,
  reconnectMinMs: 250,
  reconnectMaxMs: 5000,
  connectTimeoutMs: 2000,
  healthCheckIntervalMs: 2000,
  awaitInitialSyncTimeoutMs: 1000,
  disconnectDelayMs: 1000,
};

/** Documents joined at once when Redis comes back. */
const JOIN_CONCURRENCY = 32;

/**
 * Several instances behind one Redis: edits made on one reach the editors of the others, through
 * `@hocuspocus/extension-redis` (each change publishes a state vector; peers answer with what it
 * lacks, applied with the origin `{ source: 'redis' }`, which the append log never stores: the
 * instance whose client made the edit stored it before acknowledging it).
 *
 * What this class adds is surviving Redis going away. Without Redis every instance goes on
 * accepting, storing and acknowledging its own clients' edits (single-server mode, reported by the
 * `redis_fanout_connected` gauge and `status()`); nothing on the edit path ever waits for Redis.
 * The upstream extension is built for a Redis that is always there (its commands queue while it is
 * away and hang document loads), so each connection to Redis is a session: an upstream instance
 * whose clients do not reconnect by themselves. When a session's connection drops, the session is
 * discarded, pending commands fail at once, and new sessions are tried with backoff. When one
 * connects, every document open here joins it again: subscribing and publishing a state vector,
 * which makes every peer that has the document open answer with what this instance lacks and ask
 * for what it lacks in turn. The documents converge without anything being stored twice.
 *
 * `onStoreDocument` is deliberately not delegated: upstream uses it to take a Redis lock around a
 * read-modify-write store, which this append log does not have (every instance appends only its own
 * clients' updates), and its "another instance is storing" answer would skip the append log's own
 * `onStoreDocument`.
 */
export class RedisFanout implements Extension {
  extensionName = 'RedisFanout';

  // As upstream's: above the append log (1000) in hooks both implement, so a document announces
  // itself on Redis as soon as it is loaded and before slower load hooks finish.
  priority = 1000;

  private readonly configuration: RedisFanoutConfiguration;
  private readonly endpoint: RedisEndpoint;
  private instance: Hocuspocus | null = null;
  private session: Session | null = null;
  private connecting = false;
  private stopped = false;
  private attempts = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private everConnected = false;
  private state: FanoutStatus;
  /** Documents this instance has loaded and not unloaded, joined again whenever Redis comes back. */
  private readonly documents = new Map<string, Document>();

  constructor(configuration: Omit<RedisFanoutConfiguration, keyof typeof defaults> & Partial<Pick<RedisFanoutConfiguration, keyof typeof defaults>>) {
    this.configuration = { ...defaults, ...configuration };
    this.endpoint = parseRedisUrl(this.configuration.url);
    this.state = { mode: 'single-server', connected: false, redis: describeRedisEndpoint(this.endpoint), since: new Date(), reconnects: 0 };
    this.configuration.metrics.redisFanoutEnabled.set(1);
    this.configuration.metrics.redisConnected.set(0);
  }

  status(): FanoutStatus {
    return { ...this.state };
  }

  async onConfigure({ instance }: onConfigurePayload): Promise<void> {
    this.instance = instance;
    this.connect();
  }

  async afterLoadDocument(payload: afterLoadDocumentPayload): Promise<void> {
    this.documents.set(payload.documentName, payload.document);
    const session = this.activeSession();
    // Offline: the document joins when Redis comes back (it is in `documents` now).
    if (session) await this.join(session, payload.documentName, payload.document);
  }

  async onChange(payload: onChangePayload): Promise<void> {
    // Offline changes reach the peers when the session that comes next joins the document.
    await this.activeSession()?.redis.onChange(payload);
  }

  async onAwarenessUpdate(payload: onAwarenessUpdatePayload): Promise<void> {
    await this.activeSession()?.redis.onAwarenessUpdate(payload);
  }

  async beforeBroadcastStateless(payload: beforeBroadcastStatelessPayload): Promise<void> {
    const session = this.activeSession();
    if (!session) return;
    try {
      await session.redis.beforeBroadcastStateless(payload);
    } catch (error) {
      this.configuration.logger.debug({ err: error, sceneId: payload.documentName }, 'stateless broadcast not sent through Redis');
    }
  }

  async afterStoreDocument(payload: afterStoreDocumentPayload): Promise<void> {
    await this.activeSession()?.redis.afterStoreDocument(payload);
  }

  async beforeUnloadDocument(payload: beforeUnloadDocumentPayload): Promise<void> {
    // Gives sync messages in flight through Redis time to arrive; pointless without Redis.
    await this.activeSession()?.redis.beforeUnloadDocument(payload);
  }

  async afterUnloadDocument(payload: afterUnloadDocumentPayload): Promise<void> {
    // Loaded again meanwhile (a fast reconnect): the new document is the one to keep.
    if (payload.instance.documents.has(payload.documentName)) return;
    this.documents.delete(payload.documentName);
    await this.activeSession()?.redis.afterUnloadDocument(payload);
  }

  async onDestroy(): Promise<void> {
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
        this.setMode('multi-instance');
        if (this.everConnected) this.state.reconnects += 1;
        const rejoin = this.everConnected;
        this.everConnected = true;
        this.configuration.logger.info(
          { redis: this.state.redis, documents: this.documents.size },
          rejoin ? 'Redis is back: fanning out again and reconciling open documents with the other instances' : 'Redis fan-out connected',
        );
        this.startHealthChecks(session);
        void this.joinAll(session);
      })
      .catch((error: unknown) => {
        this.connecting = false;
        if (this.attempts === 1 || this.attempts % 20 === 0) {
          this.configuration.logger.warn(
            { err: error, redis: this.state.redis, attempts: this.attempts },
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
      // A peer's answer is published from a callback nobody awaits (Hocuspocus's MessageReceiver
      // `reply`); when the connection is gone that publish rejects. Mark such rejections handled,
      // callers that await still see them.
      const publish = client.publish.bind(client) as (...args: unknown[]) => Promise<unknown>;
      (client as unknown as { publish: (...args: unknown[]) => Promise<unknown> }).publish = (...args: unknown[]) => {
        const result = publish(...args);
        result.catch(() => undefined);
        return result;
      };
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
    this.setMode('single-server');
    this.configuration.logger.warn(
      { redis: this.state.redis, reason, documents: this.documents.size },
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

  private setMode(mode: FanoutMode): void {
    if (this.state.mode === mode) return;
    this.state = { ...this.state, mode, connected: mode === 'multi-instance', since: new Date() };
    this.configuration.metrics.redisConnected.set(mode === 'multi-instance' ? 1 : 0);
  }
}
