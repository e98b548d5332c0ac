import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { storedOnceProblem } from '../helpers/logContent.ts';
import { MarkerWriter, paragraphs } from '../helpers/writer.ts';
import { PrivateRedis } from './privateRedis.ts';
import { fanoutMode, startInstances, stopInstances, type Instance } from './support.ts';

/** Writers per server process. */
const WRITERS_PER_SERVER = 2;
const BURST = 8;

describe('two server processes sharing PostgreSQL and Redis', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let instances: Instance[] = [];
  let sceneId: string;
  let userId: string;
  let token: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    redis = await PrivateRedis.start();
    const fixture = await createScript(db.prisma);
    sceneId = fixture.sceneIds[0]!;
    userId = fixture.userId;
    token = await tokenFor(userId, { ttlSeconds: 3600 });
    instances = await startInstances(2, db.databaseUrl!, redis.url);
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await stopInstances(instances);
    await redis?.kill();
    await db?.close();
  });

  it('converges, keeps acknowledging while Redis is down, reconciles when it is back, and stores every update exactly once', { timeout: 120_000 }, async () => {
    const writers: MarkerWriter[] = [];
    instances.forEach((instance, s) => {
      for (let w = 0; w < WRITERS_PER_SERVER; w += 1) {
        const client = connectClient(instance.wsUrl, sceneId, { token });
        clients.push(client);
        writers.push(new MarkerWriter(s * WRITERS_PER_SERVER + w, client, { burst: BURST, intervalMs: 3 }));
      }
    });
    await Promise.all(writers.map((w) => waitForSynced(w.client)));

    // One paragraph per writer, created on the first server: it reaches the second through Redis.
    const first = writers[0]!.client;
    first.doc.transact(() => {
      for (let i = 0; i < writers.length; i += 1) {
        const p = new Y.XmlElement('paragraph');
        p.insert(0, [new Y.XmlText('')]);
        first.doc.getXmlFragment('default').insert(i, [p]);
      }
    });
    await Promise.all(writers.map((w) => waitFor(() => paragraphs(w.client.doc).length === writers.length, 'paragraphs reach every writer')));

    // Redis up: every editor sees the others' words, whichever server they are on.
    writers.forEach((w) => w.start());
    await waitFor(
      () => writers.every((reader) => writers.every((author) => paragraphs(reader.client.doc)[author.index]!.includes(`w${author.index}:00020 `))),
      'every editor sees every other editor’s first 20 words',
      20_000,
    );

    // Redis goes away: both servers keep acknowledging their own editors.
    const typedAtKill = writers.map((w) => w.typed);
    await redis.kill();
    await Promise.all(instances.map((instance) => waitFor(async () => (await fanoutMode(instance)) === 'single-server', 'single-server mode reported')));
    const acksAtOutage = writers.map((w) => w.client.acks());
    await waitFor(() => writers.every((w, i) => w.client.acks() >= acksAtOutage[i]! + 40), 'acknowledgements continue without Redis', 20_000);

    // The outage is real: a word typed after Redis died is on its own server only.
    const lateWord = (w: MarkerWriter) => w.marker(typedAtKill[w.index]! + 1);
    const [local, remote] = [writers[0]!, writers[WRITERS_PER_SERVER]!];
    expect(paragraphs(remote.client.doc)[remote.index]).toContain(lateWord(remote));
    expect(paragraphs(local.client.doc)[remote.index]).not.toContain(lateWord(remote));
    expect(paragraphs(remote.client.doc)[local.index]).not.toContain(lateWord(local));

    // Redis comes back while nobody types: the open documents are reconciled all the same.
    writers.forEach((w) => w.stop());
    await Promise.all(writers.map((w) => waitForAcked(w.client, 20_000)));
    await redis.restart();
    await Promise.all(instances.map((instance) => waitFor(async () => (await fanoutMode(instance)) === 'multi-instance', 'fan-out reconnected', 20_000)));
    await waitFor(() => new Set(writers.map((w) => JSON.stringify(paragraphs(w.client.doc)))).size === 1, 'editors converge without a new edit', 20_000);

    // And fan-out carries new edits again.
    writers.forEach((w) => w.start());
    const acksAtReturn = writers.map((w) => w.client.acks());
    await waitFor(() => writers.every((w, i) => w.client.acks() >= acksAtReturn[i]! + 20), 'typing goes on after Redis is back', 20_000);

    writers.forEach((w) => w.stop());
    await Promise.all(writers.map((w) => waitForAcked(w.client, 20_000)));
    await waitFor(() => new Set(writers.map((w) => JSON.stringify(paragraphs(w.client.doc)))).size === 1, 'all editors converge', 20_000);

    // Nothing lost, nothing doubled: each paragraph holds its writer's words 1..typed, in order.
    const converged = paragraphs(writers[0]!.client.doc);
    for (const w of writers) {
      const expected = Array.from({ length: w.typed }, (_, n) => `w${w.index}:${String(n + 1).padStart(5, '0')} `).join('');
      expect(converged[w.index]).toBe(expected);
    }

    // Every update stored exactly once: the editors' rows hold exactly the updates they sent.
    const rows = await db.database.sql.query<{ yjs_update: Uint8Array; compacted_count: number }>(
      'test_client_rows',
      'SELECT yjs_update, compacted_count FROM scene_versions WHERE scene_id = $1::uuid AND created_by = $2::uuid AND is_compacted = false',
      [sceneId, userId],
    );
    const sent = writers.flatMap((w) => w.sent);
    expect(storedOnceProblem(rows.map((row) => ({ update: row.yjs_update, updateCount: Number(row.compacted_count) })), sent)).toBeNull();

    // The log alone gives the same document.
    const fromLog = new Y.Doc();
    Y.applyUpdate(fromLog, replayUpdates(await new SceneLog(db.database.sql).load(sceneId)).state);
    expect(paragraphs(fromLog)).toEqual(converged);

    for (const { server } of instances) {
      expect(server.child.exitCode).toBeNull();
      expect(server.output()).not.toMatch(/unhandled/i);
    }
  });

  it('joins documents that were opened while Redis was away once it is back', { timeout: 60_000 }, async () => {
    const fixture = await createScript(db.prisma, { ownerId: userId });
    const scene = fixture.sceneIds[0]!;
    await redis.kill();
    await Promise.all(instances.map((instance) => waitFor(async () => (await fanoutMode(instance)) === 'single-server', 'single-server mode reported')));

    // The scene is loaded on both servers during the outage; each editor sees only its own server.
    const [a, b] = instances.map((instance) => {
      const client = connectClient(instance.wsUrl, scene, { token });
      clients.push(client);
      return client;
    }) as [TestClient, TestClient];
    await Promise.all([waitForSynced(a), waitForSynced(b)]);
    const sent: Uint8Array[] = [];
    for (const client of [a, b]) client.doc.on('update', (update: Uint8Array, origin: unknown) => origin !== client.provider && sent.push(update));
    a.doc.getText('notes').insert(0, 'typed on the first server while Redis was down. ');
    b.doc.getText('notes').insert(0, 'typed on the second server while Redis was down. ');
    await Promise.all([waitForAcked(a), waitForAcked(b)]);
    expect(a.doc.getText('notes').toString()).not.toContain('second server');

    await redis.restart();
    await waitFor(
      () => a.doc.getText('notes').toString() === b.doc.getText('notes').toString() && a.doc.getText('notes').toString().includes('second server'),
      'the scene converges across servers once Redis is back',
      20_000,
    );
    a.doc.getText('notes').insert(0, 'after. ');
    await waitForAcked(a);
    await waitFor(() => b.doc.getText('notes').toString().startsWith('after. '), 'new edits fan out again', 20_000);

    const rows = await db.database.sql.query<{ yjs_update: Uint8Array; compacted_count: number }>(
      'test_client_rows_notes',
      'SELECT yjs_update, compacted_count FROM scene_versions WHERE scene_id = $1::uuid AND created_by = $2::uuid',
      [scene, userId],
    );
    expect(storedOnceProblem(rows.map((row) => ({ update: row.yjs_update, updateCount: Number(row.compacted_count) })), sent)).toBeNull();
  });
});
