import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebPage } from '../../scripts/build-web.ts';
import { DEMO_SCENES, DEMO_USERS } from '../../src/demo/demoScript.ts';
import { launchChromium } from './browser.ts';
import { DevServer, waitForSaved, type RestBlock } from './devServer.ts';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ARTIFACTS = path.resolve(HERE, '../artifacts');
const README_SCREENSHOT = path.resolve(HERE, '../../docs/screenshot.png');
const [DANA, SAM] = DEMO_USERS as [(typeof DEMO_USERS)[number], (typeof DEMO_USERS)[number]];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** How long a poll waits for the page or the API (the machine may be busy with other suites). */
const WAIT = { timeout: 15_000 };
/** The other writer's page reads the scene list every SCENE_LIST_REFRESH_MS (devServer.ts); a poll waits a good deal longer on a busy machine. */
const FOLLOW = { timeout: 25_000 };
const MANY_SCENES = 60;

interface SceneRow {
  sceneUUID: string;
  slugline: string | null;
  content: { blocks: RestBlock[] };
}

/**
 * The continuous script (web/scriptView.ts) in Chromium against the real server in development
 * mode on PostgreSQL: every scene on one sheet, each its own editor and provider; loading as the
 * page scrolls; the caret across scene boundaries; a split by typing a heading and a merge by
 * Backspace, both through the scripts API, with a second writer's page following; the navigator
 * and the save indicators; the layout at 1280x800 and 390x844; the README's screenshot.
 */
