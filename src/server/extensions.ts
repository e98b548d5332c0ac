import type { Extension } from '@hocuspocus/server';
import { AppendLogPersistence } from '../../extensions/AppendLogPersistence.ts';
import { Authentication } from '../../extensions/Authentication.ts';
import { ConnectionLimits } from '../../extensions/ConnectionLimits.ts';
import { FloodGuards } from '../../extensions/FloodGuards.ts';
import { RedisFanout } from '../../extensions/RedisFanout.ts';
import { RestCopyFollower } from '../../extensions/RestCopyFollower.ts';
import { SceneSeeding } from '../../extensions/SceneSeeding.ts';
import { SchemaGate } from '../../extensions/SchemaGate.ts';
import { UpdateGuards } from '../../extensions/UpdateGuards.ts';
import type { AuthServices } from '../auth/index.ts';
import type { Config } from '../config.ts';
import { OpenConnections } from '../collab/openConnections.ts';
import { UpdateAdmission } from '../guards/admission.ts';
import { ConnectionLedger } from '../guards/connectionLimits.ts';
import { LiveSnapshotWriter } from '../restCopy/liveSnapshots.ts';
import { SceneLoadValidator } from '../restCopy/loadValidation.ts';
import type { SnapshotService } from '../restCopy/snapshots.ts';
import { SceneSeeder } from '../restCopy/seeding.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { GroupCommitQueue } from '../log/groupCommit.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../metrics.ts';
import { SCREENPLAY_SCHEMA_VERSION } from '../screenplay/schema.ts';
import type { YjsWork } from '../workers/pool.ts';

export interface ExtensionDeps {
  config: Config;
  prisma: PrismaClient;
  logger: Logger;
  metrics: Metrics;
  sceneLog: SceneLog;
  queue: GroupCommitQueue;
  /** The server's auth services, shared with the HTTP API (dev tokens are signed with a per-process key). */
  auth: AuthServices;
  /** The guarded REST copy write the follower uses, shared with the snapshot job. */
  snapshots: SnapshotService;
  /** The server's worker pool: the follower converts there. */
  work: YjsWork;
}

export interface CollabExtensions {
  /** In the order their hooks must run. */
  extensions: Extension[];
  /** Fan-out to other instances through Redis; null without `REDIS_URL` (single instance). */
  fanout: RedisFanout | null;
  /** The REST copy follower; null with `REST_COPY_FOLLOW` off. The server stops it before it unloads every scene at shutdown. */
  follower: RestCopyFollower | null;
}

/**
 * The one place where the server's extensions are chosen and ordered. Hocuspocus runs each hook
 * through the extensions by descending `priority`, then in this order; each extension's priority
 * says why it sits where it does.
 */
export function buildExtensions(deps: ExtensionDeps): CollabExtensions {
  const { config, prisma, logger, metrics, sceneLog, queue, auth, snapshots, work } = deps;
  // 1300, onConnect: an outdated editor is told to reload before any token or row is looked at.
  const schemaGate = new SchemaGate({
    serverSchemaVersion: SCREENPLAY_SCHEMA_VERSION,
    unversioned: config.editorSchemaGate,
    metrics,
    logger: logger.child({ component: 'schema-gate' }),
  });
  // 1200, onAuthenticate: token, scene and access; sets the context the append log attributes to.
  // Keeps watching each connection it let in: token expiry and refresh, access changes.
  const authentication = new Authentication({
    verifier: auth.verifier,
    access: auth.access,
    openConnections: new OpenConnections({
      verifier: auth.verifier,
      access: auth.access,
      recheckIntervalMs: config.auth.recheckIntervalMs,
      tokenRefreshLeadMs: config.auth.tokenRefreshLeadMs,
      metrics,
      logger: logger.child({ component: 'open-connections' }),
    }),
    metrics,
    logger: logger.child({ component: 'auth' }),
  });
  // 1250: decides on every frame as it arrives, before any hook: awareness and sync request
  // floods, and what a socket sends before it is served. Its connected hook only records scenes.
  const floodGuards = new FloodGuards({ limits: config.floods, metrics, logger: logger.child({ component: 'flood-guards' }) });
  // 1150: onUpgrade counts sockets per address; onAuthenticate, after Authentication (1200), refuses
  // a scene over the per-user or per-socket limit before it is loaded.
  const connectionLimits = new ConnectionLimits({
    ledger: new ConnectionLedger(config.floods),
    trustProxyHops: config.floods.trustProxyHops,
    metrics,
    logger: logger.child({ component: 'connection-limits' }),
  });
  // One verdict per content message (size, rate, decoding), shared by the two extensions below:
  // the append log asks when a frame arrives, the guards enforce it in beforeSync.
  const admission = new UpdateAdmission({
    maxUpdateBytes: config.limits.maxUpdateBytes,
    updatesPerMinute: config.limits.updatesPerMinute,
  });
  // 1100, beforeSync: refuses what the admission refused, before the append log stores the update.
  const guards = new UpdateGuards({ admission, metrics, logger: logger.child({ component: 'update-guards' }) });
  // 1000: appends in beforeSync, after the guards; loads before every other onLoadDocument.
  const persistence = new AppendLogPersistence({
    log: sceneLog,
    queue,
    metrics,
    logger: logger.child({ component: 'append-log' }),
    // Appends start when a frame arrives, once the admission has decided on it.
    admission,
  });
  // 900, onLoadDocument: after the append log replayed the scene (1000), seeds an empty scene from
  // REST once, detects a log that replays empty, reports divergence.
  const seeding = new SceneSeeding({
    validator: new SceneLoadValidator({
      prisma,
      sceneLog,
      seeder: new SceneSeeder({ prisma, sceneLog }),
      corruptionPolicy: config.content.corruptionPolicy,
      metrics,
      logger: logger.child({ component: 'scene-seeding' }),
      work,
    }),
  });
  // 1000, with REDIS_URL: several instances share documents. Updates from other instances arrive
  // with the origin `redis` and are never appended (the instance that received them stored them).
  const fanout = config.redis.url
    ? new RedisFanout({
        url: config.redis.url,
        prefix: config.redis.prefix,
        metrics,
        logger: logger.child({ component: 'redis-fanout' }),
      })
    : null;
  // 100, onStoreDocument (REST_COPY_FOLLOW): the REST copy follows the live document, written on
  // Hocuspocus's debounced store; the only store hook.
  const follower = config.restCopy.follow
    ? new RestCopyFollower({
        writer: new LiveSnapshotWriter({ sceneLog, snapshots, work, metrics, logger: logger.child({ component: 'rest-copy-follower' }) }),
      })
    : null;
  const extensions: Extension[] = [floodGuards, schemaGate, authentication, connectionLimits, guards, persistence, seeding];
  if (fanout) extensions.push(fanout);
  if (follower) extensions.push(follower);
  return { extensions, fanout, follower };
}
