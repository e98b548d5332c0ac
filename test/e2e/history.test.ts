import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebPage } from '../../scripts/build-web.ts';
import { DEMO_USERS } from '../../src/demo/demoScript.ts';
import { launchChromium } from './browser.ts';
import { caretToEnd, CURRENT_EDITOR, DevServer, openAs as openPage, waitForSaved } from './devServer.ts';

const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../artifacts');
const [DANA, SAM] = DEMO_USERS as [(typeof DEMO_USERS)[number], (typeof DEMO_USERS)[number]];

/**
 * The history panel (web/historyPanel.ts) in Chromium at 1280x800, against the real server in
 * development mode: two writers in one scene, a label, preview and diff, a restore made by one
 * writer while the other has the scene open, and the restored text after a server restart.
 */
describe('the history panel in Chromium', () => {
  let browser: Browser;
  let dev: DevServer;
  let dana: Page;
  let sam: Page;
  let sceneId: string;
  const pageErrors: string[] = [];

  const openAs = (email: string, query = '') => openPage(browser, dev.baseUrl, email, { query, viewport: { width: 1280, height: 800 }, errors: pageErrors });

  /** The text of the scene with the caret (the history panel's scene). */
  function editorText(page: Page): Promise<string> {
    return page.evaluate((selector) => document.querySelector(selector)?.textContent ?? '', CURRENT_EDITOR);
  }

  function waitForText(page: Page, text: string, present = true, timeout = 10_000): Promise<unknown> {
    return page.waitForFunction(
      ([selector, wanted, shouldBe]) => (document.querySelector(selector as string)?.textContent?.includes(wanted as string) ?? false) === shouldBe,
      [CURRENT_EDITOR, text, present] as const,
      { timeout },
    );
  }

  /** A line of action at the end of the scene (Enter after its transition gives a heading, which would start a new scene). */
  async function typeLine(page: Page, text: string): Promise<void> {
    await caretToEnd(page);
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+Alt+2');
    await page.keyboard.type(text);
    await waitForSaved(page);
  }

  /** The scene as its stored log replays it: what is on disk, whatever the server holds in memory. */
  async function loggedText(): Promise<string> {
    return (await dev.loggedBlocks(sceneId)).blocks.map((block) => block.text ?? '').join('\n');
  }

  beforeAll(async () => {
    browser = await launchChromium();
    await buildWebPage();
    dev = await DevServer.start();
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.close();
  });

  it("shows both writers' sessions and a label on the timeline; preview and diff read the past", async () => {
    dana = await openAs(DANA.email);
    sceneId = (await dana.locator('#history').getAttribute('data-scene-id'))!;
    expect(sceneId).toMatch(/^[0-9a-f-]{36}$/);
    sam = await openAs(SAM.email, `&scene=${sceneId}`);

    await typeLine(dana, 'Dana pins the outline to the wall.');
    await waitForText(sam, 'Dana pins the outline to the wall.');

    // Label the scene as it is now from the panel.
    await dana.fill('#history-label-name', 'outline pinned');
    await dana.click('#history-label-form button[type="submit"]');
    await dana.waitForSelector('.history__entry--label .history__tag:text("outline pinned")');

    await typeLine(sam, 'Sam tears the outline down.');
    await waitForText(dana, 'Sam tears the outline down.');
    await waitForSaved(dana);

    await dana.click('#history-refresh');
    await expect.poll(() => dana.locator('.history__entry--session strong:text("sam")').count()).toBeGreaterThan(0);
    expect(await dana.locator('.history__entry--session strong:text("dana")').count()).toBeGreaterThan(0);
    // Newest first: Sam's session (the newest edit) is at the top, above the label.
    expect(await dana.locator('.history__entry').first().locator('strong').textContent()).toBe('sam');

    // Preview of the label: the scene then, read-only, without Sam's line.
    const label = dana.locator('.history__entry--label', { hasText: 'outline pinned' });
    await label.locator('[data-action="preview"]').click();
    await dana.waitForSelector('#history-view[data-kind="preview"]:not([hidden])');
    const preview = (await dana.locator('#history-view-body').textContent()) ?? '';
    expect(preview).toContain('Dana pins the outline to the wall.');
    expect(preview).not.toContain('Sam tears the outline down.');
    expect(await dana.locator('#history-view-body [contenteditable]').count()).toBe(0);

    // Diff of the label against now: Sam's line was added since.
    await label.locator('[data-action="diff"]').click();
    await dana.waitForSelector('#history-view[data-kind="diff"]:not([hidden])');
    expect(await dana.locator('#history-view-title').textContent()).toContain('1 added');
    expect(await dana.locator('#history-view-body .history-block--added').textContent()).toBe('Sam tears the outline down.');

    await mkdir(ARTIFACTS, { recursive: true });
    await dana.screenshot({ path: path.join(ARTIFACTS, 'history.png') });
    // Usable at 1280x800: the panel's buttons are on screen, not pushed out of the window.
    const box = await label.locator('[data-action="restore"]').boundingBox();
    expect(box).not.toBeNull();
    expect(box!.x + box!.width).toBeLessThanOrEqual(1280);
  });

  it('a restore by one writer reaches the other writer at once, and survives a server restart', async () => {
    const label = dana.locator('.history__entry--label', { hasText: 'outline pinned' });
    await label.locator('[data-action="restore"]').click();
    await dana.waitForSelector('#history-message:text("Restored")');

    await waitForText(dana, 'Sam tears the outline down.', false);
    await waitForText(sam, 'Sam tears the outline down.', false);
    for (const page of [dana, sam]) {
      expect(await editorText(page)).toContain('Dana pins the outline to the wall.');
      await waitForSaved(page);
    }
    expect(await loggedText()).not.toContain('Sam tears the outline down.');

    await dev.stop();
    await dev.run();
    for (const page of [dana, sam]) {
      await page.reload();
      await waitForSaved(page);
      await waitForText(page, 'Dana pins the outline to the wall.');
      expect(await editorText(page)).not.toContain('Sam tears the outline down.');
    }
    const stored = await loggedText();
    expect(stored).toContain('Dana pins the outline to the wall.');
    expect(stored).not.toContain('Sam tears the outline down.');
    expect(pageErrors).toEqual([]);
  });
});
