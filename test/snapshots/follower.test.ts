import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { DivergenceDetector } from '../../src/restCopy/divergenceDetector.ts';
import { LiveSnapshotWriter } from '../../src/restCopy/liveSnapshots.ts';
import { SnapshotService } from '../../src/restCopy/snapshots.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { checksumBlocks } from '../../src/screenplay/index.ts';
import { deriveFromLog } from '../../src/scenes/sceneState.ts';
import type { RunningApp } from '../../src/server/app.ts';
import { inlineYjsWork } from '../../src/workers/pool.ts';
import { TEST_AUTH_ENV, tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { canonical } from '../helpers/documents.ts';
import { createScript } from '../helpers/fixtures.ts';
import { counterValue } from '../helpers/metrics.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort, spawnServer, waitUntilReady } from '../helpers/process.ts';
import { describeEachServer } from '../helpers/server.ts';
import { stopInstances, waitForFanout, type Instance } from '../redis/support.ts';
import { typeInto } from '../helpers/typing.ts';

// Short debounces, so a test waits a fraction of a second for what takes 2-10 s in production.
const DEBOUNCE_MS = 40;
const MAX_DEBOUNCE_MS = 200;
const FOLLOWING = { REST_COPY_FOLLOW: 'true', REST_COPY_DEBOUNCE_MS: String(DEBOUNCE_MS), REST_COPY_MAX_DEBOUNCE_MS: String(MAX_DEBOUNCE_MS) };

/**
 * Polls `check` a bounded number of times, 25 ms apart: enough tries for several max debounces
 * (the bound is a count, so a slow machine only makes the test slower, never a timed assertion).
 */
async function within(tries: number, check: () => Promise<boolean>, message: string): Promise<void> {
  for (let i = 0; i < tries; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`not after ${tries} tries: ${message}`);
}
const TRIES = 40 * Math.ceil(MAX_DEBOUNCE_MS / 25);

interface CopyRow {
  snapshot_seq: bigint | null;
  yjs_checksum: string | null;
  content_blocks: unknown;
  snapshot_source: string;
}

async function copyOf(prisma: PrismaClient, sceneId: string): Promise<CopyRow> {
  const rows = await prisma.$queryRaw<CopyRow[]>`
    SELECT snapshot_seq, yjs_checksum, content_blocks, snapshot_source::text AS snapshot_source FROM scenes WHERE scene_id = ${sceneId}::uuid`;
  const row = rows[0]!;
  return { ...row, snapshot_seq: row.snapshot_seq == null ? null : BigInt(row.snapshot_seq) };
}

/** The REST copy stands at the log's head (and the head is at least `atLeast`). */
async function copyAtHead(app: RunningApp, prisma: PrismaClient, sceneId: string, atLeast = 1n): Promise<boolean> {
  const head = await app.sceneLog.head(sceneId);
  const copy = await copyOf(prisma, sceneId);
  return head !== null && head >= atLeast && copy.snapshot_seq === head;
}

interface ListedScene {
  sceneUUID: string;
  content: { blocks: unknown[] };
  metadata: Record<string, unknown>;
}

async function listing(httpUrl: string, scriptId: string, token: string): Promise<ListedScene[]> {
  const res = await fetch(`${httpUrl}/api/scripts/${scriptId}/scenes`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { scenes: ListedScene[] };
  return body.scenes;
}


describe('REST copy follower configuration', () => {
  it('follows by default, not under NODE_ENV=test, with Hocuspocus\'s debounces', () => {
    expect(loadConfig({}).restCopy).toEqual({ follow: true, debounceMs: 2000, maxDebounceMs: 10_000 });
    expect(loadConfig({ NODE_ENV: 'test' }).restCopy.follow).toBe(false);
    expect(loadConfig({ NODE_ENV: 'test', REST_COPY_FOLLOW: 'true' }).restCopy.follow).toBe(true);
    expect(loadConfig({ REST_COPY_FOLLOW: 'no' }).restCopy.follow).toBe(false);
  });

  it('refuses bad values, naming each', () => {
    let problems: string[] = [];
    try {
      loadConfig({ REST_COPY_FOLLOW: 'sometimes', REST_COPY_DEBOUNCE_MS: '-5', REST_COPY_MAX_DEBOUNCE_MS: 'soon' });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems = error.problems;
    }
    for (const name of ['REST_COPY_FOLLOW', 'REST_COPY_DEBOUNCE_MS', 'REST_COPY_MAX_DEBOUNCE_MS']) expect(problems.join('\n')).toContain(name);
  });
});

describeEachServer('REST copy follower', { env: FOLLOWING }, ({ db, app }) => {
  it('writes the copy of what writers typed, at the log head, before anyone reads or the job runs', async () => {
    const fixture = await createScript(db().prisma, { scenes: 3 });
    const token = await tokenFor(fixture.userId);
    const writers = fixture.sceneIds.map((sceneId) => connectClient(app().wsUrl, sceneId, { token }));
    try {
      await Promise.all(writers.map((writer) => waitForSynced(writer)));
      writers.forEach((writer, i) => typeInto(writer.doc, `scene ${i} typed live`));
      await Promise.all(writers.map((writer) => waitForAcked(writer)));
      // The editors stay connected: this is the debounced store, not the flush when they leave.
      for (const sceneId of fixture.sceneIds) await within(TRIES, () => copyAtHead(app(), db().prisma, sceneId), `scene ${sceneId}'s copy reaches the head`);

      const scenes = await listing(app().httpUrl, fixture.scriptId, token);
      expect(scenes.map((scene) => scene.metadata.derived_from)).toEqual(['snapshot', 'snapshot', 'snapshot']);
      for (const [i, scene] of scenes.entries()) {
        const replayed = (await deriveFromLog(app().sceneLog, scene.sceneUUID))!;
        expect(canonical(scene.content.blocks)).toBe(canonical(replayed.blocks));
        expect(JSON.stringify(scene.content.blocks)).toContain(`scene ${i} typed live`);
        const copy = await copyOf(db().prisma, scene.sceneUUID);
        expect(copy.snapshot_source).toBe('yjs');
        expect(copy.yjs_checksum).toBe(checksumBlocks(replayed.blocks));
        // The divergence detector agrees with the copy the follower wrote.
        expect((await app().divergence.checkScene(scene.sceneUUID)).cause).toBe('in_sync');
      }
      expect(await counterValue(app().metrics.restCopyFollowerSnapshots, { result: 'written' })).toBeGreaterThanOrEqual(3);
      expect(await counterValue(app().metrics.restCopyFollowerSnapshots, { result: 'failed' })).toBe(0);
    } finally {
      for (const writer of writers) writer.destroy();
    }
    await waitFor(() => app().collab.hocuspocus.getDocumentsCount() === 0, 'the scenes unload after their editors leave');
    const health = await fetch(`${app().httpUrl}/api/health/persistence`);
    expect(health.status).toBe(200);
  });

  it('never lets a stale in-memory state replace a newer copy, even when it loses the race to the write', async () => {
    const fixture = await createScript(db().prisma);
    const sceneId = fixture.sceneIds[0]!;
    const token = await tokenFor(fixture.userId);
    const writer = connectClient(app().wsUrl, sceneId, { token });
    try {
      await waitForSynced(writer);
      typeInto(writer.doc, 'first');
      await waitForAcked(writer);
      // A document that stopped here: the log's state now, as a lagging instance would hold it.
      const stale = new Y.Doc();
      for (const row of await app().sceneLog.loadNewest(sceneId, 10_000)) Y.applyUpdate(stale, row.update);
      typeInto(writer.doc, ' then more');
      await waitForAcked(writer);
      await within(TRIES, () => copyAtHead(app(), db().prisma, sceneId), 'the follower writes the newer state');
      const newer = await copyOf(db().prisma, sceneId);
      expect(JSON.stringify(newer.content_blocks)).toContain('first then more');

      const prisma = db().prisma;
      const metrics = createMetrics({ defaultMetrics: false });
      const deps = { sceneLog: app().sceneLog, work: inlineYjsWork, metrics, logger: silentLogger() };
      const service = new SnapshotService({ prisma, sceneLog: app().sceneLog, metrics, logger: silentLogger(), intervalMs: 300_000 });
      // The stale document is provably an older committed state; the look ahead of the write sees the newer copy.
      const looked = await new LiveSnapshotWriter({ ...deps, snapshots: service }).snapshotDocument(sceneId, stale);
      expect(looked.result).toBe('current');
      expect(looked.seq).not.toBeNull();
      expect(looked.seq! < newer.snapshot_seq!).toBe(true);
      // The newer copy lands between the look and the write (here: the look sees none): the guarded write refuses.
      class LateLook extends SnapshotService {
        override async snapshotSeq(): Promise<bigint | null> {
          return null;
        }
      }
      const lateService = new LateLook({ prisma, sceneLog: app().sceneLog, metrics, logger: silentLogger(), intervalMs: 300_000 });
      const raced = await new LiveSnapshotWriter({ ...deps, snapshots: lateService }).snapshotDocument(sceneId, stale);
      expect(raced.result).toBe('superseded');
      expect(await copyOf(db().prisma, sceneId)).toEqual(newer);
      expect(await counterValue(metrics.restCopyFollowerSnapshots, { result: 'written' })).toBe(0);
      stale.destroy();
    } finally {
      writer.destroy();
    }
  });

  it('leaves the copy alone for a document that is the state of no seq (a gap)', async () => {
    const fixture = await createScript(db().prisma);
    const sceneId = fixture.sceneIds[0]!;
    const token = await tokenFor(fixture.userId);
    const writer = connectClient(app().wsUrl, sceneId, { token });
    try {
      await waitForSynced(writer);
      // One acknowledged keystroke at a time: one row each, each depending on the one before.
      for (const ch of 'gap') {
        typeInto(writer.doc, ch);
        await waitForAcked(writer);
      }
      await within(TRIES, () => copyAtHead(app(), db().prisma, sceneId), 'the copy reaches the head');
      const before = await copyOf(db().prisma, sceneId);
      const rows = await app().sceneLog.loadNewest(sceneId, 10_000);
      expect(rows.length).toBeGreaterThanOrEqual(3);
      // The oldest and the newest row without the ones between: the newest waits for them.
      const holey = new Y.Doc();
      Y.applyUpdate(holey, rows.at(-1)!.update);
      Y.applyUpdate(holey, rows[0]!.update);
      const metrics = createMetrics({ defaultMetrics: false });
      const outcome = await new LiveSnapshotWriter({
        sceneLog: app().sceneLog,
        snapshots: app().snapshots,
        work: inlineYjsWork,
        metrics,
        logger: silentLogger(),
      }).snapshotDocument(sceneId, holey);
      expect(outcome).toEqual({ result: 'unproven', sceneId, seq: null });
      expect(await counterValue(metrics.restCopyFollowerSnapshots, { result: 'unproven' })).toBe(1);
      expect(await copyOf(db().prisma, sceneId)).toEqual(before);
      holey.destroy();
    } finally {
      writer.destroy();
    }
  });
});

describeEachServer('REST copy follower, a scene typed into without a pause', { env: { ...FOLLOWING, REST_COPY_DEBOUNCE_MS: '600000', REST_COPY_MAX_DEBOUNCE_MS: String(MAX_DEBOUNCE_MS) } }, ({ db, app }) => {
  it('writes after the max debounce while the typing goes on (the debounce alone never would)', async () => {
    const fixture = await createScript(db().prisma);
    const sceneId = fixture.sceneIds[0]!;
    const token = await tokenFor(fixture.userId);
    const writer = connectClient(app().wsUrl, sceneId, { token });
    try {
      await waitForSynced(writer);
      // Every keystroke restarts the 10-minute debounce: only the max debounce can write.
      let keystrokes = 0;
      await within(TRIES, async () => {
        typeInto(writer.doc, 'x');
        keystrokes += 1;
        await waitForAcked(writer);
        return (await counterValue(app().metrics.restCopyFollowerSnapshots, { result: 'written' })) > 0;
      }, 'a snapshot while typing');
      expect(keystrokes).toBeGreaterThan(1);
      const copy = await copyOf(db().prisma, sceneId);
      expect(copy.snapshot_seq).not.toBeNull();
      expect(copy.snapshot_source).toBe('yjs');
    } finally {
      writer.destroy();
    }
  });
});

describeEachServer('REST copy follower, a busy scene', { env: { ...FOLLOWING, REST_COPY_DEBOUNCE_MS: '600000', REST_COPY_MAX_DEBOUNCE_MS: '600000' } }, ({ db, app }) => {
  it('writes once for a burst of keystrokes, and when the last editor leaves (no write per keystroke)', async () => {
    const fixture = await createScript(db().prisma);
    const sceneId = fixture.sceneIds[0]!;
    const token = await tokenFor(fixture.userId);
    const written = () => counterValue(app().metrics.restCopyFollowerSnapshots, { result: 'written' });
    const writer = connectClient(app().wsUrl, sceneId, { token });
    await waitForSynced(writer);
    for (let burst = 0; burst < 5; burst += 1) {
      typeInto(writer.doc, `burst ${burst} `);
      await waitForAcked(writer);
    }
    // 40-odd acknowledged updates, all inside one debounce: nothing written yet.
    expect(await written()).toBe(0);
    writer.destroy();
    // The pending store runs as the last editor leaves, then the scene unloads.
    await waitFor(() => app().collab.hocuspocus.getDocumentsCount() === 0, 'the scene unloads after its store');
    expect(await written()).toBe(1);
    expect(await copyAtHead(app(), db().prisma, sceneId)).toBe(true);
    const count = await db().prisma.$queryRaw<Array<{ n: bigint }>>`
      SELECT count(*) AS n FROM scene_snapshot_metadata WHERE scene_id = ${sceneId}::uuid AND snapshot_source = 'yjs'`;
    expect(Number(count[0]!.n)).toBe(1);
  });

  it('leaves a pending store to the next start when the server shuts down: the log has every update, the copy says it is behind', async () => {
    const fixture = await createScript(db().prisma);
    const sceneId = fixture.sceneIds[0]!;
    const token = await tokenFor(fixture.userId);
    const writer = connectClient(app().wsUrl, sceneId, { token });
    await waitForSynced(writer);
    typeInto(writer.doc, 'typed before the deploy');
    await waitForAcked(writer);
    expect(await copyAtHead(app(), db().prisma, sceneId)).toBe(false);
    const written = await counterValue(app().metrics.restCopyFollowerSnapshots, { result: 'written' });
    // A stop with the editor still connected: a deploy's restart is not held for a conversion per scene.
    await app().stop();
    writer.destroy();
    expect(await counterValue(app().metrics.restCopyFollowerSnapshots, { result: 'written' })).toBe(written);
    const head = await app().sceneLog.head(sceneId);
    const rows = await db().prisma.$queryRaw<Array<{ snapshot_seq: bigint | null }>>`SELECT snapshot_seq FROM scenes WHERE scene_id = ${sceneId}::uuid`;
    const snapshotSeq = rows[0]!.snapshot_seq == null ? null : BigInt(rows[0]!.snapshot_seq);
    expect(head).not.toBeNull();
    expect(snapshotSeq === null || snapshotSeq < head!).toBe(true);
  });
});

// Two server processes (several instances in one process would share the fan-out's identifier)
// on one PostgreSQL database (PGlite is one process's) and the shared Redis, with a prefix of their own.
describe('REST copy follower, two server processes through Redis', () => {
  let db: TestDatabase;
  let instances: Instance[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const prefix = `wr-follower-${randomUUID()}`;
    instances = await Promise.all(
      [0, 1].map(async () => {
        const [wsPort, httpPort] = [await freePort(), await freePort()];
        const server = spawnServer({
          ...TEST_AUTH_ENV,
          ...FOLLOWING,
          PORT: String(wsPort),
          HTTP_PORT: String(httpPort),
          DATABASE_URL: db.databaseUrl!,
          REDIS_URL: 'redis://127.0.0.1:6379',
          REDIS_PREFIX: prefix,
          JOBS_ENABLED: 'false',
        });
        await waitUntilReady(httpPort, server);
        return { server, wsUrl: `ws://127.0.0.1:${wsPort}`, httpPort };
      }),
    );
    await waitForFanout(instances, 'multi-instance');
  });
  afterAll(async () => {
    await stopInstances(instances);
    await db?.close();
  });

  it('the copies converge on the log head while writers on both instances type', async () => {
    const fixture = await createScript(db.prisma, { scenes: 2 });
    const token = await tokenFor(fixture.userId);
    const sceneLog = new SceneLog(db.database.sql);
    const metrics = createMetrics({ defaultMetrics: false });
    const snapshots = new SnapshotService({ prisma: db.prisma, sceneLog, metrics, logger: silentLogger(), intervalMs: 300_000 });
    const divergence = new DivergenceDetector({ prisma: db.prisma, sceneLog, snapshots, metrics, logger: silentLogger(), sweepLimit: 10, work: inlineYjsWork });
    const clients: TestClient[] = fixture.sceneIds.flatMap((sceneId) => instances.map((instance) => connectClient(instance.wsUrl, sceneId, { token })));
    try {
      await Promise.all(clients.map((client) => waitForSynced(client)));
      const converged = async () => {
        for (let scene = 0; scene < fixture.sceneIds.length; scene += 1) {
          const [a, b] = [clients[2 * scene]!, clients[2 * scene + 1]!];
          await waitFor(() => a.doc.getXmlFragment('default').toString() === b.doc.getXmlFragment('default').toString(), 'both editors see every edit');
        }
      };
      for (let round = 0; round < 4; round += 1) {
        for (const [i, client] of clients.entries()) typeInto(client.doc, ` r${round}c${i}`);
        await Promise.all(clients.map((client) => waitForAcked(client)));
        // Each round on top of the last one everywhere: a writer that typed before the other's
        // round arrived would put its text inside that round's (a legitimate merge, but then no
        // round reads back whole below).
        await converged();
      }
      for (const [scene, sceneId] of fixture.sceneIds.entries()) {
        const atHead = async () => {
          const head = await sceneLog.head(sceneId);
          return head !== null && (await copyOf(db.prisma, sceneId)).snapshot_seq === head;
        };
        await within(TRIES, atHead, `scene ${sceneId}'s copy reaches the head`);
        const replayed = (await deriveFromLog(sceneLog, sceneId))!;
        const copy = await copyOf(db.prisma, sceneId);
        expect(copy.yjs_checksum).toBe(checksumBlocks(replayed.blocks));
        for (let i = 0; i < 2 * 4; i += 1) expect(JSON.stringify(copy.content_blocks)).toContain(`r${i % 4}c${2 * scene + Math.floor(i / 4)}`);
        expect((await divergence.checkScene(sceneId)).cause).toBe('in_sync');
      }
      for (const instance of instances) {
        const listed = await listing(`http://127.0.0.1:${instance.httpPort}`, fixture.scriptId, token);
        expect(listed.map((scene) => scene.metadata.derived_from)).toEqual(['snapshot', 'snapshot']);
      }
    } finally {
      for (const client of clients) client.destroy();
    }
  });
});
