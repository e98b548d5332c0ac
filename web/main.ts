/**
 * The editor page: signs in (by itself in development), lists the script's scenes and shows the
 * whole script, every scene a collaborative screenplay editor (web/scriptView.ts). This file wires
 * the parts: the script menu (switch, new), the scene list (web/sceneList.ts), import and export
 * (web/fileMenu.ts), the history panel of the scene with the caret, and the script view. Built by `npm run build:web` (scripts/build-web.ts) into
 * dist/web and served at `/` by src/http/editorPage.ts.
 */
import { ApiClient, fetchPageConfig, type PageConfig } from './api.ts';
import { collabUrl } from './collabUrl.ts';
import { FileMenu } from './fileMenu.ts';
import { HistoryPanel } from './historyPanel.ts';
import { InterchangeApi } from './interchangeApi.ts';
import { SceneList } from './sceneList.ts';
import { ScriptMenu } from './scriptMenu.ts';
import { canWrite, ScriptsApi, type ScriptRole } from './scriptsApi.ts';
import type { SaveStatus } from './saveStatus.ts';
import { NO_SCENE_OPEN } from './scriptSaveStatus.ts';
import { ScriptView } from './scriptView.ts';
import { BLOCK_SHORTCUTS, labelOf, NEXT_ON_ENTER, NEXT_ON_TAB } from './screenplayKeymap.ts';
import { forgetSession, resolveSession, saveSession, type Session } from './session.ts';
import { mountToolbar } from './toolbar.ts';

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
const modAlt = isMac ? '⌘⌥' : 'Ctrl+Alt+';

let view: ScriptView | null = null;
let historyPanel: HistoryPanel | null = null;

function showBanner(message: string | null, kind: 'error' | 'info' = 'error'): void {
  const banner = element('banner');
  banner.hidden = message === null;
  banner.textContent = message ?? '';
  banner.dataset.kind = kind;
}

function renderHelp(): void {
  const rows = BLOCK_SHORTCUTS.map(
    ({ node, label, digit }) =>
      `<tr><td><kbd>${modAlt}${digit}</kbd></td><td>${label}</td><td>${labelOf(NEXT_ON_ENTER[node] ?? node)}</td><td>${labelOf(NEXT_ON_TAB[node] ?? node)}</td></tr>`,
  ).join('');
  element('shortcut-rows').innerHTML = rows;
  element('mark-help').innerHTML = ['b', 'i', 'u']
    .map((key, index) => `<kbd>${isMac ? '⌘' : 'Ctrl+'}${key.toUpperCase()}</kbd> ${['bold', 'italic', 'underline'][index]}`)
    .join(' · ');
}

function renderIdentity(session: Session): void {
  const identity = element('identity');
  identity.replaceChildren();
  const dot = document.createElement('span');
  dot.className = 'identity__dot';
  dot.style.backgroundColor = session.user.color;
  identity.append(dot, 'Writing as ');
  if (session.demoUsers.length > 1) {
    // Development: switch between the demo writers to try collaboration in two windows.
    const select = document.createElement('select');
    select.id = 'demo-user';
    select.setAttribute('aria-label', 'Demo writer');
    for (const user of session.demoUsers) {
      const option = new Option(user.displayName, user.email, user.current, user.current);
      select.append(option);
    }
    select.addEventListener('change', () => {
      const url = new URL(window.location.href);
      url.searchParams.set('user', select.value);
      window.location.assign(url);
    });
    identity.append(select);
  } else {
    const name = document.createElement('strong');
    name.textContent = session.user.name;
    identity.append(name);
    if (session.demoUsers.length === 0) {
      const signOut = document.createElement('button');
      signOut.type = 'button';
      signOut.className = 'link';
      signOut.textContent = 'Sign out';
      signOut.addEventListener('click', () => {
        forgetSession();
        window.location.reload();
      });
      identity.append(' ', signOut);
    }
  }
}

let bannerShowsRefusal = false;

