import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Dialog, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildWebPage } from '../../scripts/build-web.ts';
import { DEMO_SCENES, DEMO_USERS } from '../../src/demo/demoScript.ts';
import { launchChromium } from './browser.ts';
import { CURRENT_EDITOR, DevServer, waitForSaved } from './devServer.ts';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../interchange/fixtures');
const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../artifacts');
const [DANA, SAM] = DEMO_USERS as [(typeof DEMO_USERS)[number], (typeof DEMO_USERS)[number]];
const VIEWPORT = { width: 1280, height: 800 };
/** How long a poll waits for the page or the API to show a change (the machine may be busy with other suites). */
const WAIT = { timeout: 15_000 };
const BROKEN_FDX = '<?xml version="1.0"?>\n<FinalDraft>\n<Content>\n<Paragraph Type="Action"><Text>a</Text>\n</Content>\n</FinalDraft>';

interface SceneRow {
  sceneUUID: string;
  sceneIndex: number;
  slugline: string | null;
  content: { blocks: { type: string; text?: string }[] };
}

/**
 * The scene list, the script menu, import and export (web/sceneList.ts, scriptMenu.ts, fileMenu.ts)
 * in Chromium at 1280x800, against the real server in development mode on PostgreSQL: every
 * change goes through the scripts API and is checked there, and the other writer's page follows.
 */
