import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { buildWebPage } from '../../scripts/build-web.ts';
import { DEMO_USERS } from '../../src/demo/demoScript.ts';
import { replayUpdates } from '../../src/log/replay.ts';
import { SCREENPLAY_SCHEMA_VERSION } from '../../src/screenplay/schema.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor } from '../helpers/clients.ts';
import { textOf } from '../helpers/documents.ts';
import { createScript } from '../helpers/fixtures.ts';
import { projectRoot } from '../helpers/process.ts';
import { describeEachServer } from '../helpers/server.ts';
import { launchChromium } from './browser.ts';
import { DevServer, waitForSaved } from './devServer.ts';

const VIEWPORT = { width: 1280, height: 800 };
const WAIT = { timeout: 15_000 };
const SNIPPET_MARK = '<!-- client-contract-snippet';
/** The snippet's three lines a reader replaces with their own values; the test replaces exactly these. */
const PLACEHOLDERS = {
  server: "const server = 'https://writers.example.com';",
  token: "const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI...';",
  sceneId: "const sceneId = '5b1f9c2e-8d4a-4c3b-9e1f-2a7d6c8b0e41';",
};

/** The fenced block right after the marker in README.md, as written there. */
async function readmeSnippet(): Promise<string> {
  const readme = await readFile(path.join(projectRoot, 'README.md'), 'utf8');
  const mark = readme.indexOf(SNIPPET_MARK);
  if (mark === -1) throw new Error(`README.md has no ${SNIPPET_MARK} marker`);
  const fenced = /```js\n([\s\S]*?)\n```/.exec(readme.slice(mark));
  if (!fenced) throw new Error('no ```js block after the README marker');
  return fenced[1]!;
}

/**
 * The snippet with its placeholders replaced (each must be there, word for word), bundled as a
 * project would bundle it: `writersroom-collab/screenplay` resolves through package.json's exports
 * (esbuild, from the repository's root, resolves the package's own name like Node does).
 */
