import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../../src/server/app.ts';
import { silentLogger } from '../../src/logger.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { textOf } from '../helpers/documents.ts';
import { createScript } from '../helpers/fixtures.ts';
import { testConfig } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';

/**
 * Two instances in one process (an embedding, or a test) on one Redis: each must know its own
 * messages from the other's. With one identifier shared by every link of a process, each dropped
 * the other's updates as echoes of its own and the peers never met.
 */
describeEachDatabase('two instances in one process through Redis', (db) => {
    let apps: RunningApp[] = [];
    const clients: TestClient[] = [];

    beforeAll(async () => {
      const env = { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `wr-test-${randomUUID()}` };
      apps = await Promise.all([0, 1].map(() => startApp({ config: testConfig(env), prisma: db().prisma, sql: db().database.sql, logger: silentLogger() })));
    });
    afterAll(async () => {
      for (const client of clients) client.destroy();
      await Promise.all(apps.map((app) => app.stop()));
    });

    it('deliver each other’s updates to their editors', async () => {
      const { sceneIds, userId } = await createScript(db().prisma);
      const token = await tokenFor(userId);
      const [a, b] = apps.map((app) => connectClient(app.wsUrl, sceneIds[0]!, { token })) as [TestClient, TestClient];
      clients.push(a, b);
      await Promise.all([waitForSynced(a), waitForSynced(b)]);
      typeInto(a.doc, 'typed on A');
      await waitForAcked(a);
      await waitFor(() => textOf(b.doc).includes('typed on A'), 'the update reaches the editor on B');
      typeInto(b.doc, ' and on B');
      await waitForAcked(b);
      await waitFor(() => textOf(a.doc).includes('and on B'), 'the update reaches the editor on A');
      expect(textOf(a.doc)).toBe(textOf(b.doc));
    });
});
