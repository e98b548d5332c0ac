/**
 * The continuous script: every scene of the open script, in order, on one sheet, each its own
 * Y.Doc, provider and editor (web/scriptScene.ts, web/sceneEditor.ts), as the architecture's
 * scene-level documents require. Around them it does what one document would do by itself:
 * - scenes connect as they come near the viewport, so a long script opens as fast as a short one;
 *   until then (and once far away again) a scene is a read-only placeholder of its content;
 * - the caret crosses scene boundaries with the arrow keys;
 * - a scene heading typed inside a scene splits it (a new scene through the scripts API), and
 *   Backspace at the start of a scene merges it into the one before;
 * - the scene with the caret is "the current scene" (history, export, the navigator's mark), and
 *   the page's save indicator sums up every loaded scene's.
 */
import type { Editor } from '@tiptap/core';
import { Fragment } from '@tiptap/pm/model';
import { tiptapJSONToRestBlocks, type TiptapNodeJSON } from '../src/screenplay/convert.ts';
import { sceneTitle, type SceneSummary } from './api.ts';
import { showPageBreaks } from './pageBreaks.ts';
import type { SaveStatus } from './saveStatus.ts';
import { focusNow } from './sceneBoundaries.ts';
import { headingOf, mergedBlocks, splitPoint } from './sceneSplit.ts';
import { pageBreaksOf, scriptPages } from './scriptPages.ts';
import { scriptVocabulary, type ScriptVocabulary } from './scriptVocabulary.ts';
import type { ScriptsApi } from './scriptsApi.ts';
import { scriptSaveStatus } from './scriptSaveStatus.ts';
import { ScriptScene, type SceneHost, type SharedEditorOptions } from './scriptScene.ts';

/**
 * Scenes within one viewport height above or below the visible part connect: a writer scrolling
 * at reading speed finds them loaded. Scenes further than three viewport heights away disconnect
 * once everything typed in them is saved: each loaded scene holds a WebSocket, a Y.Doc, a
 * ProseMirror view and a document (and its awareness) on the server, so a writer who scrolls
 * through a 120-scene script would otherwise hold 120 of each. The gap between the two margins
 * keeps a scene near the edge from connecting and disconnecting as the page moves a little.
 */
const LOAD_MARGIN = '100% 0px';
const UNLOAD_MARGIN = '300% 0px';

export interface ScriptViewOptions {
  /** Where the scenes' sections go. */
  container: HTMLElement;
  /** The element whose scrolling brings scenes into view (the observers' root). */
  scroller: HTMLElement;
  api: ScriptsApi;
  scriptId: string;
  canWrite: boolean;
  editorOptions: Omit<SharedEditorOptions, 'drafting'>;
  /** The caret moved into another scene (or the current one went away: null). */
  onCurrent: (sceneId: string | null) => void;
  /** The page's indicator, over every loaded scene. */
  onStatus: (status: SaveStatus) => void;
  /** Where the caret is in the current scene, for the status bar. */
  onCursor: (cursor: { node: string | null; atSceneEnd: boolean }) => void;
  /** A loaded scene's heading as its editor holds it now, for the navigator. */
  onHeading: (sceneId: string, heading: string | null) => void;
  /** The script's page count, as the PDF export sets the pages, again after each change (debounced). */
  onPages: (pageCount: number) => void;
  /** A split or merge changed the script's scenes: read the list again. */
  onScenesChanged: () => void;
  say: (message: string | null, kind?: 'error' | 'info') => void;
}

const CONTENT_DEBOUNCE_MS = 300;

export class ScriptView implements SceneHost {
  private readonly scenes = new Map<string, ScriptScene>();
  private order: ScriptScene[] = [];
  private current: ScriptScene | null = null;
  private readonly near: IntersectionObserver;
  private readonly far: IntersectionObserver;
  /** Loaded scenes beyond the unload margin that stay loaded only until they are saved. */
  private readonly farAway = new Set<ScriptScene>();
  private contentTimer: ReturnType<typeof setTimeout> | null = null;
  private vocabulary: ScriptVocabulary | null = null;
  private destroyed = false;
  readonly editorOptions: SharedEditorOptions;

