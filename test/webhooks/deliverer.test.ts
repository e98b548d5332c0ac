import { expect, it, onTestFinished } from 'vitest';
import * as Y from 'yjs';
import type { SqlExecutor } from '../../src/db/sql.ts';
import { CHANGE_KINDS, LogChanges, type ChangePosition, type SceneChange } from '../../src/log/changes.ts';
import { SceneLog, type AppendedVersion } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { createMetrics } from '../../src/metrics.ts';
import { WebhookDeliverer, type WebhookDelivererConfiguration } from '../../src/webhooks/deliverer.ts';
import { parseEventId } from '../../src/webhooks/events.ts';
import { WebhookStore } from '../../src/webhooks/store.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { waitFor } from '../helpers/clients.ts';
import { createScript } from '../helpers/fixtures.ts';
import { startReceiver, type Receiver } from './support.ts';

/** The change feed, counting the pages the deliverer reads (one or more per fold). */
class CountingChanges extends LogChanges {
  pages = 0;
  override async page(options: { after: ChangePosition; scriptIds: readonly string[] | null; limit: number }): Promise<SceneChange[]> {
    this.pages += 1;
    return super.page(options);
  }
}

/**
 * The coalescing window of these tests. A change's window runs from its commit, and a commit shows
 * in the feed a moment later when other transactions of the cluster were older (`visibleInFeed`):
 * the window is long enough that a change is still fresh when it is first folded.
 */
const COALESCE_MS = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until the feed shows `count` changes of the script after `from`. A commit is in the feed
 * only once every older transaction of the whole PostgreSQL cluster has ended (src/log/changes.ts):
 * with other test files writing to their own databases at the same time, that can be a moment later.
 */
async function visibleInFeed(sql: SqlExecutor, scriptId: string, from: ChangePosition, count: number): Promise<void> {
  const feed = new LogChanges(sql);
  await waitFor(async () => (await feed.page({ after: from, scriptIds: [scriptId], limit: count })).length >= count, `${count} changes in the feed`);
}

/** A deliverer of the test's settings on `store` and `changes`, ticked by the test itself (`pollMs` 0). */
function delivererOn(store: WebhookStore, changes: LogChanges, options: Pick<WebhookDelivererConfiguration, 'readScene'> & Partial<WebhookDelivererConfiguration>): WebhookDeliverer {
  return new WebhookDeliverer({
    coalesceMs: COALESCE_MS,
    timeoutMs: 5000,
    maxFailures: 10,
    retryBaseMs: 1000,
    retryMaxMs: 10_000,
    concurrency: 4,
    pollMs: 0,
    allowPrivateAddresses: true,
    store,
    changes,
    metrics: createMetrics({ defaultMetrics: false }),
    logger: silentLogger(),
    ...options,
  });
}

/** A receiver of the test's own, closed when it ends: each test asserts on everything its receiver got. */
async function testReceiver(): Promise<Receiver> {
  const receiver = await startReceiver();
  onTestFinished(() => receiver.close());
  return receiver;
}

