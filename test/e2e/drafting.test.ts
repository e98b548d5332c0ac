import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebPage } from '../../scripts/build-web.ts';
import { DEMO_USERS } from '../../src/demo/demoScript.ts';
import { readPdf } from '../interchange/pdfSupport.ts';
import { launchChromium } from './browser.ts';
import { DevServer, waitForSaved, type RestBlock } from './devServer.ts';

const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../artifacts');
const [DANA, SAM] = DEMO_USERS as [(typeof DEMO_USERS)[number], (typeof DEMO_USERS)[number]];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const WAIT = { timeout: 15_000 };

/**
 * Screenwriting basics on the editor page (issue 19, item 2) in Chromium, against the real server in
 * development mode: capitals stored, autocomplete, the element toolbar, the layout at 1280x800 and
 * 390x844, and printing only the script. No console warning or error is allowed at all.
 */
describe('drafting aids on the editor page in Chromium', () => {
  let browser: Browser;
  let dev: DevServer;
  let dana: Page;
  let scriptId: string;
  let token: string;
  const problems: string[] = [];

  async function open(email: string, viewport: { width: number; height: number }, who: string): Promise<Page> {
    const page = await browser.newPage({ viewport });
    page.on('pageerror', (error) => problems.push(`${who}: page error ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${who}: console ${message.type()} ${message.text()}`);
    });
    await page.goto(`${dev.baseUrl}/?user=${encodeURIComponent(email)}`);
    await waitForSaved(page);
    await expect.poll(() => page.locator('.script-scene[data-state="loaded"] .ProseMirror').count(), WAIT).toBeGreaterThan(0);
    return page;
  }

  /**
   * The whole script's blocks in order, as the server has them (`{type, text}` lines): a heading
   * typed into a scene is split off into a scene of its own by the continuous script, so what is
   * typed here may end up in several scenes.
   */
  async function scriptLines(): Promise<string> {
    const response = await fetch(`${dev.baseUrl}/api/scripts/${scriptId}/scenes`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    const { scenes } = (await response.json()) as { scenes: { content: { blocks: RestBlock[] } }[] };
    return scenes.flatMap((scene) => scene.content.blocks.map(({ type, text }) => JSON.stringify({ type, text }))).join('\n');
  }
  const linesOf = (blocks: RestBlock[]) => blocks.map((block) => JSON.stringify(block)).join('\n');

  const firstEditor = (page: Page): Locator => page.locator('.ProseMirror').first();
  const focusedEditor = (page: Page): Locator => page.locator('.ProseMirror-focused');
  const blockType = (page: Page) => page.locator('#block-type').textContent();
  const pressed = (page: Page) => page.locator('#toolbar [aria-pressed="true"]').allTextContents();
  const options = (page: Page) => page.locator('.autocomplete:not([hidden]) [role="option"]').allTextContents();
  const sections = (page: Page) => page.locator('.script-scene').count();
  /** The text of the block with the caret. */
  const caretBlock = (page: Page) => page.evaluate(() => window.getSelection()?.anchorNode?.parentElement?.closest('[data-type]')?.textContent ?? null);

  /** Adds a scene at the end of the script and waits until its first block, a heading, has the caret. */
  async function newScene(page: Page): Promise<void> {
    const before = await sections(page);
    await page.click('#scene-add-end');
    await expect.poll(() => sections(page), WAIT).toBe(before + 1);
    const added = page.locator('.script-scene').last().locator('.ProseMirror');
    await added.click();
    await expect.poll(() => blockType(page), WAIT).toBe('Scene heading');
    await expect.poll(() => page.evaluate(() => document.activeElement?.closest('.script-scene') === [...document.querySelectorAll('.script-scene')].at(-1)), WAIT).toBe(true);
  }

  /** Whether every block of the sheet is within the viewport horizontally, or the rest can be scrolled to. */
  function reach(page: Page) {
    return page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const clipped = [...document.querySelectorAll<HTMLElement>('.sheet [data-type]')]
        .filter((block) => {
          const box = block.getBoundingClientRect();
          return box.width > 0 && (box.left < -0.5 || box.right > width + 0.5);
        })
        .map((block) => block.textContent ?? '');
      const desk = document.querySelector<HTMLElement>('.desk')!;
      return { clipped, scrollable: desk.scrollWidth > desk.clientWidth && getComputedStyle(desk).overflowX !== 'hidden' };
    });
  }

  async function onScreen(locator: Locator, viewport: { width: number; height: number }): Promise<boolean> {
    const box = await locator.boundingBox();
    return box !== null && box.width > 0 && box.x >= 0 && box.y >= 0 && box.x + box.width <= viewport.width + 0.5 && box.y + box.height <= viewport.height + 0.5;
  }

  beforeAll(async () => {
    browser = await launchChromium();
    await buildWebPage();
    dev = await DevServer.start();
    const response = await fetch(`${dev.baseUrl}/api/dev/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: DANA.email }) });
    token = ((await response.json()) as { token: string }).token;
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.close();
  });

  it('stores headings, cues and transitions in capitals, whatever case is typed', async () => {
    dana = await open(DANA.email, DESKTOP, 'dana');
    scriptId = (await dana.locator('#scene-list').getAttribute('data-script-id'))!;
    // A new scene (a heading typed further down a scene would be split off into one anyway).
    await newScene(dana);
    await dana.keyboard.type('int. kitchen - night');
    await dana.keyboard.press('Escape');
    // Each step: Enter (the element that follows), the shortcut for the element, then lower-case text.
    for (const [keys, text] of [
      ['Control+Alt+2', 'Rain on the window.'],
      ['Control+Alt+3', 'maya (v.o.)'],
      ['Control+Alt+4', 'Still here.'],
      ['Control+Alt+6', 'cut to:'],
    ] as const) {
      await dana.keyboard.press('Enter');
      await dana.keyboard.press(keys);
      await dana.keyboard.type(text);
      // The list may be open at the end of a heading: it must not take the next Enter.
      await dana.keyboard.press('Escape');
    }
    await waitForSaved(dana);
    const typed = linesOf([
      { type: 'scene_heading', text: 'INT. KITCHEN - NIGHT' },
      { type: 'action', text: 'Rain on the window.' },
      { type: 'character', text: 'MAYA (V.O.)' },
      { type: 'dialogue', text: 'Still here.' },
      { type: 'transition', text: 'CUT TO:' },
    ]);
    await expect.poll(() => scriptLines(), WAIT).toContain(typed);
  });

  it('autocompletes INT., a location of the script and DAY in a heading, and a character name in a cue', async () => {
    await newScene(dana);
    await dana.keyboard.type('i');
    await expect.poll(() => options(dana), WAIT).toEqual(['INT.', 'INT./EXT.', 'I/E.']);
    // An accessible list: the editor points at the chosen option.
    const listId = await dana.locator('.autocomplete:not([hidden])').getAttribute('id');
    expect(await dana.locator('.autocomplete:not([hidden])').getAttribute('role')).toBe('listbox');
    const active = focusedEditor(dana);
    expect(await active.getAttribute('aria-controls')).toBe(listId);
    expect(await active.getAttribute('aria-activedescendant')).toBe(`${listId}-0`);
    await dana.keyboard.press('ArrowDown');
    expect(await active.getAttribute('aria-activedescendant')).toBe(`${listId}-1`);
    await dana.keyboard.press('ArrowUp');
    await dana.keyboard.press('Tab'); // accepts INT.
    // The heading's locations so far (this scene's and the script's), then the times of day.
    await expect.poll(() => options(dana), WAIT).toContain('KITCHEN');
    await dana.keyboard.type('k');
    await expect.poll(() => options(dana), WAIT).toEqual(['KITCHEN']);
    await dana.keyboard.press('Enter');
    await expect.poll(() => options(dana), WAIT).toContain('MOMENTS LATER');
    await dana.keyboard.type('d');
    await expect.poll(() => options(dana), WAIT).toEqual(['DAY', 'DAWN', 'DUSK']);
    await dana.keyboard.press('Enter');
    await expect.poll(() => caretBlock(dana), WAIT).toBe('INT. KITCHEN - DAY');
    // Written in full: Enter goes on to the next element as the keymap says.
    await dana.keyboard.press('Enter');
    await expect.poll(() => blockType(dana), WAIT).toBe('Action');

    // A cue: the script's names; Enter takes one, Enter again (nothing left to complete) starts the dialogue.
    await dana.keyboard.press('Tab');
    expect(await blockType(dana)).toBe('Character');
    await dana.keyboard.type('s');
    await expect.poll(() => options(dana), WAIT).toEqual(['SAM']);
    await dana.keyboard.press('Enter');
    await expect.poll(() => caretBlock(dana), WAIT).toBe('SAM');
    await dana.keyboard.press('Enter');
    await expect.poll(() => blockType(dana), WAIT).toBe('Dialogue');
    await dana.keyboard.type('Kitchen again.');
    // Escape dismisses the list and keeps what was typed.
    await dana.keyboard.press('Enter');
    await dana.keyboard.press('Tab'); // action -> character
    await dana.keyboard.type('m');
    await expect.poll(() => options(dana), WAIT).toEqual(['MAYA']);
    await mkdir(ARTIFACTS, { recursive: true });
    await dana.screenshot({ path: path.join(ARTIFACTS, 'drafting-autocomplete.png') });
    await dana.keyboard.press('Escape');
    await expect.poll(() => dana.locator('.autocomplete:not([hidden])').count(), WAIT).toBe(0);
    expect(await active.getAttribute('aria-expanded')).toBe('false');
    await dana.keyboard.type('ax');
    await waitForSaved(dana);
    // Tab turned the empty action after the heading into the cue.
    const typed = linesOf([
      { type: 'scene_heading', text: 'INT. KITCHEN - DAY' },
      { type: 'character', text: 'SAM' },
      { type: 'dialogue', text: 'Kitchen again.' },
      { type: 'character', text: 'MAX' },
    ]);
    await expect.poll(() => scriptLines(), WAIT).toContain(typed);
  });

  it('the toolbar shows the caret’s element, follows the caret and changes the block', async () => {
    expect(await pressed(dana)).toEqual(['Character']);
    const rain = dana.locator('.ProseMirror [data-type="action"]', { hasText: 'Rain on the window.' });
    await rain.click();
    await expect.poll(() => pressed(dana), WAIT).toEqual(['Action']);
    await firstEditor(dana).locator('[data-type="scene-heading"]').first().click();
    await expect.poll(() => pressed(dana), WAIT).toEqual(['Scene heading']);
    // The button acts on the block with the caret, and the caret stays in the script.
    await rain.click();
    await dana.keyboard.press('End');
    await dana.locator('#toolbar button', { hasText: 'General' }).click();
    await expect.poll(() => pressed(dana), WAIT).toEqual(['General']);
    expect(await blockType(dana)).toBe('General');
    await dana.locator('#toolbar button', { hasText: 'Action' }).click();
    await expect.poll(() => pressed(dana), WAIT).toEqual(['Action']);
    await dana.keyboard.type(' Thunder.');
    await waitForSaved(dana);
    await expect.poll(() => scriptLines(), WAIT).toContain(linesOf([{ type: 'action', text: 'Rain on the window. Thunder.' }]));
    // Into a transition: its text is capitalised as well.
    await dana.locator('#toolbar button', { hasText: 'Transition' }).click();
    await waitForSaved(dana);
    await expect.poll(() => scriptLines(), WAIT).toContain(linesOf([{ type: 'transition', text: 'RAIN ON THE WINDOW. THUNDER.' }]));
  });

  it('at 1280x800 the sheet is whole or scrollable, the panels and the element label are on screen', async () => {
    expect(await reach(dana)).toEqual(expect.objectContaining({ clipped: [] }));
    expect(await dana.locator('nav.scenes').isVisible()).toBe(true);
    expect(await dana.locator('#history').isVisible()).toBe(true);
    expect(await dana.locator('#scenes-toggle').isVisible()).toBe(false);
    expect(await onScreen(dana.locator('#block-type'), DESKTOP)).toBe(true);
    expect(await onScreen(dana.locator('#toolbar'), DESKTOP)).toBe(true);
    await dana.screenshot({ path: path.join(ARTIFACTS, 'drafting-1280.png') });
  });

  it('at 390x844 the sheet fits, the panels fold behind buttons, the toolbar and the label stay in reach', async () => {
    const sam = await open(SAM.email, PHONE, 'sam');
    const { clipped, scrollable } = await reach(sam);
    expect(clipped.length === 0 || scrollable).toBe(true);
    expect(clipped).toEqual([]);
    // The sheet uses the width: most of the window, not a sliver of it.
    const sheet = (await sam.locator('#editor-sheet').boundingBox())!;
    expect(sheet.x).toBeGreaterThanOrEqual(0);
    expect(sheet.width).toBeGreaterThan(PHONE.width * 0.9);
    expect(await sam.locator('nav.scenes').isVisible()).toBe(false);
    expect(await sam.locator('#history').isVisible()).toBe(false);
    await firstEditor(sam).locator('[data-type]').first().click();
    await expect.poll(() => blockType(sam), WAIT).toBe('Scene heading');
    expect(await onScreen(sam.locator('#block-type'), PHONE)).toBe(true);
    expect(await onScreen(sam.locator('#toolbar button').first(), PHONE)).toBe(true);
    await sam.screenshot({ path: path.join(ARTIFACTS, 'drafting-390.png') });
    // The scene list opens over the page from its button, and folds away again.
    await sam.click('#scenes-toggle');
    await expect.poll(() => sam.locator('nav.scenes').isVisible(), WAIT).toBe(true);
    expect(await onScreen(sam.locator('#scene-list .scene-link').first(), PHONE)).toBe(true);
    await sam.screenshot({ path: path.join(ARTIFACTS, 'drafting-390-scenes.png') });
    await sam.keyboard.press('Escape');
    await expect.poll(() => sam.locator('nav.scenes').isVisible(), WAIT).toBe(false);
    await sam.click('#side-toggle');
    await expect.poll(() => sam.locator('#history').isVisible(), WAIT).toBe(true);
    await sam.keyboard.press('Escape');
    await sam.close();
  });

  it('prints only the script, in Courier on US Letter', async () => {
    await dana.emulateMedia({ media: 'print' });
    const pdf = await dana.pdf({ preferCSSPageSize: true, printBackground: false });
    await dana.emulateMedia({ media: 'screen' });
    const read = await readPdf(pdf);
    const text = read.items.flat().map((item) => item.text).join(' ');
    expect(text).toContain('INT. WRITERS ROOM - NIGHT');
    expect(text).toContain('INT. KITCHEN - NIGHT');
    expect(text).toContain('Kitchen again.');
    // Nothing of the page around the script: top bar, scene list, history, keyboard help, toolbar, status bar.
    for (const chrome of ["Writers' Room", 'Writing as', 'Scenes', 'History', 'Keyboard', 'Parenthetical', 'All changes saved', 'Add scene', 'Export']) {
      expect(text).not.toContain(chrome);
    }
    expect(new Set(read.items.flat().map((item) => item.font)).size).toBeGreaterThan(0);
    for (const item of read.items.flat()) expect(item.font).toMatch(/Courier|Liberation Mono|Nimbus Mono|monospace/i);
  });

  it('printed no console warning or error on any page', () => {
    expect(problems).toEqual([]);
  });
});
