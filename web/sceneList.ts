/**
 * The script's scenes beside the sheet (the navigator of the continuous script): go to one; add a scene (at the end or after the open one),
 * rename its heading, move it (drag and drop, or the up and down buttons from the keyboard), delete
 * it (after a confirmation) and bring a deleted one back from the "Deleted scenes" list. Every
 * change goes through the scripts API; the list is read again after each one and every few seconds,
 * so it follows what the other writers do. A scene whose editor is loaded is titled by the heading
 * in its editor, as it is typed. Viewers get the list without the buttons that change it.
 */
import { sceneHeadingOf, sceneTitle, type SceneSummary } from './api.ts';
import { dropPosition, dropsBefore, movedTo, positionAfter, withHeading } from './sceneOrder.ts';
import type { DeletedScene, ScriptsApi } from './scriptsApi.ts';

export interface SceneListOptions {
  api: ScriptsApi;
  scriptId: string;
  canWrite: boolean;
  /** How often the list is read again, for other writers' adds, moves and deletes (the page config's `sceneListRefreshMs`). */
  refreshMs: number;
  /** The writer picked a scene (or one was added): go to it. */
  onOpen: (sceneId: string) => void;
  /** Every read of the list (and every move shown at once): the scenes in order, with their content. */
  onScenes: (scenes: SceneSummary[]) => void;
  /** The heading a scene's loaded editor holds now (null: none with words), undefined when it is not loaded. */
  liveHeading: (sceneId: string) => string | null | undefined;
  /** The open scene is no longer in the list (deleted here or by someone else): `scenes` are what is left, `formerIndex` where it was. */
  onActiveGone: (scenes: SceneSummary[], formerIndex: number) => void;
  say: (message: string | null, kind?: 'error' | 'info') => void;
}

function element<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found as T;
}

function iconButton(label: string, text: string, action: string, onClick: () => void): HTMLButtonElement {
  const made = document.createElement('button');
  made.type = 'button';
  made.className = 'scene-tool';
  made.dataset.action = action;
  made.textContent = text;
  made.title = label;
  made.setAttribute('aria-label', label);
  made.addEventListener('click', onClick);
  return made;
}

export class SceneList {
  scenes: SceneSummary[] = [];
  private deleted: DeletedScene[] = [];
  private activeId: string | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Answers to older reads are dropped: only the newest read draws the list. */
  private generation = 0;
  private dragging: string | null = null;
  /** What the list shows now: it is redrawn only when this changes, so a read every few seconds never swallows a click. */
  private drawn = '';
  private destroyed = false;
  private readonly onAddEnd = () => void this.add(false);
  private readonly onAddAfter = () => void this.add(true);

  constructor(private readonly options: SceneListOptions) {
    element('scene-tools').hidden = !options.canWrite;
    element('scene-add-end').addEventListener('click', this.onAddEnd);
    element('scene-add-after').addEventListener('click', this.onAddAfter);
    const list = element('scene-list');
    list.replaceChildren();
    list.dataset.scriptId = options.scriptId;
    // A read that fails (the server restarting, the network gone) keeps the list as it is: the next
    // one tries again, and the save indicator already says the page is offline.
    this.timer = setInterval(() => {
      if (document.visibilityState === 'visible') this.refresh().catch(() => undefined);
    }, options.refreshMs);
  }

  destroy(): void {
    this.destroyed = true;
    if (this.timer) clearInterval(this.timer);
    element('scene-add-end').removeEventListener('click', this.onAddEnd);
    element('scene-add-after').removeEventListener('click', this.onAddAfter);
  }

  setActive(sceneId: string | null): void {
    this.activeId = sceneId;
    this.render();
  }

  /** Reads the scenes and the deleted ones for a list (what `refresh` takes, read ahead by a page opening the script). */
  static read(api: ScriptsApi, scriptId: string): Promise<[SceneSummary[], DeletedScene[]]> {
    return Promise.all([api.scenes(scriptId), api.deletedScenes(scriptId)]);
  }

  /** Reads the scenes (and the deleted ones) again, or takes `read` ahead of it, and redraws the list. */
  async refresh(read?: Promise<[SceneSummary[], DeletedScene[]]>): Promise<SceneSummary[]> {
    const generation = ++this.generation;
    const [scenes, deleted] = await (read ?? SceneList.read(this.options.api, this.options.scriptId));
    if (this.destroyed || generation !== this.generation) return this.scenes;
    const formerIndex = Math.max(0, this.scenes.findIndex((scene) => scene.sceneUUID === this.activeId));
    this.scenes = scenes;
    this.deleted = deleted;
    this.options.onScenes(scenes);
    // A drag in progress keeps the items it started on; the next read draws the list.
    if (this.dragging === null) this.render();
    if (this.activeId !== null && !scenes.some((scene) => scene.sceneUUID === this.activeId)) {
      this.activeId = null;
      this.options.onActiveGone(scenes, formerIndex);
    }
    return scenes;
  }

