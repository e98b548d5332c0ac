import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { buildWebPage } from '../../scripts/build-web.ts';
import { DEMO_USERS } from '../../src/demo/demoScript.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { yDocToRestBlocks } from '../../src/screenplay/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort, spawnServer, waitUntilReady, type ServerProcess } from '../helpers/process.ts';
import { launchChromium } from './browser.ts';
import { CURRENT_EDITOR } from './devServer.ts';

const [DANA] = DEMO_USERS as [(typeof DEMO_USERS)[number]];

/** Development tokens live this long here, so a page outlives several of them while a writer types (long enough for the page to open, type and save within one on a slow machine). */
const TOKEN_TTL_SECONDS = 8;

describe('the editor page with tokens that expire while it is open', () => {
  let db: TestDatabase;
  let browser: Browser;
  let server: ServerProcess;
  let baseUrl: string;
  const pageErrors: string[] = [];

  async function devToken(email: string): Promise<string> {
    const response = await fetch(`${baseUrl}/api/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }) });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  }

  /** The text of the scene's blocks as its stored log replays them. */
  async function loggedText(sceneId: string): Promise<string> {
    const doc = new Y.Doc();
    try {
      Y.applyUpdate(doc, replayUpdates(await new SceneLog(db.database.sql).load(sceneId)).state);
      return (yDocToRestBlocks(doc) as Array<{ text: string }>).map((block) => block.text).join('\n');
    } finally {
      doc.destroy();
    }
  }

  /** A counter's value in the server's /metrics, summed over the label set given. */
  async function metric(name: string, labels: string): Promise<number> {
    const text = await (await fetch(`${baseUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  }

  async function openPage(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(url);
    await page.waitForSelector('#save-status[data-state="saved"]', { timeout: 15_000 });
    return page;
  }

  /** Types at the end of the scene with the caret (the first scene when the page opens). */
  async function typeAtSceneEnd(page: Page, text: string): Promise<void> {
    await page.locator(`${CURRENT_EDITOR} > *`).last().click();
    await page.keyboard.press('Control+End');
    await page.waitForSelector('#block-type[data-at-scene-end="true"]', { timeout: 5000 });
    await page.keyboard.type(text);
  }

  beforeAll(async () => {
    browser = await launchChromium();
    await buildWebPage();
    db = await createTestDatabase('postgres');
    const [port, httpPort] = [await freePort(), await freePort()];
    baseUrl = `http://127.0.0.1:${httpPort}`;
    server = spawnServer({
      NODE_ENV: 'development',
      AUTH_JWT_SECRET: '',
      DATABASE_URL: db.databaseUrl!,
      PORT: String(port),
      HTTP_PORT: String(httpPort),
      AUTH_DEV_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS),
      AUTH_RECHECK_INTERVAL_MS: '250',
    });
    await waitUntilReady(httpPort, server);
  });

  afterAll(async () => {
    await browser?.close();
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await db?.close();
  });

  it('keeps a writer typing across several token lifetimes: fresh tokens on the open socket, no reload, nothing lost', async () => {
    const page = await openPage(`${baseUrl}/?user=${encodeURIComponent(DANA.email)}`);
    const sceneId = (await page.locator(CURRENT_EDITOR).getAttribute('data-scene-id'))!;
    let tokensIssued = 0;
    page.on('request', (request) => {
      if (request.url().endsWith('/api/dev/token')) tokensIssued += 1;
    });
    // A marker that a reload would wipe.
    await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

    // Sized by tokens, not by time: type until the page has been through three more tokens.
    const lines: string[] = [];
    for (let i = 0; tokensIssued < 3; i += 1) {
      const line = `Line ${i} typed while tokens come and go.`;
      await typeAtSceneEnd(page, '');
      await page.keyboard.press('Enter');
      // An action line: Enter after the transition gives a heading, which would start a new scene.
      await page.keyboard.press('Control+Alt+2');
      await page.keyboard.type(line);
      lines.push(line);
      await page.waitForSelector('#save-status[data-state="saved"]', { timeout: 15_000 });
    }

    expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    expect(await page.locator('#save-status').getAttribute('data-state')).toBe('saved');
    const stored = await loggedText(sceneId);
    for (const line of lines) expect(stored).toContain(line);
    expect(pageErrors).toEqual([]);
    // Renewed on the open socket, not by being ended and connecting again.
    expect(await metric('collab_token_refreshes_total', 'result="extended"')).toBeGreaterThanOrEqual(2);
    expect(await metric('collab_connections_ended_total', 'reason="token-expired"')).toBe(0);
  });

  it('tells a writer whose pasted token expired to sign in again, with what was typed before it saved', async () => {
    const { demo } = (await (await fetch(`${baseUrl}/editor/config.json`)).json()) as { demo: { scriptId: string } };
    const token = await devToken(DANA.email);
    const page = await openPage(`${baseUrl}/#token=${token}&script=${demo.scriptId}&name=Dana`);
    const sceneId = (await page.locator(CURRENT_EDITOR).getAttribute('data-scene-id'))!;
    await typeAtSceneEnd(page, ' Pasted-token words.');
    await page.waitForSelector('#save-status[data-state="saved"]', { timeout: 15_000 });

    await page.waitForSelector('#save-status[data-state="refused"]', { timeout: 15_000 });
    expect(await page.locator('#save-status').textContent()).toMatch(/token-expired: .*sign in again/);
    expect(await loggedText(sceneId)).toContain('Pasted-token words.');
    // Each scene on the page has its own connection with that token: each is ended for it, once.
    const connections = await page.locator('.script-scene .ProseMirror').count();
    expect(connections).toBeGreaterThan(0);
    await expect.poll(() => metric('collab_connections_ended_total', 'reason="token-expired"'), { timeout: 10_000 }).toBe(connections);
    await page.close();
  });
});
