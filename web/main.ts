/**
 * The editor page: signs in (by itself in development), lists the script's scenes and opens one
 * in a collaborative screenplay editor. Built by `npm run build:web` (scripts/build-web.ts) into
 * dist/web and served at `/` by src/http/editorPage.ts.
 */
import { ApiError, fetchPageConfig, fetchScenes, sceneTitle, type PageConfig, type SceneSummary } from './api.ts';
import { HistoryPanel } from './historyPanel.ts';
import { SceneEditor } from './sceneEditor.ts';
import { BLOCK_SHORTCUTS, labelOf, NEXT_ON_ENTER, NEXT_ON_TAB } from './screenplayKeymap.ts';
import { forgetSession, resolveSession, saveSession, type Session } from './session.ts';

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
const modAlt = isMac ? '⌘⌥' : 'Ctrl+Alt+';

let current: SceneEditor | null = null;
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

function renderStatus(status: SceneEditor['status']): void {
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

function renderSceneList(scenes: SceneSummary[], activeId: string | null, onOpen: (sceneId: string) => void): void {
  const list = element('scene-list');
  list.replaceChildren(
    ...scenes.map((scene) => {
      const item = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'scene-link';
      button.dataset.sceneId = scene.sceneUUID;
      if (scene.sceneUUID === activeId) button.setAttribute('aria-current', 'true');
      const number = document.createElement('span');
      number.className = 'scene-link__number';
      number.textContent = String(scene.sceneIndex + 1);
      const title = document.createElement('span');
      title.className = 'scene-link__title';
      title.textContent = sceneTitle(scene);
      button.append(number, title);
      button.addEventListener('click', () => onOpen(scene.sceneUUID));
      item.append(button);
      return item;
    }),
  );
}

function wsUrlOf(config: PageConfig): string {
  const protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${protocol}//${window.location.hostname}:${config.wsPort}`;
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

async function boot(): Promise<void> {
  renderHelp();
  const config = await fetchPageConfig();
  const session = await resolveSession(config);
  if (!session) {
    renderStatus({ state: 'offline', label: 'Not signed in', atRisk: false });
    showSignIn(config);
    return;
  }
  renderIdentity(session);
  element('script-title').textContent = session.scriptTitle ?? `Script ${session.scriptId.slice(0, 8)}`;
  document.title = `${session.scriptTitle ?? 'Script'} · Writers' Room`;

  let token = session.token;
  // A development token dies with the server process that signed it: get a new one when needed.
  const freshToken = session.refresh
    ? async () => {
        token = await session.refresh!();
        return token;
      }
    : null;

  const loadScenes = async (): Promise<SceneSummary[]> => {
    try {
      return await fetchScenes(session.scriptId, token);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401 && freshToken) return fetchScenes(session.scriptId, await freshToken());
      throw error;
    }
  };

  const params = new URLSearchParams(window.location.search);
  let scenes = await loadScenes();
  if (scenes.length === 0) {
    showBanner('This script has no scenes yet.', 'info');
    return;
  }

  const open = async (sceneId: string) => {
    if (current?.provider.configuration.name === sceneId) return;
    current?.destroy();
    const url = new URL(window.location.href);
    url.searchParams.set('scene', sceneId);
    history.replaceState(null, '', url);
    // Headings typed in the scene left behind show up in the list.
    scenes = await loadScenes().catch(() => scenes);
    renderSceneList(scenes, sceneId, (id) => void open(id));
    const host = element('editor');
    host.replaceChildren();
    historyPanel?.destroy();
    historyPanel = new HistoryPanel(sceneId, () => token);
    current = new SceneEditor({
      element: host,
      wsUrl: wsUrlOf(config),
      sceneId,
      user: session.user,
      token: freshToken ?? (() => token),
      canRefreshToken: freshToken !== null,
      onStatus: renderStatus,
      onCursor: ({ node, atSceneEnd }) => {
        const label = element('block-type');
        label.textContent = node ? labelOf(node) : '';
        label.dataset.atSceneEnd = String(atSceneEnd);
      },
    });
  };

  const wanted = params.get('scene');
  await open(scenes.some((scene) => scene.sceneUUID === wanted) ? wanted! : scenes[0]!.sceneUUID);
}

window.addEventListener('beforeunload', (event) => {
  if (current?.status.atRisk) {
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
