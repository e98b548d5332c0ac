import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_AUTH_ENV, tokenFor } from '../helpers/auth.ts';
import { waitFor } from '../helpers/clients.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { freePort, spawnServer, waitUntilReady, type ServerProcess } from '../helpers/process.ts';
import { api, startReceiver, WEBHOOK_TEST_ENV, type Receiver } from './support.ts';

describe.each(['postgres', 'pglite'] as const)('webhooks across a SIGKILL mid-delivery on %s', (kind) => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let httpPort: number;
  let server: ServerProcess | null = null;
  let hook: Receiver;
  let scriptId: string;
  let sceneId: string;
  let token: string;
  // The first delivery is held open until the server that sent it is dead.
  let killed!: () => void;
  const dead = new Promise<void>((resolve) => (killed = resolve));

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    const fixture = await createScript(db.prisma, { contentBlocks: [{ type: 'action', text: 'Before.' }] });
    ({ scriptId } = fixture);
    sceneId = fixture.sceneIds[0]!;
    token = await tokenFor(fixture.userId, { ttlSeconds: 3600 });
    httpPort = await freePort();
    // A window long enough for the three edits to be one delivery.
    env = { ...TEST_AUTH_ENV, ...WEBHOOK_TEST_ENV, WEBHOOK_COALESCE_MS: '800', PORT: String(await freePort()), HTTP_PORT: String(httpPort) };
    if (kind === 'postgres') env.DATABASE_URL = db.databaseUrl!;
    else {
      env.DATA_DIR = db.dataDir!;
      await db.release();
    }
    hook = await startReceiver(async (_request, index) => {
      if (index === 0) await dead;
      return 200;
    });
  });
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await server?.exited;
    await hook?.close();
    await db?.close();
  });

  const start = async () => {
    server = spawnServer(env);
    await waitUntilReady(httpPort, server);
  };
  const base = () => `http://127.0.0.1:${httpPort}`;

  it('delivers after the restart what the killed server had in flight, with the same event id', async () => {
    await start();
    expect((await api(base(), 'POST', `/api/scripts/${scriptId}/webhooks`, { token, body: { url: hook.url, secret: 'crash-test-secret-0123456789abcd' } })).status).toBe(201);
    let seq = 0;
    for (const text of ['One.', 'Two.', 'Three.']) {
      const res = await api(base(), 'PATCH', `/api/scenes/${sceneId}/content`, { token, body: { blocks: [{ type: 'action', text }] } });
      expect(res.status).toBe(200);
      seq = res.body.seq;
    }
    // The receiver has the first delivery (it has not answered it) when the server dies.
    await waitFor(() => hook.arrived.length >= 1, 'the first delivery in flight', 20_000);
    const inFlight = hook.arrived[0]!.body as { eventId: string; seq: number };
    server!.child.kill('SIGKILL');
    await server!.exited;
    server = null;
    killed();

    await start();
    // The held request's answer reached no one: only what came after the restart counts.
    const redelivered = () => hook.received.slice(1);
    await waitFor(() => redelivered().some((r) => r.body.seq >= seq), 'delivered after the restart', 20_000);
    // Nothing changed in between: the delivery the crash interrupted comes again under its id.
    if (inFlight.seq === seq) expect(redelivered().map((r) => r.body.eventId)).toContain(inFlight.eventId);
    expect(redelivered().at(-1)!.body.content).toEqual([{ type: 'action', text: 'Three.' }]);
  });
});