describe('scripts, scenes and files on the editor page in Chromium', () => {
  let browser: Browser;
  let dev: DevServer;
  let dana: Page;
  let sam: Page;
  let scriptId: string;
  /** Every console warning and error and every page error, by page. */
  const problems: string[] = [];
  /**
   * What the page may print: nothing of its own. The browser logs each failed request as a console
   * error: the ones a test provokes on purpose are added here.
   */
  const expectedFailures: RegExp[] = [];

  async function open(url: string, who: string): Promise<Page> {
    const page = await browser.newPage({ viewport: VIEWPORT });
    page.on('pageerror', (error) => problems.push(`${who}: page error ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error' && message.type() !== 'warning') return;
      const where = `${message.text()} ${message.location().url}`;
      if (!expectedFailures.some((pattern) => pattern.test(where))) problems.push(`${who}: console ${message.type()} ${where}`);
    });
    await page.goto(url);
    return page;
  }

  async function api<T>(token: string, method: string, route: string, body?: unknown): Promise<T> {
    const response = await fetch(`${dev.baseUrl}${route}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async function tokenOf(email: string): Promise<string> {
    const response = await fetch(`${dev.baseUrl}/api/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email }) });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  }

  let danaToken: string;
  const scenesOf = async (id: string) => (await api<{ scenes: SceneRow[] }>(danaToken, 'GET', `/api/scripts/${id}/scenes`)).scenes;
  const titlesOn = (page: Page) => page.locator('#scene-list .scene-link__title').allTextContents();
  const idsOn = (page: Page) => page.locator('#scene-list li').evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.sceneId));
  const idsIn = async (id: string) => (await scenesOf(id)).map((scene) => scene.sceneUUID);
  const item = (page: Page, sceneId: string) => page.locator(`#scene-list li[data-scene-id="${sceneId}"]`);
  let addedId: string;
  let deletableId: string;
  const answerNext = (page: Page, answer: (dialog: Dialog) => Promise<void>) => page.once('dialog', (dialog) => void answer(dialog));

  beforeAll(async () => {
    browser = await launchChromium();
    await buildWebPage();
    dev = await DevServer.start();
    danaToken = await tokenOf(DANA.email);
  });

  // A dialog a failed test left unanswered must not answer the next test's dialog.
  afterEach(() => {
    for (const page of [dana, sam]) page?.removeAllListeners('dialog');
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.close();
  });

  it('adds a scene at the end and after the open one, and renames a heading; the other writer follows', async () => {
    dana = await open(`${dev.baseUrl}/?user=${encodeURIComponent(DANA.email)}`, 'dana');
    await waitForSaved(dana);
    scriptId = (await dana.locator('#scene-list').getAttribute('data-script-id'))!;
    sam = await open(`${dev.baseUrl}/?user=${encodeURIComponent(SAM.email)}`, 'sam');
    await waitForSaved(sam);
    const demoHeadings = DEMO_SCENES.map((scene) => scene.heading);
    expect(await titlesOn(dana)).toEqual(demoHeadings);

    await dana.click('#scene-add-end');
    await expect.poll(() => titlesOn(dana), WAIT).toEqual([...demoHeadings, 'Untitled scene']);
    // The new scene is open and the list marks it.
    await waitForSaved(dana);
    const added = (await scenesOf(scriptId))[demoHeadings.length]!;
    addedId = added.sceneUUID;
    expect(await dana.locator('#scene-list [aria-current="true"]').getAttribute('data-scene-id')).toBe(added.sceneUUID);
    expect(await dana.locator(CURRENT_EDITOR).getAttribute('data-scene-id')).toBe(added.sceneUUID);

    // Rename its heading from the list: the list entry and the scene's first block both carry it.
    answerNext(dana, (dialog) => dialog.accept('INT. LOADING DOCK - NIGHT'));
    await item(dana, addedId).locator('[data-action="rename"]').click();
    await expect.poll(() => titlesOn(dana), WAIT).toContain('INT. LOADING DOCK - NIGHT');
    const renamed = (await scenesOf(scriptId)).find((scene) => scene.sceneUUID === added.sceneUUID)!;
    expect(renamed.slugline).toBe('INT. LOADING DOCK - NIGHT');
    await expect.poll(async () => (await api<SceneRow>(danaToken, 'GET', `/api/scenes/${added.sceneUUID}`)).content.blocks[0], WAIT).toMatchObject({ type: 'scene_heading', text: 'INT. LOADING DOCK - NIGHT' });
    // The open editor shows the renamed heading (the PATCH reached the live document).
    await dana.waitForFunction((selector) => document.querySelector(selector)?.textContent?.includes('INT. LOADING DOCK - NIGHT'), `.script-scene[data-scene-id="${added.sceneUUID}"] .ProseMirror`, { timeout: 10_000 });

    // "Add after current" with the first scene open puts the new scene second.
    const firstId = (await idsIn(scriptId))[0]!;
    await item(dana, firstId).locator('[data-action="open"]').click();
    await waitForSaved(dana);
    await dana.click('#scene-add-after');
    await expect.poll(async () => (await scenesOf(scriptId)).length, WAIT).toBe(demoHeadings.length + 2);
    await expect.poll(() => titlesOn(dana), WAIT).toEqual([demoHeadings[0], 'Untitled scene', ...demoHeadings.slice(1), 'INT. LOADING DOCK - NIGHT']);
    deletableId = (await idsIn(scriptId))[1]!;
    await expect.poll(async () => dana.locator('#scene-list [aria-current="true"]').getAttribute('data-scene-id'), WAIT).toBe(deletableId);

    // Sam's page follows without a reload (the list is read every few seconds).
    await expect.poll(() => titlesOn(sam), { timeout: 20_000 }).toEqual(await titlesOn(dana));
    await mkdir(ARTIFACTS, { recursive: true });
    await dana.screenshot({ path: path.join(ARTIFACTS, 'scenes.png') });
    // Usable at 1280x800: every scene's buttons are inside the list's column.
    const list = (await dana.locator('nav.scenes').boundingBox())!;
    for (const box of await dana.locator('#scene-list [data-action="delete"]').evaluateAll((buttons) => buttons.map((button) => button.getBoundingClientRect().right))) {
      expect(box).toBeLessThanOrEqual(list.x + list.width);
    }
  });

  it('reorders by drag and drop and by the keyboard, in the server and on the other page', async () => {
    const before = await idsIn(scriptId);
    // Drag the first scene onto the lower half of the third: it lands third.
    const third = item(dana, before[2]!);
    const box = (await third.boundingBox())!;
    await item(dana, before[0]!).dragTo(third, { targetPosition: { x: 20, y: box.height - 3 } });
    const dragged = [before[1], before[2], before[0], ...before.slice(3)];
    await expect.poll(() => idsIn(scriptId), WAIT).toEqual(dragged);
    await expect.poll(() => idsOn(dana), WAIT).toEqual(dragged);
    // Onto the upper half of the first: it goes first.
    const top = item(dana, dragged[0]!);
    await item(dana, dragged[3]!).dragTo(top, { targetPosition: { x: 20, y: 3 } });
    const draggedUp = [dragged[3], ...dragged.slice(0, 3), ...dragged.slice(4)];
    await expect.poll(() => idsIn(scriptId), WAIT).toEqual(draggedUp);

    // Keyboard: focus the last scene's "up" button and press Enter twice; the focus stays on it.
    const last = draggedUp[draggedUp.length - 1]!;
    const indexOfLast = async () => (await idsIn(scriptId)).indexOf(last);
    await item(dana, last).locator('[data-action="up"]').focus();
    await dana.keyboard.press('Enter');
    await expect.poll(indexOfLast, WAIT).toBe(draggedUp.length - 2);
    await expect.poll(() => dana.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.action + ' ' + document.activeElement?.closest('li')?.dataset.sceneId), WAIT).toBe(`up ${last}`);
    await dana.keyboard.press('Enter');
    await expect.poll(indexOfLast, WAIT).toBe(draggedUp.length - 3);
    // And down again with the "down" button.
    await item(dana, last).locator('[data-action="down"]').focus();
    await dana.keyboard.press('Enter');
    await expect.poll(indexOfLast, WAIT).toBe(draggedUp.length - 2);
    const now = await idsIn(scriptId);
    await expect.poll(() => idsOn(dana), WAIT).toEqual(now);
    // The list's numbers follow the order.
    expect(await dana.locator('#scene-list .scene-link__number').allTextContents()).toEqual(now.map((_, index) => String(index + 1)));
    // The first scene has no "up", the last no "down".
    expect(await dana.locator('#scene-list li').first().locator('[data-action="up"]').isDisabled()).toBe(true);
    expect(await dana.locator('#scene-list li').last().locator('[data-action="down"]').isDisabled()).toBe(true);
    await expect.poll(() => idsOn(sam), { timeout: 20_000 }).toEqual(now);
  });

  it('deletes a scene only after confirmation, lists it as deleted and restores it', async () => {
    const target = deletableId;
    const count = (await scenesOf(scriptId)).length;
    // Cancelled: no DELETE is sent (the page has run on past the dialog when evaluate answers).
    const deletes: string[] = [];
    const onRequest = (request: { method(): string; url(): string }) => {
      if (request.method() === 'DELETE') deletes.push(request.url());
    };
    dana.on('request', onRequest);
    answerNext(dana, (dialog) => dialog.dismiss());
    await item(dana, target).locator('[data-action="delete"]').click();
    await dana.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
    expect(deletes).toEqual([]);
    expect((await scenesOf(scriptId)).length).toBe(count);

    // Sam has it open when Dana deletes it.
    await item(sam, target).locator('[data-action="open"]').click();
    await waitForSaved(sam);
    answerNext(dana, (dialog) => dialog.accept());
    await item(dana, target).locator('[data-action="delete"]').click();
    await expect.poll(() => idsIn(scriptId), WAIT).not.toContain(target);
    expect(deletes).toEqual([`${dev.baseUrl}/api/scripts/${scriptId}/scenes/${target}`]);
    dana.off('request', onRequest);
    await expect.poll(() => idsOn(dana), WAIT).not.toContain(target);
    // The open scene was the deleted one: another one is open now.
    await expect.poll(() => dana.locator(CURRENT_EDITOR).getAttribute('data-scene-id'), WAIT).not.toBe(target);
    await dana.waitForSelector('#deleted-scenes:not([hidden])');
    expect(await dana.locator('#deleted-count').textContent()).toBe('1');
    // Sam's list loses it and his editor moves to another scene.
    await expect.poll(() => idsOn(sam), { timeout: 20_000 }).not.toContain(target);
    await expect.poll(() => sam.locator(CURRENT_EDITOR).getAttribute('data-scene-id'), WAIT).not.toBe(target);
    await waitForSaved(sam);

    await dana.locator('#deleted-scenes summary').click();
    await dana.locator('#deleted-list [data-action="restore"]').click();
    await expect.poll(() => idsIn(scriptId), WAIT).toContain(target);
    // Restored at the end.
    expect((await idsIn(scriptId)).at(-1)).toBe(target);
    await expect.poll(() => idsOn(dana), WAIT).toContain(target);
    await expect.poll(() => idsOn(sam), { timeout: 20_000 }).toContain(target);
    await dana.waitForSelector('#deleted-scenes[hidden]', { state: 'attached' });
    expect((await scenesOf(scriptId)).length).toBe(count);
  });

  it('creates a new script from the title prompt and switches to it; the switcher goes back', async () => {
    answerNext(dana, (dialog) => dialog.accept('Pilot: The Loading Dock'));
    await dana.click('#script-new');
    await expect.poll(() => dana.locator('#script-title').textContent(), WAIT).toBe('Pilot: The Loading Dock');
    const pilotId = await dana.locator('#script-switcher').inputValue();
    expect(pilotId).not.toBe(scriptId);
    expect(await dana.locator('#script-switcher option:checked').textContent()).toBe('Pilot: The Loading Dock (owner)');
    await dana.waitForSelector('#scene-empty:not([hidden])');
    expect(await dana.locator('#editor-sheet').isHidden()).toBe(true);
    await dana.click('#scene-add-end');
    await waitForSaved(dana);
    expect((await scenesOf(pilotId)).length).toBe(1);
    expect(new URL(dana.url()).searchParams.get('script')).toBe(pilotId);

    await dana.selectOption('#script-switcher', scriptId);
    await expect.poll(() => dana.locator('#script-title').textContent(), WAIT).toBe('The Last Acknowledgement');
    await waitForSaved(dana);
    expect(await titlesOn(dana)).toEqual((await scenesOf(scriptId)).map(sceneTitleOf));
  });

  it('imports a Fountain file and opens the new script; a broken FDX file is refused saying where', async () => {
    await dana.setInputFiles('#script-import-file', path.join(FIXTURES, 'night-shift.fountain'));
    await expect.poll(() => dana.locator('#script-title').textContent(), { timeout: 15_000 }).toBe('NIGHT SHIFT');
    await waitForSaved(dana);
    const importedId = await dana.locator('#script-switcher').inputValue();
    const imported = await scenesOf(importedId);
    expect(await titlesOn(dana)).toEqual(imported.map(sceneTitleOf));
    expect((await titlesOn(dana)).join('\n')).toContain('INT. DINER - NIGHT');
    expect(await dana.locator('#nav-message').textContent()).toContain('night-shift.fountain');

    expectedFailures.push(/status of 400 .*\/api\/scripts\/import/);
    await dana.setInputFiles('#script-import-file', { name: 'broken.fdx', mimeType: 'application/xml', buffer: Buffer.from(BROKEN_FDX) });
    await dana.waitForSelector('#banner:not([hidden])');
    const banner = (await dana.locator('#banner').textContent()) ?? '';
    expect(banner).toContain('broken.fdx could not be imported');
    expect(banner).toContain('line 5');
    expect(banner).toContain('MALFORMED_SCREENPLAY');
    // Nothing was created, and the page still shows the imported script.
    expect((await api<{ scripts: unknown[] }>(danaToken, 'GET', '/api/scripts')).scripts).toHaveLength(3);
    expect(await dana.locator('#script-title').textContent()).toBe('NIGHT SHIFT');
  });

  it('exports the script and the open scene as Fountain, FDX and PDF with the token', async () => {
    const download = async (target: 'script' | 'scene', format: string) => {
      const [file] = await Promise.all([dana.waitForEvent('download'), dana.click(`#export-${target} [data-format="${format}"]`)]);
      return { name: file.suggestedFilename(), bytes: await readFile((await file.path())!) };
    };
    const fountain = await download('script', 'fountain');
    expect(fountain.name).toBe('NIGHT SHIFT.fountain');
    const text = fountain.bytes.toString('utf8');
    expect(text).toContain('INT. DINER - NIGHT');
    expect(text).toContain('EXT. PARKING LOT - CONTINUOUS');
    const fdx = await download('script', 'fdx');
    expect(fdx.name).toBe('NIGHT SHIFT.fdx');
    expect(fdx.bytes.toString('utf8')).toContain('<FinalDraft');
    const pdf = await download('script', 'pdf');
    expect(pdf.name).toBe('NIGHT SHIFT.pdf');
    expect(pdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    // One scene alone.
    const diner = dana.locator('#scene-list li', { has: dana.locator('.scene-link__title', { hasText: 'INT. DINER - NIGHT' }) });
    await diner.locator('[data-action="open"]').click();
    await waitForSaved(dana);
    const scene = await download('scene', 'fountain');
    expect(scene.bytes.toString('utf8')).toContain('INT. DINER - NIGHT');
    expect(scene.bytes.toString('utf8')).not.toContain('EXT. PARKING LOT - CONTINUOUS');
    const scenePdf = await download('scene', 'pdf');
    expect(scenePdf.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
  });

  it('a viewer sees the scenes and the exports, but no button the server would refuse', async () => {
    const viewerEmail = 'vic@writersroom.example';
    const viewerToken = await tokenOf(viewerEmail);
    await api(danaToken, 'PUT', `/api/scripts/${scriptId}/collaborators`, { email: viewerEmail, role: 'viewer' });
    // The renamed scene, which has an editing session (the rename's PATCH) on its timeline.
    const vic = await open(`${dev.baseUrl}/?scene=${addedId}#token=${viewerToken}&script=${scriptId}&name=Vic`, 'vic');
    await vic.waitForSelector('#save-status[data-state="read-only"]', { timeout: 15_000 });
    await expect.poll(() => titlesOn(vic), WAIT).toEqual((await scenesOf(scriptId)).map(sceneTitleOf));
    // Scenes: no add, move, rename or delete; history: no label form and no restore.
    expect(await vic.locator('#scene-tools').isHidden()).toBe(true);
    expect(await vic.locator('#scene-list [data-action="up"], #scene-list [data-action="delete"], #scene-list [data-action="rename"]').count()).toBe(0);
    expect(await vic.locator('#scene-list li[draggable="true"]').count()).toBe(0);
    await vic.waitForSelector('.history__entry', { timeout: 15_000 });
    expect(await vic.locator('#history-label-form').isHidden()).toBe(true);
    expect(await vic.locator('[data-action="restore"]').count()).toBe(0);
    expect(await vic.locator('[data-action="preview"]').count()).toBeGreaterThan(0);
    // The switcher says the role; exporting is reading, so it is there.
    expect(await vic.locator('#script-switcher option:checked').textContent()).toContain('viewer');
    const [file] = await Promise.all([vic.waitForEvent('download'), vic.click('#export-script [data-format="fountain"]')]);
    expect((await readFile((await file.path())!)).toString('utf8')).toContain(DEMO_SCENES[0]!.heading);

    // A writer sees the same history with its restore buttons.
    expect(await dana.locator('#history-label-form').isVisible()).toBe(true);
    await vic.close();
    expect(problems).toEqual([]);
  });
});

/** The list's title of a scene as the API returns it (first typed heading, else the slugline, else "Scene n"). */
function sceneTitleOf(scene: SceneRow): string {
  const heading = scene.content.blocks.find((block) => block.type === 'scene_heading' && (block.text ?? '').trim() !== '');
  return (heading?.text ?? scene.slugline ?? '').trim() || 'Untitled scene';
}
