/**
 * One scene of the continuous script (web/scriptView.ts): its section on the sheet, a small save
 * indicator, and either a read-only placeholder drawn from its content (REST, or what its editor
 * last held) or its live editor (web/sceneEditor.ts). The placeholder is the same DOM the editor
 * renders (the schema's own serializer), so it has the editor's height and the page scrolls and
 * counts pages the same whether a scene is loaded or not.
 */
import type { Editor } from '@tiptap/core';
import { DOMSerializer, Node as ProseMirrorNode } from '@tiptap/pm/model';
import type { Transaction } from '@tiptap/pm/state';
import { ySyncPluginKey } from '@tiptap/y-tiptap';
import { restBlocksToTiptapJSON, tiptapJSONToRestBlocks, type TiptapNodeJSON } from '../src/screenplay/convert.ts';
import type { RestBlock as StoredBlock } from '../src/screenplay/restBlocks.ts';
import { screenplaySchema } from '../src/screenplay/schema.ts';
import type { RestBlock, SceneSummary } from './api.ts';
import type { SaveStatus } from './saveStatus.ts';
import { sceneBoundaries } from './sceneBoundaries.ts';
import { SceneEditor, type SceneEditorOptions } from './sceneEditor.ts';
import { headingOf } from './sceneSplit.ts';

/** What a scene's editor needs from the page that are the same for every scene. */
export type SharedEditorOptions = Pick<SceneEditorOptions, 'wsUrl' | 'user' | 'token' | 'canRefreshToken' | 'drafting'>;

/** What the script view hears from one scene. */
export interface SceneHost {
  editorOptions: SharedEditorOptions;
  statusChanged(scene: ScriptScene): void;
  focused(scene: ScriptScene): void;
  cursor(scene: ScriptScene, cursor: { node: string | null; atSceneEnd: boolean }): void;
  /** The editor's content changed (typed here or arriving from others). */
  changed(scene: ScriptScene): void;
  /** The writer typed a scene heading below the first block and has moved on from it. */
  headingLeft(scene: ScriptScene): void;
  leave(scene: ScriptScene, direction: 'next' | 'previous'): boolean;
  mergeBack(scene: ScriptScene): boolean;
  placeholderClicked(scene: ScriptScene): void;
}

const isRemote = (transaction: Transaction) => Boolean(transaction.getMeta(ySyncPluginKey)?.isChangeOrigin);

export class ScriptScene {
  readonly element: HTMLElement;
  private readonly indicator: HTMLElement;
  private readonly body: HTMLElement;
  private placeholder: HTMLElement | null = null;
  editor: SceneEditor | null = null;
  /** The heading its editor last held (null: none with words); undefined when the REST content speaks for it. */
  liveHeading: string | null | undefined = undefined;
  /** A split or merge of this scene is under way: no second one starts meanwhile. */
  busy = false;
  /** The writer edited a scene heading below the first block, and the caret has not left it yet. */
  private inTypedHeading = false;
  private savedWaiters: (() => void)[] = [];
  private restCache: StoredBlock[] | null = null;
  /** The editor has had its first sync: it, not the REST content, holds the scene. */
  private live = false;

  constructor(
    public summary: SceneSummary,
    private readonly host: SceneHost,
  ) {
    this.element = document.createElement('section');
    this.element.className = 'script-scene';
    this.element.dataset.sceneId = summary.sceneUUID;
    this.element.dataset.state = 'placeholder';
    this.indicator = document.createElement('span');
    this.indicator.className = 'script-scene__status';
    this.indicator.setAttribute('role', 'status');
    this.body = document.createElement('div');
    this.body.className = 'script-scene__body';
    this.element.append(this.indicator, this.body);
    this.showPlaceholder(contentOf(summary.content.blocks));
  }

  get id(): string {
    return this.summary.sceneUUID;
  }

  get status(): SaveStatus | null {
    return this.editor?.status ?? null;
  }

  /** The scene's blocks as the page knows them: the live editor's, else the REST content. */
  blocks(): TiptapNodeJSON[] {
    if (this.editor && this.live) return (this.editor.editor.getJSON().content ?? []) as TiptapNodeJSON[];
    return contentOf(this.summary.content.blocks);
  }

  /** The scene's blocks in REST form (page counts, autocomplete's vocabulary); kept until the content changes. */
  restBlocks(): StoredBlock[] {
    // The server's blocks, typed loosely by the page (web/api.ts).
    if (!this.editor || !this.live) return this.summary.content.blocks as StoredBlock[];
    if (this.restCache === null) {
      try {
        this.restCache = tiptapJSONToRestBlocks({ type: 'doc', content: this.blocks() });
      } catch {
        // A block the converter refuses (it would refuse to store it too): count the last REST copy instead.
        this.restCache = this.summary.content.blocks as StoredBlock[];
      }
    }
    return this.restCache;
  }

  /** A newer REST copy (the list is read every few seconds): a scene not loaded shows it. */
  update(summary: SceneSummary): void {
    const changed = JSON.stringify(summary.content) !== JSON.stringify(this.summary.content);
    this.summary = summary;
    if (this.editor) return;
    // Not loaded: the newer read is the best the page knows, heading included.
    this.liveHeading = undefined;
    if (changed) this.showPlaceholder(contentOf(summary.content.blocks));
  }

