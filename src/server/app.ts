import type { Express } from 'express';
import type { Server as CollabServer } from '@hocuspocus/server';
import { createAuthServices } from '../auth/index.ts';
import { buildExtensions } from './extensions.ts';
import { createCollabServer } from './collabServer.ts';
import { collabUpgrades } from './collabUpgrades.ts';
import { holdAppPorts, type AppPorts } from './heldPorts.ts';
import { inFlightRequests } from './inFlightRequests.ts';
import type { Config } from '../config.ts';
import type { SqlExecutor } from '../db/sql.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { DivergenceDetector } from '../restCopy/divergenceDetector.ts';
import { createHttpApp } from '../http/app.ts';
import { GroupCommitQueue } from '../log/groupCommit.ts';
import { SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import { createMetrics, type Metrics } from '../metrics.ts';
import type { RedisFanout } from '../../extensions/RedisFanout.ts';
import { createJobScheduler } from '../../jobs/background.ts';
import type { JobScheduler } from '../../jobs/scheduler.ts';
import { SnapshotService } from '../restCopy/snapshots.ts';
import { createYjsWork, type YjsWork } from '../workers/pool.ts';
import { ChangeWatch } from '../changes/watch.ts';
import { webhookSceneContent } from '../webhooks/sceneContent.ts';

export interface AppDeps {
  config: Config;
  prisma: PrismaClient;
  /** The append and load hot path (prepared statements on the same database). */
  sql: SqlExecutor;
  logger: Logger;
  metrics?: Metrics;
  /**
   * `PORT` and `HTTP_PORT`, already listening and holding what arrives (`npm start` binds them
   * before it loads the rest of the server: src/main.ts). Bound here when not given.
   */
  ports?: AppPorts;
}

export interface RunningApp {
  wsPort: number;
  httpPort: number;
  /** The WebSocket server on `PORT`. */
  wsUrl: string;
  httpUrl: string;
  /** The same WebSocket server on the HTTP port, under `COLLAB_PATH`: ws://host:httpPort/collab. */
  collabUrl: string;
  collab: CollabServer;
  sceneLog: SceneLog;
  /** The HTTP API's Express app (already listening on `httpPort`); tests inspect its routes. */
  httpApp: Express;
  /** Derives REST copies from the log; the snapshot job uses it too. */
  snapshots: SnapshotService;
  /** Compares REST copies with the log; the divergence job uses it too. */
  divergence: DivergenceDetector;
  /** The background jobs (snapshot, compaction, retention, divergence); started when `config.jobs.enabled`. */
  scheduler: JobScheduler;
  /** Redis fan-out to other instances; null without `REDIS_URL`. */
  fanout: RedisFanout | null;
  /** The worker threads of the jobs' and HTTP routes' Yjs work (`WORKER_THREADS`; inline when 0). */
  work: YjsWork;
  metrics: Metrics;
  /** Stops taking connections, commits every queued update, then resolves. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts the WebSocket server and the HTTP API on an already migrated database. The database is
 * the caller's: it is opened before and closed after, so tests can hand in one of their own.
 */
export async function startApp(deps: AppDeps): Promise<RunningApp> {
  const { config, prisma, logger } = deps;
  const ports = deps.ports ?? (await holdAppPorts(config));
  const metrics = deps.metrics ?? createMetrics();
  // Compaction, snapshots, divergence checks, history and PATCH replay in these threads, so that
  // none of them stalls the event loop that serves the editors.
  const work = createYjsWork({ threads: config.workers.threads, nice: config.workers.nice, logger: logger.child({ component: 'yjs-workers' }) });
  const sceneLog = new SceneLog(deps.sql, { replayer: work });
  // Long polls, event streams and the webhook deliverer wait on it; every commit here wakes them.
  const changeWatch = new ChangeWatch({ tip: () => sceneLog.changes.tip(), pollMs: config.changes.pollMs, logger: logger.child({ component: 'change-watch' }) });
  const queue = new GroupCommitQueue(sceneLog, {
    onCommitted: () => changeWatch.notify(),
    maxBatch: config.limits.appendBatchMax,
    lanes: config.limits.appendLanes,
    maxUpdatesPerRow: config.limits.appendMergeMax,
    retries: config.limits.appendRetries,
    metrics,
    logger: logger.child({ component: 'group-commit' }),
  });
  // One set of auth services for both servers: development tokens are signed with a key made in
  // this process, so the route that issues them and the extension that checks them must share it.
  const auth = createAuthServices({ config, prisma, sql: deps.sql, logger, metrics });
  const snapshots = new SnapshotService({
    prisma,
    sceneLog,
    metrics,
    logger: logger.child({ component: 'snapshots' }),
    intervalMs: config.snapshots.intervalMs,
    work,
  });
  const { extensions, fanout, follower } = buildExtensions({ config, prisma, logger, metrics, sceneLog, queue, auth, snapshots, work });
  const divergence = new DivergenceDetector({ prisma, sceneLog, snapshots, metrics, logger: logger.child({ component: 'divergence' }), work });

  const collab = createCollabServer({
    extensions,
    // Twice the update limit: a frame a little too large reaches the size guard, which refuses it
    // with a clear reason, instead of being cut by the socket layer (the provider would reconnect
    // and resend it forever).
    maxFrameBytes: 2 * config.limits.maxUpdateBytes + 4096,
    unauthenticated: config.floods.unauthenticated,
    storeDebounce: config.restCopy,
  });

  const httpApp = createHttpApp({
    prisma,
    sql: deps.sql,
    logger,
    metrics,
    bodyLimitBytes: config.limits.httpBodyBytes,
    auth,
    sceneLog,
    queue,
    hocuspocus: collab.hocuspocus,
    snapshots,
    divergence,
    freshness: config.snapshots.freshness,
    sessionGapSeconds: config.history.sessionGapSeconds,
    interchange: config.interchange,
    corruptionPolicy: config.content.corruptionPolicy,
    sceneDeleteRetentionMs: config.scenes.deleteRetentionMs,
    editorPage: {
      wsPort: ports.ws.port,
      collabPath: config.collabPath,
      publicWsUrl: config.publicUrls.ws,
      publicHttpUrl: config.publicUrls.http,
      sceneListRefreshMs: config.sceneListRefreshMs,
    },
    work,
    changeWatch,
    webhooks: { coalesceMs: config.webhooks.coalesceMs, allowPrivateAddresses: config.webhooks.allowPrivateAddresses },
  });
  const upgradesLogger = logger.child({ component: 'collab-upgrades' });
  const wsUpgrades = collabUpgrades(collab, { path: null, logger: upgradesLogger });
  const httpUpgrades = collabUpgrades(collab, { path: config.collabPath, logger: upgradesLogger });
  const requests = inFlightRequests();
  // What Hocuspocus's own listen would run (its server never listens: the ports are ours).
  await collab.hocuspocus.hooks('onListen', { instance: collab.hocuspocus, configuration: collab.hocuspocus.configuration, port: ports.ws.port });
  // Hocuspocus's request listener answers plain HTTP on `PORT`, as a Hocuspocus server does.
  ports.ws.serve({ request: (request, response) => collab.httpServer.emit('request', request, response), upgrade: wsUpgrades.upgrade });
  ports.http.serve({ request: requests.track(httpApp), upgrade: httpUpgrades.upgrade });
  const httpPort = ports.http.port;
  const wsPort = ports.ws.port;

  // A webhook's content is kept up to date from the log's newest rows on the worker pool, never
  // read from the document loaded here (src/webhooks/sceneContent.ts).
  const webhookContent = webhookSceneContent({ prisma, sceneLog, metrics, logger: logger.child({ component: 'webhook-reader' }), freshness: config.snapshots.freshness, work });
  const scheduler = await createJobScheduler({
    config,
    sql: deps.sql,
    logger: logger.child({ component: 'jobs' }),
    metrics,
    snapshots,
    divergence,
    work,
    webhooks: { readScene: (sceneId) => webhookContent.read(sceneId), watch: changeWatch },
  });
  if (config.jobs.enabled) scheduler.start();

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      wsUpgrades.refuseNew();
      httpUpgrades.refuseNew();
      // Long polls and event streams end now instead of holding the shutdown for their wait.
      changeWatch.close();
      // No new connection on either port. A port's close also waits for the WebSockets it
      // carries, which Hocuspocus closes below.
      const portsClosed = Promise.all([ports.ws.close(), ports.http.close()]);
      // The requests in flight finish first.
      await requests.idle();
      // Passes stop between two scenes; what they started commits or rolls back as a whole.
      await scheduler.stop();
      // Closes every connection of both ports; every update is in the log already, and the REST
      // copies of the scenes it unloads are left to the next start (RestCopyFollower.stop).
      follower?.stop();
      await collab.destroy();
      wsUpgrades.destroyOpen();
      httpUpgrades.destroyOpen();
      await portsClosed;
      await queue.close();
      // Last: the jobs, the HTTP requests and the document loads that hand it work are done.
      await work.close();
    })();
    return stopping;
  };

  return {
    wsPort,
    httpPort,
    wsUrl: `ws://${config.host}:${wsPort}`,
    httpUrl: `http://${config.host}:${httpPort}`,
    collabUrl: `ws://${config.host}:${httpPort}${config.collabPath === '/' ? '' : config.collabPath}`,
    collab,
    sceneLog,
    httpApp,
    snapshots,
    divergence,
    scheduler,
    fanout,
    work,
    metrics,
    stop,
  };
}
