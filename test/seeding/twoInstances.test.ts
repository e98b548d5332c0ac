import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectClient, waitFor, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createTestDatabase, testDatabaseKinds, type TestDatabase } from '../helpers/db.ts';
import { TEST_AUTH_ENV, tokenFor } from '../helpers/auth.ts';
import { createScript } from '../helpers/fixtures.ts';
import { freePort, spawnServer, waitUntilReady, type ServerProcess } from '../helpers/process.ts';
import { blocksOf, canonical } from '../helpers/documents.ts';
import { SCENE_BLOCKS } from './support.ts';

const SCENES = 6;
const CLIENTS_PER_SCENE = 10;

// Two server processes on one PostgreSQL database: nothing in memory is shared, so only the
// database's lock can make the seed happen once. (PGlite is single-process; its concurrency is
// covered by many clients on one server.)
describe.skipIf(!testDatabaseKinds().includes('postgres'))('seeding with two server instances on PostgreSQL', () => {
  let db: TestDatabase;
  const servers: Array<{ process: ServerProcess; wsUrl: string }> = [];

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    for (let i = 0; i < 2; i += 1) {
      const wsPort = await freePort();
      const httpPort = await freePort();
      const process = spawnServer({ ...TEST_AUTH_ENV, DATABASE_URL: db.databaseUrl!, PORT: String(wsPort), HTTP_PORT: String(httpPort) });
      servers.push({ process, wsUrl: `ws://127.0.0.1:${wsPort}` });
      await waitUntilReady(httpPort, process);
    }
  });
  afterAll(async () => {
    for (const { process } of servers) {
      process.child.kill('SIGTERM');
      await process.exited;
    }
    await db?.close();
  });

  it(`seeds each of ${SCENES} empty scenes once when ${CLIENTS_PER_SCENE} clients split over both instances open it at the same moment`, async () => {
    const fixture = await createScript(db.prisma, { scenes: SCENES, contentBlocks: SCENE_BLOCKS });
    const token = await tokenFor(fixture.userId);
    const clients: Array<{ sceneId: string; client: TestClient }> = [];
    try {
      // Every connection is started in the same tick: both instances load every scene at once.
      for (const sceneId of fixture.sceneIds) {
        for (let i = 0; i < CLIENTS_PER_SCENE; i += 1) {
          clients.push({ sceneId, client: connectClient(servers[i % 2]!.wsUrl, sceneId, { token }) });
        }
      }
      await Promise.all(clients.map(({ client }) => waitForSynced(client, 20_000)));
      await Promise.all(
        clients.map(({ client }) => waitFor(() => blocksOf(client.doc) === canonical(SCENE_BLOCKS), 'one copy of the scene on every client', 20_000)),
      );
      for (const sceneId of fixture.sceneIds) {
        const rows = await db.prisma.sceneVersion.findMany({ where: { sceneId } });
        expect(rows, `scene ${sceneId} has exactly one seed row`).toHaveLength(1);
        expect(rows[0]!.createdBy).toBeNull();
      }
    } finally {
      for (const { client } of clients) client.destroy();
    }
  });
});
