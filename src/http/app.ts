import type { Hocuspocus } from '@hocuspocus/server';
import express, { type Express } from 'express';
import type { AuthServices } from '../auth/index.ts';
import type { DivergenceDetector } from '../restCopy/divergenceDetector.ts';
import type { SqlExecutor } from '../db/sql.ts';
import { SceneBlamer } from '../history/blame.ts';
import { SceneDiffs } from '../history/diffPoints.ts';
import { Labels } from '../history/labels.ts';
import { LogAuthorship } from '../log/authorship.ts';
import { SceneRestorer } from '../history/restore.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { GroupCommitQueue } from '../log/groupCommit.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import type { FreshnessThresholds } from '../scenes/freshness.ts';
import { SceneReader } from '../scenes/reader.ts';
import type { SnapshotService } from '../restCopy/snapshots.ts';
import { inlineYjsWork, type YjsWork } from '../workers/pool.ts';
import { UserDirectory } from '../auth/users.ts';
import { devTokenRoutes } from './devToken.ts';
import { diffRoutes } from './diff.ts';
import { editorPageRoutes, type EditorPageOptions } from './editorPage.ts';
import { errorHandler, notFound } from './errors.ts';
import { healthRoutes } from './health.ts';
import { interchangeRoutes } from './interchange.ts';
import { ScriptImporter } from '../interchange/importer.ts';
import { LiveScriptReader } from '../interchange/liveScript.ts';
import { SceneSeeder } from '../restCopy/seeding.ts';
import type { CorruptionPolicy } from '../restCopy/decisions.ts';
import { labelRoutes } from './labels.ts';
import { openApiDocument } from './openapi.ts';
import { restoreRoutes } from './restore.ts';
import { sceneRoutes } from './scenes.ts';
import { collaboratorRoutes } from './collaborators.ts';
import { scriptRoutes } from './scripts.ts';
import { ScriptStore } from '../scripts/scriptStore.ts';
import { SceneContentWriter } from '../scenes/writer.ts';
import { publishLifecycleCensus } from '../scenes/lifecycle.ts';
import { snapshotRoutes } from './snapshots.ts';
import { versionRoutes } from './versions.ts';
import { changeRoutes } from './changes.ts';
import { webhookRoutes } from './webhooks.ts';
import { ChangeFeed } from '../changes/feed.ts';
import type { ChangeWatch } from '../changes/watch.ts';
import { WebhookStore } from '../webhooks/store.ts';

export interface HttpAppDeps {
  prisma: PrismaClient;
  /** The database's statements outside Prisma (the label tables of src/history). */
  sql: SqlExecutor;
  logger: Logger;
  metrics: Metrics;
  bodyLimitBytes: number;
  /** The same verifier (and token cache) and access decisions as the WebSocket server. */
  auth: AuthServices;
  sceneLog: SceneLog;
  /** The group commit queue every client update goes through; PATCH appends through it too. */
  queue: GroupCommitQueue;
  /** The collaboration server's documents: PATCH edits them, reads use the loaded ones. */
  hocuspocus: Hocuspocus;
  snapshots: SnapshotService;
  divergence: DivergenceDetector;
  /** How a snapshot's age reads in scene responses (`config.snapshots.freshness`). */
  freshness: FreshnessThresholds;
  /** The screenplay editor page at `/` (src/http/editorPage.ts); absent, the app is the API only. */
  editorPage?: EditorPageOptions;
  /** A writer's editing session ends after this many seconds without a row of theirs (default 300). */
  sessionGapSeconds?: number;
  /** Where reads that replay a log, history and PATCH do their Yjs work (the worker pool); default: this thread. */
  work?: YjsWork;
  /** How long a deleted scene can be restored (`config.scenes.deleteRetentionMs`; default 30 days). */
  sceneDeleteRetentionMs?: number;
  /** Import limits (`config.interchange`; defaults: 2 MiB, 2000 scenes). */
  interchange?: { importMaxBytes: number; importMaxScenes: number };
  /** What seeding does with a corrupt log (`CORRUPTION_POLICY`; default `log`): imports and exports seed scenes. */
  corruptionPolicy?: CorruptionPolicy;
  /** The change feed's wake-ups (this instance's commits, and a shared poll for the others'). */
  changeWatch: ChangeWatch;
  /** `config.webhooks`' settings the webhook routes need. */
  webhooks: { coalesceMs: number; allowPrivateAddresses: boolean };
}

/** Bounds the `/metrics` scrape's database work, so a slow database cannot stall Prometheus. */
const METRICS_REFRESH_TIMEOUT_MS = 2000;