describeEachDatabase('webhook deliverer: an endpoint with nothing due is folded at most every foldEveryMs', (db) => {
  it('skips the fold of an endpoint folded a moment ago, and still delivers its newest change once due', async () => {
    const receiver = await testReceiver();
    const { sql } = db().database;
    const fixture = await createScript(db().prisma, { scenes: 1 });
    const sceneId = fixture.sceneIds[0]!;
    const changes = new CountingChanges(sql);
    const store = new WebhookStore(sql);
    const from = await changes.tip();
    await store.create({ scriptId: fixture.scriptId, url: receiver.url, secret: 'deliverer-test-secret-0123456789', eventKinds: CHANGE_KINDS, createdBy: fixture.userId, from });
    const log = new SceneLog(sql);
    const doc = new Y.Doc();
    const type = async (text: string) => {
      const before = Y.encodeStateVector(doc);
      doc.getText('t').insert(0, text);
      const [outcome] = await log.append([{ sceneId, update: Y.encodeStateAsUpdate(doc, before), createdBy: fixture.userId }]);
      return (outcome as AppendedVersion).seq;
    };
    let head = 0n;
    const deliverer = delivererOn(store, changes, {
      // Longer than the test: only a due scene makes the second fold.
      foldEveryMs: 10 * 60_000,
      readScene: async () => ({ seq: head, blocks: [] }),
    });

    head = await type('a');
    await visibleInFeed(sql, fixture.scriptId, from, 1);
    await deliverer.tick();
    const afterFirstFold = changes.pages;
    expect(afterFirstFold).toBeGreaterThan(0);

    head = await type('b');
    await visibleInFeed(sql, fixture.scriptId, from, 2);
    expect(await deliverer.tick()).toEqual({ delivered: 0, failed: 0, disabled: 0 });
    expect(changes.pages).toBe(afterFirstFold);

    await sleep(COALESCE_MS + 50);
    expect(await deliverer.tick()).toEqual({ delivered: 1, failed: 0, disabled: 0 });
    expect(changes.pages).toBeGreaterThan(afterFirstFold);
    expect(receiver.accepted().map((r) => r.body.seq)).toEqual([Number(head)]);

    // The second change was folded on the due tick: nothing of it waits for another delivery.
    await sleep(COALESCE_MS + 50);
    expect(await deliverer.tick()).toEqual({ delivered: 0, failed: 0, disabled: 0 });
    expect(receiver.accepted()).toHaveLength(1);
  });
});

// A database of its own: a deliverer serves every endpoint of its database, and this test counts its page reads.
describeEachDatabase('webhook deliverer: the endpoints of one script fold from one read of the feed', (db) => {
  it('reads each page once per tick for every endpoint at the same cursor, and each endpoint delivers every scene', async () => {
    const receiver = await testReceiver();
    const { sql } = db().database;
    const fixture = await createScript(db().prisma, { scenes: 2 });
    const changes = new CountingChanges(sql);
    const store = new WebhookStore(sql);
    const from = await changes.tip();
    const endpoints = 4;
    for (let i = 0; i < endpoints; i += 1) {
      await store.create({ scriptId: fixture.scriptId, url: receiver.url, secret: `deliverer-test-secret-${i}-0123456789`, eventKinds: CHANGE_KINDS, createdBy: fixture.userId, from });
    }
    const log = new SceneLog(sql);
    const heads = new Map<string, bigint>();
    for (const sceneId of fixture.sceneIds) {
      const doc = new Y.Doc();
      doc.getText('t').insert(0, sceneId);
      const [outcome] = await log.append([{ sceneId, update: Y.encodeStateAsUpdate(doc), createdBy: fixture.userId }]);
      heads.set(sceneId, (outcome as AppendedVersion).seq);
    }
    await visibleInFeed(sql, fixture.scriptId, from, fixture.sceneIds.length);
    const deliverer = delivererOn(store, changes, {
      // The test's own page size: the two changes take two pages, and an empty third ends the fold.
      pageSize: 1,
      readScene: async (sceneId) => ({ seq: heads.get(sceneId)!, blocks: [] }),
    });

    await deliverer.tick();
    // Every endpoint folded both changes, from three page reads (not three per endpoint).
    expect(changes.pages).toBe(3);
    await sleep(COALESCE_MS + 50);
    expect(await deliverer.tick()).toEqual({ delivered: endpoints * fixture.sceneIds.length, failed: 0, disabled: 0 });
    const byEndpoint = new Map<string, string[]>();
    for (const r of receiver.accepted()) {
      const { endpointId } = parseEventId(r.body.eventId);
      byEndpoint.set(endpointId, [...(byEndpoint.get(endpointId) ?? []), r.body.sceneId].sort());
    }
    expect(byEndpoint.size).toBe(endpoints);
    for (const scenes of byEndpoint.values()) expect(scenes).toEqual([...fixture.sceneIds].sort());
  });
});
