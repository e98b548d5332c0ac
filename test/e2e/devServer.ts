import type { Browser, Page } from 'playwright-core';
import * as Y from 'yjs';
import { replayUpdates } from '../../src/log/replay.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { yDocToRestBlocks } from '../../src/screenplay/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';
import { freePort, spawnServer, waitUntilReady, type ServerProcess } from '../helpers/process.ts';

export interface RestBlock {
  type: string;
  text: string;
}

/** How often the pages of these tests read their scene list again (8 s by default): other writers' changes arrive sooner, so waits for them are shorter. */
export const SCENE_LIST_REFRESH_MS = 2000;

/**
 * `npm start` in development mode on a PostgreSQL database of its own, as a new user runs it: the
 * server seeds the demo script into the empty database and issues its own tokens. It can be
 * stopped, killed or paused and started again on the same ports and database.
 */
export class DevServer {
  private current: ServerProcess | null = null;

  private constructor(
    readonly db: TestDatabase,
    private readonly env: Record<string, string>,
    readonly httpPort: number,
  ) {}

  static async start(): Promise<DevServer> {
    const db = await createTestDatabase('postgres');
    const [port, httpPort] = [await freePort(), await freePort()];
    const env = { NODE_ENV: 'development', AUTH_JWT_SECRET: '', DATABASE_URL: db.databaseUrl!, PORT: String(port), HTTP_PORT: String(httpPort), SCENE_LIST_REFRESH_MS: String(SCENE_LIST_REFRESH_MS) };
    const server = new DevServer(db, env, httpPort);
    await server.run();
    return server;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** The running process (for signals a test sends it). */
  get process(): ServerProcess {
    if (!this.current) throw new Error('the development server is not running');
    return this.current;
  }

  /** Starts the server (again) and waits until it is ready. */
  async run(): Promise<void> {
    this.current = spawnServer(this.env);
    await waitUntilReady(this.httpPort, this.current);
  }

  /** SIGTERM, and waits for the process to exit. */
  async stop(): Promise<void> {
    if (this.current && this.current.child.exitCode === null) {
      this.current.child.kill('SIGTERM');
      await this.current.exited;
    }
    this.current = null;
  }

  async close(): Promise<void> {
    await this.stop();
    await this.db.close();
  }

  /** The scene as its stored log replays it: what is on disk, whatever the server holds in memory. */
  async loggedBlocks(sceneId: string): Promise<{ blocks: RestBlock[]; hasGap: boolean }> {
    const rows = await new SceneLog(this.db.database.sql).load(sceneId);
    const doc = new Y.Doc();
    try {
      const replay = replayUpdates(rows);
      Y.applyUpdate(doc, replay.state);
      return { blocks: yDocToRestBlocks(doc) as RestBlock[], hasGap: replay.hasGap };
    } finally {
      doc.destroy();
    }
  }
}

/** A page of the editor signed in as a demo user, once its scene says saved; page errors are collected. */
export async function openAs(
  browser: Browser,
  baseUrl: string,
  email: string,
  options: { query?: string; viewport: { width: number; height: number }; errors: string[] },
): Promise<Page> {
  const page = await browser.newPage({ viewport: options.viewport });
  page.on('pageerror', (error) => options.errors.push(`${email}: ${error.message}`));
  await page.goto(`${baseUrl}/?user=${encodeURIComponent(email)}${options.query ?? ''}`);
  await waitForSaved(page);
  return page;
}

export function waitForSaved(page: Page, timeout = 15_000): Promise<unknown> {
  return page.waitForSelector('#save-status[data-state="saved"]', { timeout });
}

/** The editor of the scene with the caret (the continuous script marks its section current). */
export const CURRENT_EDITOR = '.script-scene[data-current="true"] .ProseMirror';

/**
 * Puts the caret at the end of the current scene and waits until the editor's own selection is there:
 * ProseMirror takes a caret moved by the browser (a click, Ctrl+End) from a selectionchange event
 * that runs after the key press, so a key pressed at once could still act on the old position.
 */
export async function caretToEnd(page: Page): Promise<void> {
  await page.locator(`${CURRENT_EDITOR} > *`).last().click();
  await page.keyboard.press('Control+End');
  await page.waitForSelector('#block-type[data-at-scene-end="true"]', { timeout: 5000 });
}