  constructor(private readonly options: ScriptViewOptions) {
    this.editorOptions = {
      ...options.editorOptions,
      // Read each time autocomplete opens; worked out again only after some scene changed.
      drafting: { characterNames: () => this.words().characterNames, locations: () => this.words().locations },
    };
    options.container.replaceChildren();
    this.near = new IntersectionObserver((entries) => this.onNear(entries), { root: options.scroller, rootMargin: LOAD_MARGIN });
    this.far = new IntersectionObserver((entries) => this.onFar(entries), { root: options.scroller, rootMargin: UNLOAD_MARGIN });
  }

  destroy(): void {
    this.destroyed = true;
    this.near.disconnect();
    this.far.disconnect();
    if (this.contentTimer) clearTimeout(this.contentTimer);
    for (const scene of this.order) scene.destroy();
    this.scenes.clear();
    this.order = [];
    this.current = null;
  }

  get currentSceneId(): string | null {
    return this.current?.id ?? null;
  }

  /** The current scene's editor, once it is loaded: what the toolbar acts on (web/toolbar.ts). */
  get currentEditor(): Editor | null {
    return this.current?.editor?.editor ?? null;
  }

  /** Whether closing the page now could lose typing in any scene. */
  get atRisk(): boolean {
    return this.order.some((scene) => scene.status?.atRisk);
  }

  /** The scenes in order, with their content: the script as the scene list read it. */
  show(summaries: readonly SceneSummary[]): void {
    const wanted = new Set(summaries.map((summary) => summary.sceneUUID));
    for (const scene of [...this.order]) if (!wanted.has(scene.id)) this.remove(scene);
    this.order = summaries.map((summary) => {
      const known = this.scenes.get(summary.sceneUUID);
      if (known) {
        known.update(summary);
        return known;
      }
      const scene = new ScriptScene(summary, this);
      this.scenes.set(scene.id, scene);
      return scene;
    });
    // Put the sections in the list's order; a section already in place is not touched (moving a
    // section would take the focus out of its editor).
    let previous: Element | null = null;
    for (const scene of this.order) {
      const expected: Element | null = previous ? previous.nextElementSibling : this.options.container.firstElementChild;
      if (expected !== scene.element) {
        if (previous) previous.after(scene.element);
        else this.options.container.prepend(scene.element);
        this.near.observe(scene.element);
        this.far.observe(scene.element);
      }
      previous = scene.element;
    }
    this.vocabulary = null;
    this.statusChanged();
    this.contentChanged();
  }

  /**
   * Makes `sceneId` the current scene: scrolled to (unless `scroll` is false), loaded, and with the
   * caret at its start or end (unless `caret` is null: the scene is marked current, nothing focused).
   */
  async focusScene(sceneId: string, options: { caret?: 'start' | 'end' | null; scroll?: boolean } = {}): Promise<void> {
    const scene = this.scenes.get(sceneId);
    if (!scene) return;
    const caret = options.caret === undefined ? 'start' : options.caret;
    this.setCurrent(scene);
    if (options.scroll !== false) scene.element.scrollIntoView({ block: 'start' });
    const editor = scene.load();
    await editor.synced;
    if (this.destroyed || scene.editor !== editor || this.current !== scene || caret === null) return;
    focusNow(editor.editor, caret);
  }

  /** The script's character names and locations, from the loaded editors and from the REST content of the others. */
  private words(): ScriptVocabulary {
    this.vocabulary ??= scriptVocabulary(this.order.map((scene) => ({ blocks: scene.restBlocks() })));
    return this.vocabulary;
  }

  // SceneHost: what each scene reports.

  statusChanged(scene?: ScriptScene): void {
    if (this.destroyed) return;
    if (scene && this.farAway.has(scene)) this.unloadIfIdle(scene);
    const statuses = this.order.flatMap((entry) => (entry.status ? [entry.status] : []));
    this.options.onStatus(scriptSaveStatus(statuses));
  }

  focused(scene: ScriptScene): void {
    this.setCurrent(scene);
    scene.editor?.reportCursor();
  }

  cursor(scene: ScriptScene, cursor: { node: string | null; atSceneEnd: boolean }): void {
    if (scene === this.current) this.options.onCursor(cursor);
  }

  changed(scene: ScriptScene): void {
    this.vocabulary = null;
    const heading = headingOf(scene.blocks());
    if (heading !== scene.liveHeading) {
      scene.liveHeading = heading;
      this.options.onHeading(scene.id, heading);
    }
    this.contentChanged();
  }