async function bundleSnippet(values: Record<keyof typeof PLACEHOLDERS, string>): Promise<string> {
  let source = await readmeSnippet();
  for (const [name, line] of Object.entries(PLACEHOLDERS) as [keyof typeof PLACEHOLDERS, string][]) {
    if (!source.includes(line)) throw new Error(`the README snippet lost its line ${line}`);
    source = source.replace(line, `const ${name} = ${JSON.stringify(values[name])};`);
  }
  const result = await build({
    stdin: { contents: source, resolveDir: projectRoot, sourcefile: 'README-snippet.js', loader: 'js' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return result.outputFiles[0]!.text;
}

/** A page of another project's own, on another origin: an editor element, a status line and the snippet. */
function servePage(script: string): Promise<Server> {
  const html = '<!doctype html><meta charset="utf-8"><title>my editor</title><link rel="icon" href="data:,"><div id="editor"></div><p id="status"></p><script type="module" src="/snippet.js"></script>';
  const server = createServer((req, res) => {
    if (req.url === '/snippet.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    else if (req.url === '/') res.writeHead(200, { 'Content-Type': 'text/html' }).end(html);
    else res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/**
 * The one warning tolerated: y-tiptap's first render of the Yjs content (`_forceRerender`) turns
 * the empty initial document's selection into `TextSelection.create(doc, 0, 0)`, which ProseMirror
 * warns about once per editor (the same allowance as scripts.test.ts and continuousScript.test.ts;
 * issue 19 asks for it to go, in src/screenplay or web/, not in this file).
 */
const Y_TIPTAP_FIRST_RENDER = /^TextSelection endpoint not pointing into a node with inline content \(doc\)/;

/** A page whose console warnings and errors (but the one above), page errors and WebSocket URLs are collected. */
async function watchedPage(browser: Browser, who: string, problems: string[], sockets: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  page.on('pageerror', (error) => problems.push(`${who}: page error ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    if (!Y_TIPTAP_FIRST_RENDER.test(message.text())) problems.push(`${who}: console ${message.type()} ${message.text()}`);
  });
  page.on('websocket', (socket) => sockets.push(socket.url()));
  return page;
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describeEachServer("the README's client snippet, word for word, in Chromium", { kinds: ['postgres'] }, ({ db, app }) => {
  it('renders the scene, and what is typed reaches the log and another provider through the HTTP port /collab', async () => {
    const { userId, sceneIds } = await createScript(db().prisma, {
      contentBlocks: [
        { type: 'scene_heading', text: 'INT. ANOTHER TEAM’S EDITOR - DAY' },
        { type: 'action', text: 'It was already here.' },
      ],
    });
    const sceneId = sceneIds[0]!;
    const token = await tokenFor(userId);
    const pageServer = await servePage(await bundleSnippet({ server: app().httpUrl, token, sceneId }));
    const problems: string[] = [];
    const sockets: string[] = [];
    const page = await watchedPage(browser, 'snippet', problems, sockets);
    const peer = connectClient(app().wsUrl, sceneId, { token });
    try {
      await page.goto(`http://127.0.0.1:${(pageServer.address() as AddressInfo).port}/`);
      // The scene's existing content, seeded from its REST copy, rendered by the snippet's fragment.
      await page.waitForFunction(() => document.querySelector('#editor .ProseMirror')?.textContent?.includes('It was already here.'), null, WAIT);
      expect(await page.locator('#editor .ProseMirror [data-type="scene-heading"]').textContent()).toBe('INT. ANOTHER TEAM’S EDITOR - DAY');

      await page.locator('#editor .ProseMirror [data-type="action"]').click();
      await page.keyboard.press('End');
      await page.keyboard.type(' Typed in the snippet.');
      await waitFor(() => textOf(peer.doc).includes('It was already here. Typed in the snippet.'), 'another provider sees the typing', WAIT.timeout);
      await waitFor(
        async () => {
          const stored = new Y.Doc();
          Y.applyUpdate(stored, replayUpdates(await app().sceneLog.load(sceneId)).state);
          return textOf(stored).includes('Typed in the snippet.');
        },
        'the typing is in the log',
        WAIT.timeout,
      );
      // No refusal was shown.
      expect(await page.locator('#status').textContent()).toBe('');
      expect(sockets).toEqual([`${app().collabUrl}?schemaVersion=${SCREENPLAY_SCHEMA_VERSION}`]);
      expect(problems).toEqual([]);
    } finally {
      peer.destroy();
      await page.close();
      await new Promise((resolve) => pageServer.close(resolve));
    }
  });
});

describe('the editor page joins through the single HTTP port', () => {
  let dev: DevServer;
  beforeAll(async () => {
    await buildWebPage();
    dev = await DevServer.start();
  });
  afterAll(async () => {
    await dev?.close();
  });

  it('two pages, with no PUBLIC_WS_URL, connect to ws://host:HTTP_PORT/collab and see each other’s typing', async () => {
    const [dana, sam] = DEMO_USERS as unknown as [{ email: string }, { email: string }];
    const problems: string[] = [];
    const sockets: string[] = [];
    const open = async (email: string) => {
      const page = await watchedPage(browser, email, problems, sockets);
      await page.goto(`${dev.baseUrl}/?user=${encodeURIComponent(email)}`);
      await waitForSaved(page);
      return page;
    };
    const first = await open(dana.email);
    const second = await open(sam.email);
    const sceneId = await first.locator('.ProseMirror').first().getAttribute('data-scene-id');
    // Into an action block, whose text is stored as typed (headings, cues and transitions are capitals).
    const typeAtEndOfScene = async (page: Page, text: string) => {
      await page.locator(`.ProseMirror[data-scene-id="${sceneId}"] > [data-type="action"]`).last().click();
      await page.keyboard.press('End');
      await page.keyboard.type(text);
    };
    const sees = (page: Page, text: string) =>
      page.waitForFunction(([id, wanted]) => document.querySelector(`.ProseMirror[data-scene-id="${id}"]`)?.textContent?.includes(wanted!), [sceneId, text], WAIT);

    await typeAtEndOfScene(first, ' One port for Dana.');
    await sees(second, 'One port for Dana.');
    await typeAtEndOfScene(second, ' And for Sam.');
    await sees(first, 'And for Sam.');
    await Promise.all([waitForSaved(first), waitForSaved(second)]);

    // Every socket the pages opened went to the HTTP port's /collab, none to PORT.
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    const collab = `ws://127.0.0.1:${dev.httpPort}/collab?`;
    expect(sockets.filter((url) => !url.startsWith(collab))).toEqual([]);
    expect(problems).toEqual([]);
    await Promise.all([first.close(), second.close()]);
  });
});