describe('the continuous script in Chromium', () => {
  let browser: Browser;
  let dev: DevServer;
  let dana: Page;
  let sam: Page;
  let scriptId: string;
  let danaToken: string;
  /** Every console warning and error and every page error, by page. */
  const problems: string[] = [];
  /** Console messages a test provokes on purpose (none so far: the page prints no warning). */
  const expected: RegExp[] = [];

  async function open(query: string, who: string, viewport = DESKTOP): Promise<Page> {
    const page = await browser.newPage({ viewport });
    page.on('pageerror', (error) => problems.push(`${who}: page error ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error' && message.type() !== 'warning') return;
      const where = `${message.text()} ${message.location().url}`;
      if (!expected.some((pattern) => pattern.test(where))) problems.push(`${who}: console ${message.type()} ${where}`);
    });
    await page.goto(`${dev.baseUrl}/?${query}`);
    return page;
  }

  async function api<T>(method: string, route: string, body?: unknown): Promise<T> {
    const response = await fetch(`${dev.baseUrl}${route}`, {
      method,
      headers: { Authorization: `Bearer ${danaToken}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  const scenesOf = async (id: string) => (await api<{ scenes: SceneRow[] }>('GET', `/api/scripts/${id}/scenes`)).scenes;
  const idsIn = async (id: string) => (await scenesOf(id)).map((scene) => scene.sceneUUID);
  const textsOf = async (sceneId: string) => (await api<SceneRow>('GET', `/api/scenes/${sceneId}`)).content.blocks.map((block) => `${block.type}: ${block.text}`);
  const sectionIds = (page: Page) => page.locator('#script .script-scene').evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.sceneId));
  const titlesOn = (page: Page) => page.locator('#scene-list .scene-link__title').allTextContents();
  const editorOf = (page: Page, sceneId: string) => page.locator(`.script-scene[data-scene-id="${sceneId}"] .ProseMirror`);
  /** The scene the caret is in, as the page says it (the section marked current) and as the browser's focus says it. */
  const caretScene = (page: Page) =>
    page.evaluate(() => [
      document.querySelector<HTMLElement>('.script-scene[data-current="true"]')?.dataset.sceneId ?? null,
      document.activeElement?.closest<HTMLElement>('.script-scene')?.dataset.sceneId ?? null,
    ]);
  const atSceneEnd = (page: Page) => page.locator('#block-type').getAttribute('data-at-scene-end');

  /** Clicks into a block of a scene and waits until the editor has taken the caret there. */
  async function caretInto(page: Page, sceneId: string, block: 'first' | 'last', edge: 'Home' | 'End'): Promise<void> {
    const blocks = editorOf(page, sceneId).locator(':scope > *');
    await (block === 'first' ? blocks.first() : blocks.last()).click();
    await page.keyboard.press(edge === 'End' ? 'Control+End' : 'Control+Home');
    await expect.poll(() => caretScene(page), WAIT).toEqual([sceneId, sceneId]);
    if (edge === 'End') await expect.poll(() => atSceneEnd(page), WAIT).toBe('true');
    // ProseMirror reads a caret the browser moved (Control+Home) from its selectionchange event, which a
    // busy page handles later: a Backspace before it would act where the click put the caret.
    else await expect.poll(() => caretPosition(page, sceneId), WAIT).toBe(1);
  }

  /** Where the scene editor's own state has its caret (TipTap keeps the editor on its element). */
  const caretPosition = (page: Page, sceneId: string) =>
    editorOf(page, sceneId).evaluate((element) => (element as HTMLElement & { editor: { state: { selection: { from: number } } } }).editor.state.selection.from);

  /** Whether every block of the sheet is within the viewport horizontally, or the part that is not can be scrolled to. */
  async function textReachable(page: Page): Promise<{ clipped: string[]; scrollable: boolean }> {
    return page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const clipped = [...document.querySelectorAll<HTMLElement>('#script [data-type]')]
        .filter((block) => {
          const box = block.getBoundingClientRect();
          return box.width > 0 && (box.left < -0.5 || box.right > width + 0.5);
        })
        .map((block) => block.textContent ?? '');
      const desk = document.querySelector<HTMLElement>('.desk')!;
      const scrollable = desk.scrollWidth > desk.clientWidth && getComputedStyle(desk).overflowX !== 'hidden';
      return { clipped, scrollable };
    });
  }

  beforeAll(async () => {
    browser = await launchChromium();
    await buildWebPage();
    dev = await DevServer.start();
    const response = await fetch(`${dev.baseUrl}/api/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: DANA.email }) });
    danaToken = ((await response.json()) as { token: string }).token;
    // Both writers' pages are open before any test, so that each test can run alone (-t).
    dana = await open(`user=${encodeURIComponent(DANA.email)}`, 'dana');
    sam = await open(`user=${encodeURIComponent(SAM.email)}`, 'sam');
    await waitForSaved(dana);
    await waitForSaved(sam);
    scriptId = (await dana.locator('#scene-list').getAttribute('data-script-id'))!;
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.close();
  });

  it('shows every scene in order on one sheet, each its own editor, with its own save indicator', async () => {
    const ids = await idsIn(scriptId);
    expect(await sectionIds(dana)).toEqual(ids);
    // Three short scenes are all in view: all loaded, each with its own editor, all saved.
    await expect.poll(() => dana.locator('.script-scene[data-state="loaded"] .ProseMirror').count(), WAIT).toBe(3);
    await expect.poll(() => dana.locator('.script-scene__status[data-state="saved"]').count(), WAIT).toBe(3);
    for (const [index, scene] of DEMO_SCENES.entries()) {
      expect(await editorOf(dana, ids[index]!).locator('[data-type="scene-heading"]').first().textContent()).toBe(scene.heading);
    }
    // The first scene is the current one: the list marks it, the history panel shows it.
    expect(await dana.locator('#scene-list [aria-current="true"]').getAttribute('data-scene-id')).toBe(ids[0]);
    expect(await dana.locator('#history').getAttribute('data-scene-id')).toBe(ids[0]);
    expect(await textReachable(dana)).toMatchObject({ clipped: [] });
    // The page count of the whole script, as the PDF export sets the pages.
    await expect.poll(() => dana.locator('#page-count').textContent(), WAIT).toMatch(/^\d+ pages?$/);
  });

  it('moves the caret across scene boundaries with the arrow keys, both ways', async () => {
    const [first, second] = await idsIn(scriptId);
    await caretInto(dana, first!, 'last', 'End');
    await dana.keyboard.press('ArrowDown');
    await expect.poll(() => caretScene(dana), WAIT).toEqual([second, second]);
    // At the start of the next scene: the history panel follows the caret.
    expect(await atSceneEnd(dana)).toBe('false');
    await expect.poll(() => dana.locator('#history').getAttribute('data-scene-id'), WAIT).toBe(second);
    await dana.keyboard.press('ArrowUp');
    await expect.poll(() => caretScene(dana), WAIT).toEqual([first, first]);
    await expect.poll(() => atSceneEnd(dana), WAIT).toBe('true');
    await dana.keyboard.press('ArrowRight');
    await expect.poll(() => caretScene(dana), WAIT).toEqual([second, second]);
    await dana.keyboard.press('ArrowLeft');
    await expect.poll(() => caretScene(dana), WAIT).toEqual([first, first]);
    await expect.poll(() => atSceneEnd(dana), WAIT).toBe('true');
    // Typed where the caret landed: the end of the first scene.
    await dana.keyboard.type(' Dana holds her breath.');
    await waitForSaved(dana);
    expect((await textsOf(first!)).at(-1)?.toUpperCase()).toBe('TRANSITION: CUT TO: DANA HOLDS HER BREATH.');
    for (let i = 0; i < ' Dana holds her breath.'.length; i += 1) await dana.keyboard.press('Backspace');
    await waitForSaved(dana);
    expect((await textsOf(first!)).at(-1)).toBe('transition: CUT TO:');
  });

  it('shows a heading typed in an editor in the navigator at once, on both pages, without a reload', async () => {
    const [, second] = await idsIn(scriptId);
    // Both pages' reads of the scene list are held unanswered meanwhile (the list is read again
    // every SCENE_LIST_REFRESH_MS): whatever shows the new heading in a list came from an editor (Dana's
    // own, Sam's by the edit it received), not from a read.
    const isListRead = (url: URL) => /\/api\/scripts\/[^/]+\/scenes$/.test(url.pathname);
    const held: Route[] = [];
    let holding = true;
    const hold = (route: Route) => void (holding ? held.push(route) : route.continue());
    for (const page of [dana, sam]) await page.route(isListRead, hold);
    const heading = editorOf(dana, second!).locator('[data-type="scene-heading"]').first();
    await heading.click();
    await dana.keyboard.press('End');
    await dana.keyboard.type(' - LATER');
    const renamed = `${DEMO_SCENES[1]!.heading} - LATER`;
    try {
      await expect.poll(() => titlesOn(dana), WAIT).toContain(renamed);
      await expect.poll(() => titlesOn(sam), WAIT).toContain(renamed);
    } finally {
      // Released before the handler goes: a read still held when it is removed counts as handled.
      holding = false;
      for (const route of held) await route.continue();
      for (const page of [dana, sam]) await page.unroute(isListRead, hold);
    }
    await waitForSaved(dana);
  });

  const RUN_LINE = 'Dana runs down the hallway, past the humming racks, and out.';

  it('splits a scene when a heading is typed inside it, and merges it back with Backspace; the other page follows', async () => {
    const [first, second, third] = await idsIn(scriptId);
    // Enter after the first scene's transition starts a scene heading (the keymap's convention).
    await caretInto(dana, first!, 'last', 'End');
    await dana.keyboard.press('Enter');
    await expect.poll(() => dana.locator('#block-type').textContent(), WAIT).toBe('Scene heading');
    await dana.keyboard.type('INT. HALLWAY - NIGHT');
    await dana.keyboard.press('Enter');
    // Typed key by key across the moment the blocks move: every key lands in the new scene (TipTap's
    // focus command moves the DOM focus a frame late, and keys of that frame went to the scene above).
    await dana.keyboard.type(RUN_LINE, { delay: 15 });
    await expect.poll(async () => (await idsIn(scriptId)).length, WAIT).toBe(4);
    const ids = await idsIn(scriptId);
    const added = ids[1]!;
    expect(ids).toEqual([first, added, second, third]);
    // The caret went with the blocks: what was typed after Enter is in the new scene.
    await expect.poll(() => caretScene(dana), WAIT).toEqual([added, added]);
    await waitForSaved(dana);
    await expect.poll(() => textsOf(added), WAIT).toEqual(['scene_heading: INT. HALLWAY - NIGHT', `action: ${RUN_LINE}`]);
    const firstTexts = await textsOf(first!);
    expect(firstTexts.at(-1)).toBe('transition: CUT TO:');
    expect(firstTexts.join('\n')).not.toContain('HALLWAY');
    expect(await sectionIds(dana)).toEqual(ids);
    expect(await titlesOn(dana)).toContain('INT. HALLWAY - NIGHT');
    // Sam's page: the new scene's section in its place, the first scene without the moved blocks.
    await expect.poll(() => sectionIds(sam), FOLLOW).toEqual(ids);
    await expect.poll(() => editorOf(sam, first!).textContent(), WAIT).not.toContain('HALLWAY');
    await expect.poll(() => sam.locator(`.script-scene[data-scene-id="${added}"]`).textContent(), WAIT).toContain(RUN_LINE);

    // Backspace at the very start of the new scene merges it into the first.
    await caretInto(dana, added, 'first', 'Home');
    await dana.keyboard.press('Backspace');
    await expect.poll(() => idsIn(scriptId), WAIT).toEqual([first, second, third]);
    await expect.poll(() => caretScene(dana), WAIT).toEqual([first, first]);
    await waitForSaved(dana);
    expect((await textsOf(first!)).slice(-3)).toEqual(['transition: CUT TO:', 'action: INT. HALLWAY - NIGHT', `action: ${RUN_LINE}`]);
    // Soft-deleted: it can be restored from "Deleted scenes".
    const deleted = await api<{ scenes: { sceneUUID: string }[] }>('GET', `/api/scripts/${scriptId}/deleted-scenes`);
    expect(deleted.scenes.map((scene) => scene.sceneUUID)).toContain(added);
    expect(await sectionIds(dana)).toEqual([first, second, third]);
    await expect.poll(() => sectionIds(sam), FOLLOW).toEqual([first, second, third]);
    await expect.poll(() => editorOf(sam, first!).textContent(), WAIT).toContain(RUN_LINE);
    await waitForSaved(sam);
  });

  it('keeps a save state per scene; the page says saved only when every loaded scene is', async () => {
    const [first, second] = await idsIn(scriptId);
    await caretInto(dana, second!, 'last', 'End');
    // The server stops reading: what Dana types now is not acknowledged.
    dev.process.child.kill('SIGSTOP');
    try {
      await dana.keyboard.type(' Still humming.');
      await expect.poll(() => dana.locator(`.script-scene[data-scene-id="${second}"] .script-scene__status`).getAttribute('data-state'), WAIT).toBe('saving');
      expect(await dana.locator(`.script-scene[data-scene-id="${first}"] .script-scene__status`).getAttribute('data-state')).toBe('saved');
      expect(await dana.locator('#save-status').getAttribute('data-state')).toBe('saving');
    } finally {
      dev.process.child.kill('SIGCONT');
    }
    await waitForSaved(dana);
    expect(await dana.locator('.script-scene__status[data-state="saved"]').count()).toBe(3);
    expect((await textsOf(second!)).at(-1)).toContain('Still humming.');
  });

  it('saves the README screenshot: the script with two writers’ carets and the scene list', async () => {
    const [first] = await idsIn(scriptId);
    await editorOf(sam, first!).locator('[data-type="dialogue"]').first().click();
    await sam.keyboard.press('End');
    await dana.waitForSelector(`.collab-caret__label:text("${SAM.displayName}")`, WAIT);
    await caretInto(dana, first!, 'last', 'End');
    await sam.waitForSelector(`.collab-caret__label:text("${DANA.displayName}")`, WAIT);
    await mkdir(ARTIFACTS, { recursive: true });
    await mkdir(path.dirname(README_SCREENSHOT), { recursive: true });
    const artifact = path.join(ARTIFACTS, 'continuous.png');
    await dana.screenshot({ path: artifact });
    await copyFile(artifact, README_SCREENSHOT);
    expect(await dana.locator('nav.scenes').isVisible()).toBe(true);
  });

  it(`opens a script of ${MANY_SCENES} scenes connecting only the scenes in view, and the rest as the page scrolls`, async () => {
    // One import makes them all (a scene per Fountain heading).
    const fountain = Array.from({ length: MANY_SCENES }, (_, index) => `INT. ROOM ${index + 1} - DAY\n\nScene ${index + 1} of the long script.\n`).join('\n');
    const response = await fetch(`${dev.baseUrl}/api/scripts/import?format=fountain&title=Sixty%20Scenes`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${danaToken}`, 'Content-Type': 'text/plain' },
      body: fountain,
    });
    expect(response.status).toBe(201);
    const script = (await response.json()) as { scriptUUID: string };
    const sockets: string[] = [];
    const page = await browser.newPage({ viewport: DESKTOP });
    page.on('pageerror', (error) => problems.push(`many: page error ${error.message}`));
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.goto(`${dev.baseUrl}/?user=${encodeURIComponent(DANA.email)}&script=${script.scriptUUID}`);
    await waitForSaved(page);
    expect(await page.locator('#script .script-scene').count()).toBe(MANY_SCENES);
    // Every scene is on the sheet, the ones not loaded as placeholders of their content.
    expect(await page.locator('.script-scene').last().textContent()).toContain(`Scene ${MANY_SCENES} of the long script.`);
    const loaded = await page.locator('.script-scene[data-state="loaded"]').count();
    expect(loaded).toBeGreaterThan(0);
    expect(loaded).toBeLessThan(MANY_SCENES / 2);
    expect(sockets.length).toBe(loaded);
    // The navigator goes to the last scene: it connects, and the caret is in it.
    const last = (await idsIn(script.scriptUUID)).at(-1)!;
    await page.locator(`#scene-list .scene-link[data-scene-id="${last}"]`).click();
    await expect.poll(() => caretScene(page), WAIT).toEqual([last, last]);
    await waitForSaved(page);
    // Far from the top now: the first scenes have been disconnected, and fewer than all are loaded.
    await expect.poll(() => page.locator('.script-scene').first().getAttribute('data-state'), WAIT).toBe('placeholder');
    expect(await page.locator('.script-scene[data-state="loaded"]').count()).toBeLessThan(MANY_SCENES / 2);
    await page.close();
  });

  it('lays the sheet out at 390x844 with nothing clipped out of reach', async () => {
    const phone = await open(`user=${encodeURIComponent(DANA.email)}&script=${scriptId}`, 'phone', PHONE);
    await waitForSaved(phone);
    const { clipped, scrollable } = await textReachable(phone);
    expect(clipped.length === 0 || scrollable).toBe(true);
    await mkdir(ARTIFACTS, { recursive: true });
    await phone.screenshot({ path: path.join(ARTIFACTS, 'continuous-390.png') });
    await phone.close();
    expect(problems).toEqual([]);
  });
});