  /** What the navigator titles a scene by: its loaded editor's heading, undefined for the REST content's. */
  liveHeading(sceneId: string): string | null | undefined {
    return this.scenes.get(sceneId)?.liveHeading;
  }

  headingLeft(scene: ScriptScene): void {
    void this.split(scene);
  }

  leave(scene: ScriptScene, direction: 'next' | 'previous'): boolean {
    const index = this.order.indexOf(scene);
    const neighbour = this.order[direction === 'next' ? index + 1 : index - 1];
    if (index === -1 || !neighbour) return false;
    void this.focusScene(neighbour.id, { caret: direction === 'next' ? 'start' : 'end', scroll: false });
    return true;
  }

  mergeBack(scene: ScriptScene): boolean {
    const index = this.order.indexOf(scene);
    if (!this.options.canWrite || index < 1 || scene.busy || this.order[index - 1]!.busy) return false;
    void this.merge(scene, this.order[index - 1]!);
    return true;
  }

  placeholderClicked(scene: ScriptScene): void {
    void this.focusScene(scene.id, { scroll: false });
  }

  // Loading and unloading as the page scrolls.

  private sceneOf(element: Element): ScriptScene | undefined {
    return this.scenes.get((element as HTMLElement).dataset.sceneId ?? '');
  }