  /** Runs a change, says what failed, and reads the list again either way. */
  private async change(what: string, action: () => Promise<string | null>): Promise<void> {
    try {
      const done = await action();
      if (done) this.options.say(done, 'info');
    } catch (error) {
      this.options.say(`${what} failed: ${(error as Error).message}`, 'error');
    }
    await this.refresh().catch((error: unknown) => this.options.say(`The scenes could not be read: ${(error as Error).message}`, 'error'));
  }

  private async add(afterCurrent: boolean): Promise<void> {
    const current = this.scenes.findIndex((scene) => scene.sceneUUID === this.activeId);
    const position = afterCurrent ? positionAfter(current === -1 ? null : current, this.scenes.length) : undefined;
    let added: string | null = null;
    await this.change('Adding the scene', async () => {
      added = (await this.options.api.addScene(this.options.scriptId, { ...(position !== undefined ? { position } : {}) })).scene.sceneUUID;
      return null;
    });
    if (added) this.options.onOpen(added);
  }

  private async rename(scene: SceneSummary): Promise<void> {
    const answer = window.prompt('Scene heading', sceneHeadingOf(scene) ?? '');
    const heading = answer?.trim();
    if (!heading || heading === sceneHeadingOf(scene)) return;
    await this.change('Renaming the scene', async () => {
      const { api, scriptId } = this.options;
      // The heading in the scene's list entry (the scripts API), then the first block of the scene,
      // merged with whatever is being typed in it (base_seq).
      await api.setSlugline(scriptId, scene.sceneUUID, heading);
      const view = await api.readScene(scene.sceneUUID);
      await api.patchContent(scene.sceneUUID, withHeading(view.content.blocks, heading), view.seq);
      return null;
    });
  }

  private async move(scene: SceneSummary, position: number): Promise<void> {
    await this.change('Moving the scene', async () => {
      await this.options.api.moveScene(this.options.scriptId, scene.sceneUUID, position);
      // Shown at once, and the next press counts from it: a second press before the list was read
      // again would otherwise move the scene to where it already is.
      this.scenes = movedTo(this.scenes, scene.sceneUUID, position);
      this.options.onScenes(this.scenes);
      if (this.dragging === null) this.render();
      return null;
    });
  }

  /** The scene's place in the list as the page now shows it. */
  private indexOf(scene: SceneSummary): number {
    return this.scenes.findIndex((entry) => entry.sceneUUID === scene.sceneUUID);
  }

  private async remove(scene: SceneSummary): Promise<void> {
    if (!window.confirm(`Delete “${sceneTitle(scene)}”? It can be restored from “Deleted scenes”.`)) return;
    // The open scene is closed before it is deleted, not after: its editor and history panel would
    // otherwise go on asking for a scene the server answers 410 for, until the list is read again.
    if (scene.sceneUUID === this.activeId) {
      const formerIndex = this.indexOf(scene);
      this.activeId = null;
      this.options.onActiveGone(this.scenes.filter((entry) => entry.sceneUUID !== scene.sceneUUID), formerIndex);
    }
    await this.change('Deleting the scene', async () => {
      await this.options.api.deleteScene(this.options.scriptId, scene.sceneUUID);
      return `Deleted “${sceneTitle(scene)}”. Restore it from “Deleted scenes” below the list.`;
    });
  }

  private async restore(entry: DeletedScene): Promise<void> {
    await this.change('Restoring the scene', async () => {
      await this.options.api.restoreScene(this.options.scriptId, entry.sceneUUID);
      return `Restored “${entry.slugline ?? 'the scene'}” at the end of the script.`;
    });
  }

  /** Draws the list again if a title changed (a heading typed in a loaded scene). */
  headingsChanged(): void {
    if (this.dragging === null) this.render();
  }

  /** The scene's title: its loaded editor's heading, else its REST content's (sceneTitle). */
  private titleOf(scene: SceneSummary): string {
    const live = this.options.liveHeading(scene.sceneUUID);
    if (live === undefined) return sceneTitle(scene);
    return live ?? scene.slugline ?? 'Untitled scene';
  }

  private render(): void {
    const shown = JSON.stringify([
      this.activeId,
      this.scenes.map((scene) => [scene.sceneUUID, this.titleOf(scene)]),
      this.deleted.map((entry) => [entry.sceneUUID, entry.slugline, entry.restorable_until]),
    ]);
    if (shown === this.drawn) return;
    this.drawn = shown;
    const list = element('scene-list');
    // Moving with the keyboard redraws the list: the focus stays on the same button of the same scene.
    const focused = document.activeElement instanceof HTMLElement && list.contains(document.activeElement) ? document.activeElement : null;
    const keep = focused ? { sceneId: focused.closest<HTMLElement>('[data-scene-id]')?.dataset.sceneId, action: focused.dataset.action } : null;
    list.replaceChildren(...this.scenes.map((scene, index) => this.item(scene, index)));
    if (keep?.sceneId) {
      const again = list.querySelector<HTMLElement>(`li[data-scene-id="${keep.sceneId}"] [data-action="${keep.action ?? 'open'}"]`);
      (again && !(again as HTMLButtonElement).disabled ? again : list.querySelector<HTMLElement>(`li[data-scene-id="${keep.sceneId}"] [data-action="open"]`))?.focus();
    }
    element('scene-empty').hidden = this.scenes.length > 0;
    element<HTMLButtonElement>('scene-add-after').disabled = this.activeId === null;
    this.renderDeleted();
  }