function renderStatus(status: SaveStatus): void {
  const indicator = element('save-status');
  indicator.dataset.state = status.state;
  indicator.textContent = status.label;
  indicator.title = status.label;
  // The indicator is too small for a refusal's reason (no access, a refused update): say it in full.
  if (status.state === 'refused') {
    showBanner(status.label);
    bannerShowsRefusal = true;
  } else if (bannerShowsRefusal) {
    showBanner(null);
    bannerShowsRefusal = false;
  }
}

function showSignIn(config: PageConfig): void {
  const form = element<HTMLFormElement>('sign-in');
  form.hidden = false;
  element('editor-sheet').hidden = true;
  element<HTMLInputElement>('sign-in-name').value = 'Writer';
  element('sign-in-hint').textContent = config.devTokens
    ? 'Development mode without the demo script: paste a token from POST /api/dev/token and the id of a script that user may open.'
    : 'Paste an access token issued for you and the id of a script you may open.';
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = element<HTMLInputElement>('sign-in-token').value.trim();
    const scriptId = element<HTMLInputElement>('sign-in-script').value.trim();
    const name = element<HTMLInputElement>('sign-in-name').value.trim() || 'Writer';
    if (!token || !scriptId) return;
    saveSession({ token, scriptId, name });
    window.location.reload();
  });
}

/** Messages about the page's own actions: errors in the banner (read out at once), the rest beside the list. */
let bannerShowsActionError = false;
function say(message: string | null, kind: 'error' | 'info' = 'info'): void {
  const line = element('nav-message');
  if (kind === 'error' && message !== null) {
    showBanner(message);
    bannerShowsActionError = true;
    line.hidden = true;
    return;
  }
  if (bannerShowsActionError) {
    showBanner(null);
    bannerShowsActionError = false;
  }
  line.hidden = message === null;
  line.textContent = message ?? '';
}