  /** Connects the scene: its editor is shown once its content has arrived, the placeholder until then. */
  load(): SceneEditor {
    if (this.editor) return this.editor;
    const mount = document.createElement('div');
    mount.className = 'script-scene__editor';
    mount.hidden = true;
    this.body.append(mount);
    this.element.dataset.state = 'loading';
    const editor = new SceneEditor({
      ...this.host.editorOptions,
      element: mount,
      sceneId: this.id,
      onStatus: () => this.onStatus(),
      onCursor: (cursor) => this.host.cursor(this, cursor),
      extensions: [
        sceneBoundaries({ leave: (direction) => this.host.leave(this, direction), mergeBack: () => this.host.mergeBack(this) }),
      ],
    });
    this.editor = editor;
    editor.editor.on('focus', () => this.host.focused(this));
    editor.editor.on('blur', () => this.checkHeadingLeft(editor.editor));
    editor.editor.on('transaction', ({ transaction }) => this.onTransaction(editor.editor, transaction));
    void editor.synced.then(() => {
      if (this.editor !== editor) return;
      this.placeholder?.remove();
      this.placeholder = null;
      mount.hidden = false;
      this.live = true;
      this.restCache = null;
      this.element.dataset.state = 'loaded';
      this.host.changed(this);
    });
    this.onStatus();
    return editor;
  }

  /** Disconnects the scene and shows what its editor held, read-only. */
  unload(): void {
    const editor = this.editor;
    if (!editor) return;
    const content = this.blocks();
    this.editor = null;
    this.live = false;
    editor.destroy();
    this.body.replaceChildren();
    this.placeholder = null;
    this.showPlaceholder(content);
    this.element.dataset.state = 'placeholder';
    this.inTypedHeading = false;
    this.onStatus();
  }

  destroy(): void {
    this.unload();
    this.element.remove();
    for (const resolve of this.savedWaiters.splice(0)) resolve();
  }

  /** Settles once everything typed into this scene is acknowledged (on disk), or the scene is unloaded. */
  whenSaved(): Promise<void> {
    if (!this.editor || this.editor.status.state === 'saved') return Promise.resolve();
    return new Promise((resolve) => this.savedWaiters.push(resolve));
  }

  setCurrent(current: boolean): void {
    if (current) this.element.dataset.current = 'true';
    else delete this.element.dataset.current;
  }

  private onStatus(): void {
    const status = this.status;
    this.indicator.dataset.state = status?.state ?? 'not-loaded';
    this.indicator.title = status?.label ?? 'Not loaded (opens when scrolled to)';
    this.indicator.setAttribute('aria-label', `Scene: ${this.indicator.title}`);
    if (!this.editor || status?.state === 'saved') for (const resolve of this.savedWaiters.splice(0)) resolve();
    this.host.statusChanged(this);
  }

  private onTransaction(editor: Editor, transaction: Transaction): void {
    if (transaction.docChanged) {
      this.restCache = null;
      if (!isRemote(transaction) && inLaterHeading(editor)) this.inTypedHeading = true;
      if (this.live) this.host.changed(this);
    }
    this.checkHeadingLeft(editor);
  }

  /** A heading the writer typed further down is split off once the caret is elsewhere (Enter, a click, another scene). */
  private checkHeadingLeft(editor: Editor): void {
    if (!this.inTypedHeading || (editor.isFocused && inLaterHeading(editor))) return;
    this.inTypedHeading = false;
    this.host.headingLeft(this);
  }

  private showPlaceholder(content: TiptapNodeJSON[]): void {
    const placeholder = document.createElement('div');
    placeholder.className = 'screenplay script-scene__placeholder';
    placeholder.setAttribute('aria-label', `Scene ${headingOf(content) ?? 'without a heading'} (loads when scrolled to)`);
    placeholder.append(renderBlocks(content));
    placeholder.addEventListener('click', () => this.host.placeholderClicked(this));
    if (this.placeholder) this.placeholder.replaceWith(placeholder);
    else this.body.prepend(placeholder);
    this.placeholder = placeholder;
  }
}

/** Whether the caret is in a scene heading below the scene's first block. */
function inLaterHeading(editor: Editor): boolean {
  const { $from } = editor.state.selection;
  return $from.depth > 0 && $from.index(0) > 0 && $from.node(1).type.name === 'sceneHeading';
}

/** A scene's REST blocks as ProseMirror JSON; content the converter refuses shows as plain lines, never nothing. */
function contentOf(blocks: readonly RestBlock[]): TiptapNodeJSON[] {
  try {
    return (restBlocksToTiptapJSON(blocks).content ?? []) as TiptapNodeJSON[];
  } catch {
    return blocks.map((block) => ({ type: 'action', content: block.text ? [{ type: 'text', text: block.text }] : [] }));
  }
}

const serializer = DOMSerializer.fromSchema(screenplaySchema);

function renderBlocks(content: TiptapNodeJSON[]): DocumentFragment | HTMLElement {
  try {
    const doc = ProseMirrorNode.fromJSON(screenplaySchema, { type: 'doc', content });
    return serializer.serializeFragment(doc.content);
  } catch {
    const fragment = document.createDocumentFragment();
    for (const block of content) {
      const line = document.createElement('p');
      line.dataset.type = 'action';
      line.textContent = (block.content ?? []).map((child) => child.text ?? '').join('');
      fragment.append(line);
    }
    return fragment;
  }
}