  private onNear(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const scene = this.sceneOf(entry.target);
      if (scene && entry.isIntersecting) scene.load();
    }
  }

  private onFar(entries: IntersectionObserverEntry[]): void {
    for (const entry of entries) {
      const scene = this.sceneOf(entry.target);
      if (!scene) continue;
      if (entry.isIntersecting) this.farAway.delete(scene);
      else {
        this.farAway.add(scene);
        this.unloadIfIdle(scene);
      }
    }
  }

  /** A far scene disconnects once nothing in it is at risk, and never while it has the caret or is being split or merged. */
  private unloadIfIdle(scene: ScriptScene): void {
    if (!scene.editor || scene === this.current || scene.busy || scene.status?.state !== 'saved') return;
    scene.unload();
  }

  private setCurrent(scene: ScriptScene | null): void {
    if (scene === this.current) return;
    this.current?.setCurrent(false);
    this.current = scene;
    scene?.setCurrent(true);
    this.options.onCurrent(scene?.id ?? null);
  }

  /**
   * Takes a scene off the sheet. When it had the caret (another writer deleted it), the scene that
   * took its place becomes the current one, so history and export never point at a deleted scene.
   */
  private remove(scene: ScriptScene): void {
    const index = this.order.indexOf(scene);
    this.near.unobserve(scene.element);
    this.far.unobserve(scene.element);
    this.farAway.delete(scene);
    scene.destroy();
    this.scenes.delete(scene.id);
    this.order = this.order.filter((entry) => entry !== scene);
    if (this.current === scene) {
      this.options.say('The scene that had the caret has been deleted.', 'info');
      this.setCurrent(this.order[Math.min(index, this.order.length - 1)] ?? null);
      this.current?.load();
    }
  }

  private contentChanged(): void {
    if (this.contentTimer) clearTimeout(this.contentTimer);
    this.contentTimer = setTimeout(() => {
      this.contentTimer = null;
      if (!this.destroyed) this.showPages();
    }, CONTENT_DEBOUNCE_MS);
  }

  /** The page count, and each loaded editor's page breaks, from the same layout as the PDF export. */
  private showPages(): void {
    const pages = scriptPages(this.order.map((scene) => ({ sceneId: scene.id, blocks: scene.restBlocks() })));
    this.options.onPages(pages.pageCount);
    for (const scene of this.order) {
      if (scene.editor) showPageBreaks(scene.editor.editor, pageBreaksOf(pages, scene.id));
    }
  }

  // Splitting and merging scenes.

  /**
   * The blocks from a heading typed inside `scene` on become a new scene right after it. The new
   * scene is created first, with those blocks, and only once its editor holds them are they
   * removed here: a failure leaves them where they were. What the writer typed meanwhile moves
   * with them, and so does the caret.
   */
  private async split(scene: ScriptScene): Promise<void> {
    const source = scene.editor;
    if (!source || scene.busy || !this.options.canWrite) return;
    const blocks = scene.blocks();
    const at = splitPoint(blocks);
    if (at === null) return;
    scene.busy = true;
    try {
      const moved = blocks.slice(at);
      const heading = headingOf(moved) ?? '';
      let created: SceneSummary;
      try {
        const restBlocks = tiptapJSONToRestBlocks({ type: 'doc', content: moved });
        created = (await this.options.api.addScene(this.options.scriptId, { position: this.order.indexOf(scene) + 1, heading, blocks: restBlocks })).scene;
      } catch (error) {
        this.options.say(`The scene “${heading}” could not be split off: ${(error as Error).message}. Its blocks stay in the scene above.`, 'error');
        return;
      }
      if (this.destroyed) return;
      const target = new ScriptScene(created, this);
      this.scenes.set(target.id, target);
      this.order.splice(this.order.indexOf(scene) + 1, 0, target);
      scene.element.after(target.element);
      this.near.observe(target.element);
      this.far.observe(target.element);
      // The list is read again at once: a read that started before the scene existed is dropped.
      this.options.onScenesChanged();
      const destination = target.load();
      await destination.synced;
      if (this.destroyed || scene.editor !== source || target.editor !== destination) return;
      this.moveBlocks(source.editor, destination.editor, target);
    } finally {
      scene.busy = false;
    }
    const next = this.order[this.order.indexOf(scene) + 1];
    // A paste of several scenes: the new scene splits again.
    if (next && splitPoint(next.blocks()) !== null) void this.split(next);
  }

  /** In one task, so no keystroke falls between: the new scene gets the blocks as they are now, this one loses them, the caret follows. */
  private moveBlocks(source: Editor, destination: Editor, target: ScriptScene): void {
    const at = splitPoint((source.getJSON().content ?? []) as TiptapNodeJSON[]);
    if (at === null) {
      this.options.say('The heading was changed while its scene was split off: the new scene keeps a copy of the blocks.', 'info');
      return;
    }
    const doc = source.state.doc;
    let from = 0;
    for (let index = 0; index < at; index += 1) from += doc.child(index).nodeSize;
    const moving = doc.content.cut(from);
    const content = Fragment.fromJSON(destination.schema, moving.toJSON());
    if (JSON.stringify(destination.state.doc.content.toJSON()) !== JSON.stringify(content.toJSON())) {
      destination.view.dispatch(destination.state.tr.replaceWith(0, destination.state.doc.content.size, content));
    }
    const caret = source.state.selection.from;
    const hadCaret = source.isFocused && caret >= from;
    source.view.dispatch(source.state.tr.delete(from, doc.content.size));
    if (hadCaret) {
      this.setCurrent(target);
      focusNow(destination, caret - from);
    }
  }

  /**
   * Backspace at the start of `scene`: its blocks are appended to `previous` (the heading becomes
   * action), the caret goes to where they start, and once `previous` is saved `scene` is deleted
   * (soft: "Deleted scenes" brings it back). A failed delete leaves the text in both scenes.
   */
  private async merge(scene: ScriptScene, previous: ScriptScene): Promise<void> {
    const editor = scene.editor;
    if (!editor) return;
    scene.busy = true;
    previous.busy = true;
    // Nothing typed here from now on: this scene's text is on its way into the one before.
    editor.editor.setEditable(false);
    try {
      const destination = previous.load();
      await destination.synced;
      if (this.destroyed || scene.editor !== editor) return;
      const target = destination.editor;
      const appended = Fragment.fromJSON(target.schema, mergedBlocks(scene.blocks()));
      const end = target.state.doc.content.size;
      target.view.dispatch(target.state.tr.insert(end, appended));
      this.setCurrent(previous);
      focusNow(target, appended.childCount > 0 ? end + 1 : Math.max(end - 1, 0));
      await previous.whenSaved();
      try {
        await this.options.api.deleteScene(this.options.scriptId, scene.id);
      } catch (error) {
        editor.editor.setEditable(true);
        this.options.say(
          `“${sceneTitle(scene.summary)}” was added to the end of the scene before it but could not be removed: ${(error as Error).message}. Its text is in both scenes now.`,
          'error',
        );
        return;
      }
      if (this.destroyed) return;
      this.remove(scene);
      this.options.onScenesChanged();
    } finally {
      scene.busy = false;
      previous.busy = false;
    }
  }
}
