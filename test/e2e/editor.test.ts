import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebPage } from '../../scripts/build-web.ts';
import { DEMO_USERS } from '../../src/demo/demoScript.ts';
import { launchChromium } from './browser.ts';
import { caretToEnd, CURRENT_EDITOR, DevServer, openAs as openPage, waitForSaved, type RestBlock } from './devServer.ts';

const ARTIFACTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../artifacts');
const [DANA, SAM] = DEMO_USERS as [(typeof DEMO_USERS)[number], (typeof DEMO_USERS)[number]];

describe('the editor page in Chromium', () => {
  let browser: Browser;
  let dev: DevServer;
  let baseUrl: string;
  let dana: Page;
  let sam: Page;
  let firstSceneId: string;
  const pageErrors: string[] = [];

  const openAs = (email: string, query = '') => openPage(browser, baseUrl, email, { query, viewport: { width: 1440, height: 1000 }, errors: pageErrors });

  function saveState(page: Page): Promise<string | null> {
    return page.locator('#save-status').getAttribute('data-state');
  }

  /** Waits until the scene with the caret (the current one) shows `text`. */
  function waitForText(page: Page, text: string, timeout = 10_000): Promise<unknown> {
    return page.waitForFunction(([selector, wanted]) => document.querySelector(selector!)?.textContent?.includes(wanted!), [CURRENT_EDITOR, text], { timeout });
  }

  const currentSceneId = async (page: Page) => (await page.locator(CURRENT_EDITOR).getAttribute('data-scene-id'))!;

  async function blockType(page: Page): Promise<string> {
    return (await page.locator('#block-type').textContent()) ?? '';
  }

  async function devToken(email: string): Promise<string> {
    const response = await fetch(`${baseUrl}/api/dev/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  }

  async function sceneBlocks(sceneId: string): Promise<RestBlock[]> {
    const response = await fetch(`${baseUrl}/api/scenes/${sceneId}`, { headers: { Authorization: `Bearer ${await devToken(DANA.email)}` } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { content: { blocks: RestBlock[] }; metadata: { source: string } };
    expect(body.metadata.source).toBe('yjs');
    return body.content.blocks;
  }

  async function sceneIdsOf(scriptId: string): Promise<string[]> {
    const response = await fetch(`${baseUrl}/api/scripts/${scriptId}/scenes`, { headers: { Authorization: `Bearer ${await devToken(DANA.email)}` } });
    expect(response.status).toBe(200);
    return ((await response.json()) as { scenes: { sceneUUID: string }[] }).scenes.map((scene) => scene.sceneUUID);
  }

  /** The scene as its stored log replays it: what is on disk, whatever the server holds in memory. */
  async function loggedBlocks(sceneId: string): Promise<RestBlock[]> {
    const { blocks, hasGap } = await dev.loggedBlocks(sceneId);
    expect(hasGap).toBe(false);
    return blocks;
  }

  beforeAll(async () => {
    // Fails here, with the instruction, when Chromium is missing; then builds what web/ holds now.
    browser = await launchChromium();
    await buildWebPage();
    dev = await DevServer.start();
    baseUrl = dev.baseUrl;
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.close();
  });

  it('opens the demo script by itself: scenes listed, the first scene seeded from its REST content', async () => {
    dana = await openAs(DANA.email);
    await expect.poll(() => dana.locator('.scene-link').count()).toBe(3);
    expect(await dana.locator('.scene-link').first().textContent()).toContain('INT. WRITERS ROOM - NIGHT');
    await waitForText(dana, 'Every keystroke. On disk before it says so.');
    // The REST marks came through Yjs: "before it says so" is italic.
    expect(await dana.locator('.ProseMirror em').first().textContent()).toBe('before it says so');
    expect(await dana.locator('#identity select').inputValue()).toBe(DANA.email);
    firstSceneId = await currentSceneId(dana);
    expect(firstSceneId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('two writers in two pages see each other’s text and carets', async () => {
    sam = await openAs(SAM.email, `&scene=${firstSceneId}`);
    await waitForText(sam, 'Every keystroke.');

    // Enter after the transition gives a scene heading; an action line stays in this scene (a heading
    // would start a new one, continuousScript.test.ts).
    await caretToEnd(dana);
    await dana.keyboard.press('Enter');
    await dana.keyboard.press('Control+Alt+2');
    await dana.keyboard.type('Dana uncaps a marker.');
    await waitForText(sam, 'Dana uncaps a marker.');

    await caretToEnd(sam);
    await sam.keyboard.press('Enter');
    await sam.keyboard.type('Sam drags a whiteboard down the corridor.');
    await waitForText(dana, 'Sam drags a whiteboard down the corridor.');

    // Each sees the other's caret, labelled with the other's name.
    await dana.waitForSelector(`.collab-caret__label:text("${SAM.displayName}")`);
    await sam.waitForSelector(`.collab-caret__label:text("${DANA.displayName}")`);
    await Promise.all([waitForSaved(dana), waitForSaved(sam)]);

    const blocks = await sceneBlocks(firstSceneId);
    expect(blocks.slice(-2)).toEqual([
      { type: 'action', text: 'Dana uncaps a marker.' },
      { type: 'action', text: 'Sam drags a whiteboard down the corridor.' },
    ]);
  });

  it('a server that stalls while a writer types closes nobody: what was typed arrives once it resumes', async () => {
    // A stopped process reads everything sent meanwhile at once when it resumes: the caret moves of
    // a writer's typing arrive as one burst, which the flood guards must not take for a flood.
    await caretToEnd(sam);
    await sam.keyboard.press('Enter');
    dev.process.child.kill('SIGSTOP');
    try {
      await sam.keyboard.type('The whiteboard wobbles but holds.');
    } finally {
      dev.process.child.kill('SIGCONT');
    }
    await waitForText(dana, 'The whiteboard wobbles but holds.');
    await Promise.all([waitForSaved(dana), waitForSaved(sam)]);
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(metrics).not.toMatch(/^collab_sockets_refused_total/m);
    expect((await sceneBlocks(firstSceneId)).at(-1)).toEqual({ type: 'action', text: 'The whiteboard wobbles but holds.' });
  });

  it('the block-type shortcuts and the Enter and Tab conventions produce the right nodes', async () => {
    await dana.locator('.scene-link').nth(2).click();
    await waitForText(dana, 'Page one. Again.');
    await waitForSaved(dana);
    const sceneId = await currentSceneId(dana);
    expect(sceneId).not.toBe(firstSceneId);
    await caretToEnd(dana);
    expect(await blockType(dana)).toBe('Transition');

    // Each step: Enter starts the element that follows by convention, then the shortcut changes it.
    const steps: { conventional: string; keys: string; becomes: string; text: string; rest: string }[] = [
      { conventional: 'Scene heading', keys: 'Control+Alt+2', becomes: 'Action', text: 'Headlights sweep the roof.', rest: 'action' },
      { conventional: 'Action', keys: 'Control+Alt+3', becomes: 'Character', text: 'MAYA', rest: 'character' },
      { conventional: 'Dialogue', keys: 'Control+Alt+5', becomes: 'Parenthetical', text: '(quietly)', rest: 'parenthetical' },
      { conventional: 'Dialogue', keys: 'Control+Alt+6', becomes: 'Transition', text: 'SMASH CUT TO:', rest: 'transition' },
      { conventional: 'Scene heading', keys: 'Control+Alt+4', becomes: 'Dialogue', text: 'It is all still here.', rest: 'dialogue' },
      { conventional: 'Action', keys: 'Control+Alt+1', becomes: 'Scene heading', text: 'EXT. STREET - DAWN', rest: 'scene_heading' },
      // Tab cycles the element: after a scene heading, Enter gives action, Tab turns it into a character.
      { conventional: 'Action', keys: 'Tab', becomes: 'Character', text: 'SAM', rest: 'character' },
    ];
    for (const step of steps) {
      await dana.keyboard.press('Enter');
      await expect.poll(() => blockType(dana)).toBe(step.conventional);
      await dana.keyboard.press(step.keys);
      await expect.poll(() => blockType(dana)).toBe(step.becomes);
      await dana.keyboard.type(step.text);
    }
    // Enter after a character gives dialogue without any shortcut.
    await dana.keyboard.press('Enter');
    await expect.poll(() => blockType(dana)).toBe('Dialogue');
    await dana.keyboard.type('Then we keep writing.');
    await waitForSaved(dana);

    // The scene heading of step 6 started a new scene right after this one (the continuous script
    // splits a scene where a heading is typed): the blocks from it on are that scene's.
    const headingStep = steps.findIndex((step) => step.rest === 'scene_heading');
    const scriptId = (await dana.locator('#scene-list').getAttribute('data-script-id'))!;
    await expect.poll(async () => (await sceneIdsOf(scriptId)).length).toBe(4);
    const ids = await sceneIdsOf(scriptId);
    expect(ids.indexOf(sceneId)).toBe(2);
    const split = ids[3]!;
    expect(await currentSceneId(dana)).toBe(split);
    const blocks = await sceneBlocks(sceneId);
    expect(blocks.slice(0, 5).map((block) => block.text)).toEqual([
      'EXT. ROOFTOP - DAWN',
      'Dana and Sam share a thermos. The city wakes below them.',
      'DANA',
      'Page one. Again.',
      'FADE OUT.',
    ]);
    expect(blocks.slice(5)).toEqual(steps.slice(0, headingStep).map((step) => ({ type: step.rest, text: step.text })));
    expect(await sceneBlocks(split)).toEqual([
      ...steps.slice(headingStep).map((step) => ({ type: step.rest, text: step.text })),
      { type: 'dialogue', text: 'Then we keep writing.' },
    ]);
    // The page shows them formatted: headings and characters upper-case, dialogue indented.
    const styles = await dana.evaluate(() => {
      const style = (selector: string) => getComputedStyle(document.querySelector(`.ProseMirror ${selector}`)!);
      return {
        font: style('[data-type="action"]').fontFamily,
        fontSize: style('[data-type="action"]').fontSize,
        characterCase: style('[data-type="character"]').textTransform,
        characterIndent: parseFloat(style('[data-type="character"]').marginLeft),
        dialogueIndent: parseFloat(style('[data-type="dialogue"]').marginLeft),
        transitionAlign: style('[data-type="transition"]').textAlign,
      };
    });
    expect(styles.font).toMatch(/Courier/);
    expect(styles.fontSize).toBe('16px'); // 12pt
    expect(styles.characterCase).toBe('uppercase');
    expect(styles.characterIndent).toBeGreaterThan(styles.dialogueIndent);
    expect(styles.dialogueIndent).toBeGreaterThan(0);
    expect(styles.transitionAlign).toBe('right');
  });

  it('an empty scene gets its first block, a scene heading, when the writer clicks into it', async () => {
    const first = await dev.db.prisma.scene.findUniqueOrThrow({ where: { sceneId: firstSceneId } });
    const empty = await dev.db.prisma.scene.create({ data: { scriptId: first.scriptId, position: 4, contentBlocks: [] } });
    await dana.goto(`${baseUrl}/?user=${encodeURIComponent(DANA.email)}&scene=${empty.sceneId}`);
    await waitForSaved(dana);
    await expect.poll(() => dana.locator('.scene-link').count()).toBe(5);
    expect(await currentSceneId(dana)).toBe(empty.sceneId);
    expect(await dana.locator(`${CURRENT_EDITOR} > *`).count()).toBe(0);
    await dana.locator(CURRENT_EDITOR).click();
    await dana.waitForSelector('#block-type[data-at-scene-end="true"]');
    expect(await blockType(dana)).toBe('Scene heading');
    await dana.keyboard.type('int. new scene - day');
    await dana.keyboard.press('Enter');
    await dana.keyboard.type('It starts here.');
    await waitForSaved(dana);
    // Headings are stored in capitals, as typed in lower case (src/screenplay/capitals.ts).
    expect(await sceneBlocks(empty.sceneId)).toEqual([
      { type: 'scene_heading', text: 'INT. NEW SCENE - DAY' },
      { type: 'action', text: 'It starts here.' },
    ]);
  });

  it('a server killed and started again loses nothing: the open page saves what was typed meanwhile, reloads show every word', async () => {
    await dana.locator(`.scene-link[data-scene-id="${firstSceneId}"]`).click();
    await waitForText(dana, 'Sam drags a whiteboard down the corridor.');
    await Promise.all([waitForSaved(dana), waitForSaved(sam)]);

    // Everything on screen says saved, so everything is on disk: SIGKILL, no graceful shutdown.
    dev.process.child.kill('SIGKILL');
    await dev.process.exited;
    await expect.poll(() => saveState(dana), { timeout: 10_000 }).toMatch(/^(offline|connecting)$/);

    await caretToEnd(dana);
    await dana.keyboard.press('Enter');
    await dana.keyboard.type('Typed while the server was down.');
    await expect.poll(() => saveState(dana)).toBe('unsaved-offline');

    await dev.run();
    // The page reconnects by itself; its development token died with the old process, so it gets a new one.
    await waitForSaved(dana, 45_000);
    await waitForSaved(sam, 45_000);
    await waitForText(sam, 'Typed while the server was down.');

    for (const page of [dana, sam]) {
      await page.reload();
      await waitForSaved(page);
      for (const text of ['Every keystroke. On disk before it says so.', 'Dana uncaps a marker.', 'Sam drags a whiteboard down the corridor.', 'Typed while the server was down.']) {
        await waitForText(page, text);
      }
    }
    const expected = ['Dana uncaps a marker.', 'Sam drags a whiteboard down the corridor.', 'The whiteboard wobbles but holds.', 'Typed while the server was down.'];
    expect((await loggedBlocks(firstSceneId)).slice(-4).map((block) => block.text)).toEqual(expected);
    expect((await sceneBlocks(firstSceneId)).slice(-4).map((block) => block.text)).toEqual(expected);
  });

  it('signs in with a pasted token (as outside development) and shows a refusal in full', async () => {
    const { demo } = (await (await fetch(`${baseUrl}/editor/config.json`)).json()) as { demo: { scriptId: string } };
    const page = await browser.newPage();
    try {
      const token = await devToken(SAM.email);
      await page.goto(`${baseUrl}/#token=${token}&script=${demo.scriptId}&name=${encodeURIComponent('Sam on a laptop')}`);
      await waitForSaved(page);
      await waitForText(page, 'Typed while the server was down.');
      expect(await page.locator('#identity').textContent()).toContain('Sam on a laptop');
      // The token left the address bar (and the history) for this tab's session storage.
      expect(page.url()).not.toContain('token=');

      const stranger = await devToken('stranger@writersroom.example');
      await page.evaluate(() => sessionStorage.clear());
      await page.goto(`${baseUrl}/#token=${stranger}&script=${demo.scriptId}&name=Stranger`);
      await page.waitForSelector('#banner:not([hidden])');
      expect(await page.locator('#banner').textContent()).toMatch(/^The editor could not start: no-access:/);
      expect(await saveState(page)).toBe('refused');
    } finally {
      await page.close();
    }
  });

  it('saves a screenshot of the editor with a colleague’s caret', async () => {
    // Sam's caret in the middle of Dana's line, so Dana's page shows the label.
    await sam.locator('.ProseMirror [data-type="scene-heading"]').first().click();
    await sam.keyboard.press('End');
    await dana.waitForSelector(`.collab-caret__label:text("${SAM.displayName}")`);
    await caretToEnd(dana);
    await mkdir(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'editor.png');
    await dana.screenshot({ path: file, fullPage: false });
    expect(pageErrors).toEqual([]);
  });
});