  private item(scene: SceneSummary, index: number): HTMLLIElement {
    const name = this.titleOf(scene);
    const item = document.createElement('li');
    item.className = 'scene-item';
    item.dataset.sceneId = scene.sceneUUID;
    const open = document.createElement('button');
    open.type = 'button';
    open.className = 'scene-link';
    open.dataset.action = 'open';
    open.dataset.sceneId = scene.sceneUUID;
    if (scene.sceneUUID === this.activeId) open.setAttribute('aria-current', 'true');
    const number = document.createElement('span');
    number.className = 'scene-link__number';
    number.textContent = String(index + 1);
    const title = document.createElement('span');
    title.className = 'scene-link__title';
    title.textContent = name;
    open.append(number, title);
    open.addEventListener('click', () => this.options.onOpen(scene.sceneUUID));
    item.append(open);
    if (!this.options.canWrite) return item;

    const tools = document.createElement('span');
    tools.className = 'scene-tools-inline';
    const up = iconButton(`Move “${name}” up`, '↑', 'up', () => void this.move(scene, this.indexOf(scene) - 1));
    up.disabled = index === 0;
    const down = iconButton(`Move “${name}” down`, '↓', 'down', () => void this.move(scene, this.indexOf(scene) + 1));
    down.disabled = index === this.scenes.length - 1;
    tools.append(
      up,
      down,
      iconButton(`Rename “${name}”`, '✎', 'rename', () => void this.rename(scene)),
      iconButton(`Delete “${name}”`, '×', 'delete', () => void this.remove(scene)),
    );
    item.append(tools);
    this.makeDraggable(item, scene, index);
    return item;
  }

  /** HTML5 drag and drop: a scene dropped on the upper half of another goes before it, on the lower half after it. */
  private makeDraggable(item: HTMLLIElement, scene: SceneSummary, index: number): void {
    item.draggable = true;
    item.addEventListener('dragstart', (event) => {
      this.dragging = scene.sceneUUID;
      item.classList.add('scene-item--dragging');
      event.dataTransfer?.setData('text/plain', scene.sceneUUID);
      if (event.dataTransfer) event.dataTransfer.effectAllowed = 'move';
    });
    item.addEventListener('dragend', () => {
      this.dragging = null;
      item.classList.remove('scene-item--dragging');
      this.render();
    });
    item.addEventListener('dragover', (event) => {
      if (this.dragging === null) return;
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = 'move';
      const before = dropsBefore(event.clientY - item.getBoundingClientRect().top, item.offsetHeight);
      item.dataset.drop = before ? 'before' : 'after';
    });
    item.addEventListener('dragleave', () => delete item.dataset.drop);
    item.addEventListener('drop', (event) => {
      event.preventDefault();
      delete item.dataset.drop;
      const draggedId = this.dragging ?? event.dataTransfer?.getData('text/plain');
      this.dragging = null;
      const from = this.scenes.findIndex((candidate) => candidate.sceneUUID === draggedId);
      const before = dropsBefore(event.clientY - item.getBoundingClientRect().top, item.offsetHeight) ? index : index + 1;
      const position = dropPosition(from, before, this.scenes.length);
      if (position === null) return;
      void this.move(this.scenes[from]!, position);
    });
  }

  private renderDeleted(): void {
    const box = element<HTMLDetailsElement>('deleted-scenes');
    box.hidden = this.deleted.length === 0;
    element('deleted-count').textContent = String(this.deleted.length);
    element('deleted-list').replaceChildren(
      ...this.deleted.map((entry) => {
        const item = document.createElement('li');
        item.className = 'deleted-scene';
        item.dataset.sceneId = entry.sceneUUID;
        const title = document.createElement('span');
        title.className = 'deleted-scene__title';
        title.textContent = entry.slugline ?? 'Untitled scene';
        title.title = `Restorable until ${new Date(entry.restorable_until).toLocaleString()}`;
        item.append(title);
        if (this.options.canWrite) {
          const restore = document.createElement('button');
          restore.type = 'button';
          restore.className = 'link';
          restore.dataset.action = 'restore';
          restore.textContent = 'Restore';
          restore.addEventListener('click', () => void this.restore(entry));
          item.append(' ', restore);
        }
        return item;
      }),
    );
  }
}