/** The HTTP API as an Express app that does not listen: `npm start` and the tests both mount it. */
export function createHttpApp(deps: HttpAppDeps): Express {
  const { prisma, logger, metrics, auth, sceneLog, queue, hocuspocus, snapshots, divergence } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: deps.bodyLimitBytes }));

  const reader = new SceneReader({
    prisma,
    sceneLog,
    metrics,
    logger: logger.child({ component: 'scene-reader' }),
    // Only fully loaded documents: one still loading has not replayed its log yet.
    liveDocument: (sceneId) => hocuspocus.documents.get(sceneId),
    freshness: deps.freshness,
    ...(deps.work ? { work: deps.work } : {}),
  });
  const writer = new SceneContentWriter({ sceneLog, hocuspocus, queue, metrics, logger: logger.child({ component: 'scene-writer' }), ...(deps.work ? { work: deps.work } : {}) });

  app.use(healthRoutes({ prisma, sceneLog, metrics, logger, snapshots, divergence }));
  app.get('/metrics', async (_req, res) => {
    // The snapshot lag and the scenes per lifecycle state are properties of the database, not of
    // this process: refresh them for the scrape. A failure leaves the last value and never fails the scrape.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([
        snapshots.lagStats().catch((error: unknown) => logger.warn({ err: error }, 'snapshot lag not refreshed for /metrics')),
        publishLifecycleCensus(sceneLog.lifecycle, metrics.scenesByState).catch((error: unknown) =>
          logger.warn({ err: error }, 'scenes by state not refreshed for /metrics'),
        ),
      ]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, METRICS_REFRESH_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    res.set('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  app.get('/api/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });
  if (auth.devTokens) app.use(devTokenRoutes({ devTokens: auth.devTokens, prisma, logger }));
  app.use(sceneRoutes({ verifier: auth.verifier, access: auth.access, reader, writer, logger }));
  const scriptStore = new ScriptStore({ prisma, sceneLog });
  const userDirectory = new UserDirectory(prisma);
  app.use(
    scriptRoutes({
      verifier: auth.verifier,
      access: auth.access,
      store: scriptStore,
      reader,
      users: userDirectory,
      sceneDeleteRetentionMs: deps.sceneDeleteRetentionMs ?? 30 * 24 * 60 * 60 * 1000,
    }),
  );
  app.use(collaboratorRoutes({ verifier: auth.verifier, access: auth.access, store: scriptStore, users: userDirectory }));
  const seeder = new SceneSeeder({ prisma, sceneLog });
  const corruptionPolicy = deps.corruptionPolicy ?? 'log';
  const interchangeLimits = deps.interchange ?? { importMaxBytes: 2 * 1024 * 1024, importMaxScenes: 2000 };
  app.use(
    interchangeRoutes({
      verifier: auth.verifier,
      access: auth.access,
      users: userDirectory,
      store: scriptStore,
      importer: new ScriptImporter({ store: scriptStore, seeder, corruptionPolicy, limits: { maxScenes: interchangeLimits.importMaxScenes } }),
      live: new LiveScriptReader({
        store: scriptStore,
        sceneLog,
        seeder,
        corruptionPolicy,
        liveDocument: (sceneId) => hocuspocus.documents.get(sceneId),
        ...(deps.work ? { work: deps.work } : {}),
      }),
      reader,
      writer,
      logger: logger.child({ component: 'interchange' }),
      work: deps.work ?? inlineYjsWork,
      importMaxBytes: interchangeLimits.importMaxBytes,
    }),
  );
  app.use(snapshotRoutes({ verifier: auth.verifier, access: auth.access, snapshots, divergence }));
  const labels = new Labels({
    sql: deps.sql,
    sceneLog,
    prisma,
    // Seeds a scene that has only its REST copy, so labelling it now keeps that content.
    loadScene: async (sceneId) => {
      const connection = await hocuspocus.openDirectConnection(sceneId, {});
      await connection.disconnect();
    },
  });
  app.use(labelRoutes({ verifier: auth.verifier, access: auth.access, labels }));
  const restorer = new SceneRestorer({ points: labels.points, writer, ...(deps.work ? { work: deps.work } : {}) });
  app.use(restoreRoutes({ verifier: auth.verifier, access: auth.access, restorer, logger: logger.child({ component: 'restore' }) }));
  const diffs = new SceneDiffs({ points: labels.points, log: sceneLog, ...(deps.work ? { work: deps.work } : {}) });
  const blamer = new SceneBlamer({
    authorship: new LogAuthorship(deps.sql),
    users: new UserDirectory(prisma),
    ...(deps.work ? { work: deps.work } : {}),
  });
  app.use(diffRoutes({ verifier: auth.verifier, access: auth.access, diffs, blamer, reader }));

  app.use(
    versionRoutes({ verifier: auth.verifier, access: auth.access, sceneLog, snapshots, users: new UserDirectory(prisma), sessionGapSeconds: deps.sessionGapSeconds ?? 300 }),
  );

  app.use(
    changeRoutes({
      verifier: auth.verifier,
      access: auth.access,
      feed: new ChangeFeed({ changes: sceneLog.changes, prisma, watch: deps.changeWatch }),
      logger: logger.child({ component: 'change-feed' }),
    }),
  );
  app.use(webhookRoutes({ verifier: auth.verifier, access: auth.access, store: new WebhookStore(deps.sql), changes: sceneLog.changes, ...deps.webhooks }));

  if (deps.editorPage) app.use(editorPageRoutes({ ...deps.editorPage, prisma, devTokens: auth.devTokens !== null }));

  app.use((req, _res, next) => next(notFound(`No route for ${req.method} ${req.path}`)));
  app.use(errorHandler(deps.logger));
  return app;
}
