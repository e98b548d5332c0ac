import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { structStoredTwice } from '../helpers/logContent.ts';
import { MarkerWriter, paragraphs } from '../helpers/writer.ts';
import { PrivateRedis } from './privateRedis.ts';
import { scrapedCounter, startInstances, stopInstances, waitForFanout, type Instance } from './support.ts';

/** Words each phase types: enough for several group commits per phase, on any machine. */
const WORDS = 25;

// Two server processes on one PostgreSQL database and one Redis (PGlite is one process: the
// in-process check of the same rules is test/log/exactlyOnce). While Redis is away, an instance
// that has a scene open does not learn what the other one stores; an editor whose connection moves
// to it sends that content again in its sync step, and only the log can tell that it is stored.
describe('exactly once across two instances', () => {
  let db: TestDatabase;
  let redis: PrivateRedis;
  let instances: Instance[] = [];
  let token: string;
  let userId: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    redis = await PrivateRedis.start();
    userId = (await createScript(db.prisma)).userId;
    token = await tokenFor(userId, { ttlSeconds: 3600 });
    instances = await startInstances(2, db.databaseUrl!, redis.url);
  });

  afterAll(async () => {
    for (const client of clients) client.destroy();
    await stopInstances(instances);
    await redis?.kill();
    await db?.close();
  });

  const connect = (instance: Instance, sceneId: string, document?: Y.Doc) => {
    const client = connectClient(instance.wsUrl, sceneId, { token, document });
    clients.push(client);
    return client;
  };

  const newScene = async (paragraphCount: number) => {
    // A test that failed during an outage leaves Redis stopped.
    if (!redis.running) {
      await redis.restart();
      await waitForFanout(instances, 'multi-instance');
    }
    const sceneId = (await createScript(db.prisma, { ownerId: userId })).sceneIds[0]!;
    const [a, b] = instances as [Instance, Instance];
    // One editor on each instance from the start, so both have the scene loaded throughout.
    const first = connect(a, sceneId);
    const second = connect(b, sceneId);
    await Promise.all([waitForSynced(first), waitForSynced(second)]);
    first.doc.transact(() => {
      for (let i = 0; i < paragraphCount; i += 1) {
        const p = new Y.XmlElement('paragraph');
        p.insert(0, [new Y.XmlText('')]);
        first.doc.getXmlFragment('default').insert(i, [p]);
      }
    });
    await waitFor(() => paragraphs(second.doc).length === paragraphCount, 'the paragraphs reach the other instance');
    return { sceneId, first, second };
  };

  /**
   * Moves a writer's connection to another instance, as a dropped socket and a load balancer
   * would: the old provider goes, a new one on the same document connects there, and its sync step
   * sends whatever that instance lacks. Typing resumes where it stopped.
   */
  const move = (writer: MarkerWriter, to: Instance, sceneId: string): MarkerWriter => {
    writer.stop();
    writer.client.destroy();
    const moved = new MarkerWriter(writer.index, connect(to, sceneId, writer.client.doc), { burst: 8, intervalMs: 3 });
    moved.typed = writer.typed;
    return moved;
  };

  const typeWords = async (writer: MarkerWriter, words: number) => {
    const target = writer.typed + words;
    writer.start();
    await waitFor(() => writer.typed >= target, `writer ${writer.index} types ${words} words`, 30_000);
    writer.stop();
    await waitForAcked(writer.client, 20_000);
  };

  const words = (writer: MarkerWriter) => Array.from({ length: writer.typed }, (_, n) => writer.marker(n + 1)).join('');

  const logOf = async (sceneId: string) => {
    const rows = await new SceneLog(db.database.sql).load(sceneId);
    const doc = new Y.Doc();
    Y.applyUpdate(doc, replayUpdates(rows).state);
    return { rows, text: paragraphs(doc) };
  };

  it('an editor whose connection moves while Redis is stopped has its acknowledged words stored once', { timeout: 120_000 }, async () => {
    const [a, b] = instances as [Instance, Instance];
    const { sceneId, first, second } = await newScene(1);
    const onB = second;
    const skippedBefore = await scrapedCounter(b, 'yjs_updates_skipped_total', { reason: 'already_in_log' });

    let editor = new MarkerWriter(0, first, { burst: 8, intervalMs: 3 });
    await typeWords(editor, WORDS);
    await waitFor(() => paragraphs(onB.doc)[0] === words(editor), 'the editor’s words reach the other instance');

    await redis.kill();
    await waitForFanout(instances, 'single-server');
    const typedAtKill = editor.typed;
    await typeWords(editor, WORDS);
    // The outage is real: the instance the editor moves to has not got the words typed since.
    expect(paragraphs(onB.doc)[0]).toBe(words(editor).slice(0, editor.marker(1).length * typedAtKill));

    editor = move(editor, b, sceneId);
    await waitForSynced(editor.client);
    await waitFor(() => paragraphs(onB.doc)[0] === words(editor), 'the moved editor’s sync step reaches the instance');
    await typeWords(editor, WORDS);

    await redis.restart();
    await waitForFanout(instances, 'multi-instance');
    await waitFor(() => paragraphs(first.doc)[0] === words(editor), 'the first instance catches up once Redis is back', 20_000);

    const log = await logOf(sceneId);
    expect(log.text).toEqual([words(editor)]);
    expect(structStoredTwice(log.rows.map((row) => row.update))).toBeNull();
    // The instance recognised the words it was sent again as already in the log.
    expect(await scrapedCounter(b, 'yjs_updates_skipped_total', { reason: 'already_in_log' })).toBeGreaterThan(skippedBefore);
    for (const { server } of instances) expect(server.child.exitCode).toBeNull();
  });

  it('stores every word once when Redis dies and comes back while editors on both instances type and one moves', { timeout: 180_000 }, async () => {
    const [a, b] = instances as [Instance, Instance];
    // Writers 0 and 1 on the first instance, 2 and 3 on the second; writer 4 starts on the first
    // and moves to the second during the outage, without waiting for its acknowledgements.
    const { sceneId, first, second } = await newScene(5);
    const writers = [first, connect(a, sceneId), second, connect(b, sceneId), connect(a, sceneId)].map(
      (client, index) => new MarkerWriter(index, client, { burst: 8, intervalMs: 3 }),
    );
    await Promise.all(writers.map((w) => waitForSynced(w.client)));
    await Promise.all(writers.map((w) => waitFor(() => paragraphs(w.client.doc).length === 5, 'every writer has the paragraphs')));
    const acksSince = (marks: number[]) => (w: MarkerWriter, i: number) => w.client.acks() >= marks[i]! + WORDS;

    writers.forEach((w) => w.start());
    let marks = writers.map((w) => w.client.acks());
    await waitFor(() => writers.every(acksSince(marks)), 'typing with Redis up', 30_000);

    await redis.kill();
    await waitForFanout(instances, 'single-server');
    marks = writers.map((w) => w.client.acks());
    await waitFor(() => writers.every(acksSince(marks)), 'typing with Redis down', 30_000);

    writers[4] = move(writers[4]!, b, sceneId);
    writers[4].start();
    marks = writers.map((w) => w.client.acks());
    await waitFor(() => writers.every(acksSince(marks)), 'typing after the move', 30_000);

    await redis.restart();
    await waitForFanout(instances, 'multi-instance');
    marks = writers.map((w) => w.client.acks());
    await waitFor(() => writers.every(acksSince(marks)), 'typing with Redis back', 30_000);

    writers.forEach((w) => w.stop());
    await Promise.all(writers.map((w) => waitForAcked(w.client, 20_000)));
    const expected = writers.map(words);
    await waitFor(() => writers.every((w) => JSON.stringify(paragraphs(w.client.doc)) === JSON.stringify(expected)), 'every editor converges', 30_000);

    const log = await logOf(sceneId);
    expect(log.text).toEqual(expected);
    expect(structStoredTwice(log.rows.map((row) => row.update))).toBeNull();
    for (const { server } of instances) {
      expect(server.child.exitCode).toBeNull();
      expect(server.output()).not.toMatch(/unhandled|still overlap/i);
    }
  });
});
