import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebPage } from '../../scripts/build-web.ts';
import { DEMO_SCENES, DEMO_USERS } from '../../src/demo/demoScript.ts';
import { TEST_JWT_SECRET } from '../helpers/auth.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort, spawnServer, waitUntilReady, type ServerProcess } from '../helpers/process.ts';

/**
 * `npm start`'s entry point as a newcomer and an operator run it: in development on an empty
 * embedded database it serves the editor page with a demo script it can sign into by itself; in
 * production none of that exists.
 */

interface Started {
  server: ServerProcess;
  baseUrl: string;
}

async function start(env: Record<string, string>): Promise<Started> {
  const [port, httpPort] = [await freePort(), await freePort()];
  const server = spawnServer({ ...env, PORT: String(port), HTTP_PORT: String(httpPort) });
  await waitUntilReady(httpPort, server);
  return { server, baseUrl: `http://127.0.0.1:${httpPort}` };
}

async function stop(started: Started | undefined): Promise<void> {
  if (!started || started.server.child.exitCode !== null) return;
  started.server.child.kill('SIGTERM');
  expect(await started.server.exited).toBe(0);
}

async function pageConfig(baseUrl: string) {
  const response = await fetch(`${baseUrl}/editor/config.json`);
  expect(response.status).toBe(200);
  return (await response.json()) as { wsPort: number; schemaVersion: number; devTokens: boolean; demo: { scriptId: string; title: string } | null };
}

async function expectEditorPage(baseUrl: string): Promise<void> {
  const page = await fetch(`${baseUrl}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(await page.text()).toContain('<script type="module" src="/assets/editor.js">');
  const script = await fetch(`${baseUrl}/assets/editor.js`);
  expect(script.status).toBe(200);
  expect(script.headers.get('content-type')).toMatch(/javascript/);
  expect((await script.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  expect((await fetch(`${baseUrl}/assets/missing.js`)).status).toBe(404);
}

beforeAll(async () => {
  await buildWebPage();
});

describe('development mode on an empty embedded database (npm start on a fresh clone)', () => {
  let db: TestDatabase;
  let started: Started | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('pglite');
    // PGlite allows one process per directory: the server takes it over.
    await db.release();
  });
  afterAll(async () => {
    await stop(started);
    await db?.close();
  });

  it('serves the page, a demo script with its scenes, and a development token for the demo writers', async () => {
    started = await start({ NODE_ENV: 'development', AUTH_JWT_SECRET: '', DATA_DIR: db.dataDir! });
    const { baseUrl } = started;
    await expectEditorPage(baseUrl);

    const config = await pageConfig(baseUrl);
    expect(config).toMatchObject({ devTokens: true, schemaVersion: 1 });
    expect(config.demo?.scriptId).toMatch(/^[0-9a-f-]{36}$/);

    for (const user of DEMO_USERS) {
      const issued = await fetch(`${baseUrl}/api/dev/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: user.email }),
      });
      expect(issued.status).toBe(200);
      const { token } = (await issued.json()) as { token: string };
      const scenes = await fetch(`${baseUrl}/api/scripts/${config.demo!.scriptId}/scenes`, { headers: { Authorization: `Bearer ${token}` } });
      expect(scenes.status).toBe(200);
      const body = (await scenes.json()) as { scenes: { slugline: string; content: { blocks: unknown[] }; metadata: { source: string } }[] };
      expect(body.scenes.map((scene) => scene.slugline)).toEqual(DEMO_SCENES.map((scene) => scene.heading));
      // Nobody has opened a scene yet: the content is the REST copy the editor will be seeded from.
      expect(body.scenes.map((scene) => scene.content.blocks.length)).toEqual(DEMO_SCENES.map((scene) => scene.blocks.length));
    }
  });

  it('does not seed the demo again after a restart', async () => {
    const before = await pageConfig(started!.baseUrl);
    await stop(started);
    started = await start({ NODE_ENV: 'development', AUTH_JWT_SECRET: '', DATA_DIR: db.dataDir! });
    const after = await pageConfig(started.baseUrl);
    expect(after.demo?.scriptId).toBe(before.demo?.scriptId);
  });
});

describe('production mode on an empty database', () => {
  let db: TestDatabase;
  let started: Started | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
  });
  afterAll(async () => {
    await stop(started);
    await db?.close();
  });

  it('has no demo data, no development tokens, and a page that asks for a token', async () => {
    started = await start({ NODE_ENV: 'production', AUTH_JWT_SECRET: TEST_JWT_SECRET, DATABASE_URL: db.databaseUrl! });
    const { baseUrl } = started;
    await expectEditorPage(baseUrl);
    expect(await pageConfig(baseUrl)).toMatchObject({ devTokens: false, demo: null });
    const token = await fetch(`${baseUrl}/api/dev/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: DEMO_USERS[0]!.email }),
    });
    expect(token.status).toBe(404);
    expect(await db.prisma.user.count()).toBe(0);
    expect(await db.prisma.script.count()).toBe(0);
    expect(await db.prisma.scene.count()).toBe(0);
  });
});