async function boot(): Promise<void> {
  renderHelp();
  mountToolbar(element('toolbar'), () => view?.currentEditor ?? null);
  const config = await fetchPageConfig();
  const session = await resolveSession(config);
  if (!session) {
    renderStatus({ state: 'offline', label: 'Not signed in', atRisk: false });
    showSignIn(config);
    return;
  }
  renderIdentity(session);

  let token = session.token;
  // A development token dies with the server process that signed it: get a new one when needed.
  const freshToken = session.refresh
    ? async () => {
        token = await session.refresh!();
        return token;
      }
    : null;
  const client = new ApiClient(() => token, freshToken);
  const scripts = new ScriptsApi(client);

  let scriptId: string | null = null;
  let role: ScriptRole = 'viewer';
  let sceneList: SceneList | null = null;
  const currentSceneId = () => view?.currentSceneId ?? null;

  const switchTo = (id: string) => {
    openScript(id, null).catch((error: unknown) => say(`The script could not be opened: ${(error as Error).message}`, 'error'));
  };
  const menu = new ScriptMenu({ api: scripts, onSwitch: switchTo, say });
  const files = new FileMenu({
    api: new InterchangeApi(client),
    current: () => ({ scriptId, sceneId: currentSceneId() }),
    onImported: (script) => switchTo(script.scriptUUID),
    say,
  });

  /** The scene with the caret changed: the address, the list's mark, the history panel and the export row follow it. */
  const showCurrent = (sceneId: string | null) => {
    const url = new URL(window.location.href);
    if (sceneId) url.searchParams.set('scene', sceneId);
    else url.searchParams.delete('scene');
    history.replaceState(null, '', url);
    sceneList?.setActive(sceneId);
    historyPanel?.destroy();
    historyPanel = sceneId ? new HistoryPanel(sceneId, () => token, canWrite(role)) : null;
    element('history').hidden = sceneId === null;
    element('block-type').textContent = '';
    files.update();
  };

  const closeScript = () => {
    view?.destroy();
    view = null;
    historyPanel?.destroy();
    historyPanel = null;
    element('editor-sheet').hidden = true;
    element('history').hidden = true;
    element('block-type').textContent = '';
    element('page-count').textContent = '';
    renderStatus(NO_SCENE_OPEN);
    files.update();
  };

  /**
   * Opens a script in place: its title, the writer's role in it, its scenes, and `wantedScene` or
   * its first scene as the current one. A script that cannot be read is an error, and the page stays as it was.
   */
  const openScript = async (id: string, wantedScene: string | null): Promise<void> => {
    // The scenes are read while the script (and the writer's role in it) is: one round trip less before the editor opens.
    const read = SceneList.read(scripts, id);
    read.catch(() => undefined); // awaited below once the script could be read; a refusal is the script's
    const script = await scripts.get(id);
    closeScript();
    sceneList?.destroy();
    scriptId = id;
    role = script.role;
    // This tab stays on the script: the address for a demo session, the stored session otherwise.
    const url = new URL(window.location.href);
    url.searchParams.delete('scene');
    if (session.demoUsers.length > 0) url.searchParams.set('script', id);
    else saveSession({ token, scriptId: id, name: session.user.name });
    history.replaceState(null, '', url);
    element('script-title').textContent = script.title;
    document.body.dataset.role = role;
    document.title = `${script.title} · Writers' Room`;
    // The switcher lists the other scripts meanwhile; the scene list does not wait for it.
    void menu.show(id, script.title, role);

    const scriptView = new ScriptView({
      container: element('script'),
      scroller: document.querySelector<HTMLElement>('.desk') ?? document.documentElement,
      api: scripts,
      scriptId: id,
      canWrite: canWrite(role),
      editorOptions: { wsUrl: collabUrl(config), user: session.user, token: freshToken ?? (() => token), canRefreshToken: freshToken !== null },
      onCurrent: showCurrent,
      onStatus: renderStatus,
      onCursor: ({ node, atSceneEnd }) => {
        const label = element('block-type');
        label.textContent = node ? labelOf(node) : '';
        label.dataset.atSceneEnd = String(atSceneEnd);
      },
      onHeading: () => sceneList?.headingsChanged(),
      onPages: (count) => (element('page-count').textContent = `${count} ${count === 1 ? 'page' : 'pages'}`),
      onScenesChanged: () => void sceneList?.refresh().catch(() => undefined),
      say,
    });
    view = scriptView;
    const list = new SceneList({
      api: scripts,
      scriptId: id,
      canWrite: canWrite(role),
      refreshMs: config.sceneListRefreshMs,
      onOpen: (sceneId) => void scriptView.focusScene(sceneId),
      onScenes: (scenes) => {
        scriptView.show(scenes);
        element('editor-sheet').hidden = scenes.length === 0;
      },
      liveHeading: (sceneId) => scriptView.liveHeading(sceneId),
      onActiveGone: (scenes, formerIndex) => {
        say('The scene that had the caret has been deleted.', 'info');
        const next = scenes[Math.min(formerIndex, scenes.length - 1)];
        if (next) void scriptView.focusScene(next.sceneUUID, { caret: null });
      },
      say,
    });
    sceneList = list;
    const scenes = await list.refresh(read);
    if (sceneList !== list) return; // another script was opened meanwhile
    if (scenes.length === 0) {
      say(canWrite(role) ? 'This script has no scenes yet: add one below the list.' : 'This script has no scenes yet.', 'info');
      return;
    }
    // The scene asked for (the address) is scrolled to and marked current; the caret waits for the writer's click.
    const wanted = scenes.find((scene) => scene.sceneUUID === wantedScene);
    void scriptView.focusScene((wanted ?? scenes[0]!).sceneUUID, { caret: null, scroll: wanted !== undefined && wanted !== scenes[0] });
  };

  await openScript(session.scriptId, new URLSearchParams(window.location.search).get('scene'));
}

window.addEventListener('beforeunload', (event) => {
  if (view?.atRisk) {
    event.preventDefault();
    event.returnValue = '';
  }
});

boot().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  renderStatus({ state: 'refused', label: 'Not connected', atRisk: false });
  showBanner(`The editor could not start: ${message}`);
  element('editor-sheet').hidden = true;
});
