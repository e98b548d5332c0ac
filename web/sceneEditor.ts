import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import { Editor, type Extensions } from '@tiptap/core';
import { TextSelection } from '@tiptap/pm/state';
import { Collaboration } from '@tiptap/extension-collaboration';
import { Awareness } from 'y-protocols/awareness';
import * as Y from 'yjs';
import { SCREENPLAY_FRAGMENT_NAME, SCREENPLAY_SCHEMA_VERSION, screenplayExtensions } from '../src/screenplay/schema.ts';
import { CollaborationCaret, type CaretUser } from './collaborationCaret.ts';
import { saveStatus, type ProviderFacts, type SaveStatus } from './saveStatus.ts';
import { isReauthenticateRefusal, isTransientRefusal, isUpdateRefusal } from './refusals.ts';
import { refreshDelay, tokenExpiry } from './tokenRefresh.ts';
import { draftingExtensions, type DraftingContext } from './draftingExtensions.ts';

export interface SceneEditorOptions {
  element: HTMLElement;
  /** ws://host:port of the collaboration server, without parameters. */
  wsUrl: string;
  sceneId: string;
  user: CaretUser;
  /**
   * Called at every (re)connect and before the token expires: a session that can get new tokens
   * hands out a fresh one each time.
   */
  token: () => string | Promise<string>;
  /** False for a pasted token: when it expires the writer must sign in again. */
  canRefreshToken: boolean;
  onStatus: (status: SaveStatus) => void;
  /**
   * Where the cursor is, for the status bar: the element type (node name) of its block, null
   * outside a block, and whether it sits at the very end of the scene.
   */
  onCursor: (cursor: { node: string | null; atSceneEnd: boolean }) => void;
  /** What the drafting aids (autocomplete) know of the script; none when absent. */
  drafting?: DraftingContext;
  /** Added after the drafting aids: what the page around this editor handles (web/sceneBoundaries.ts). */
  extensions?: Extensions;
}

const TRANSIENT_RETRY_MS = 3000;

/**
 * One open scene: a Y.Doc, a TipTap editor bound to its `default` fragment, and a provider that
 * syncs it with the collaboration server. The indicator is derived from the provider alone: the
 * server acknowledges an update once it is committed, so "saved" means on disk.
 */
export class SceneEditor {
  readonly editor: Editor;
  readonly provider: HocuspocusProvider;
  private readonly socket: HocuspocusProviderWebsocket;
  private readonly doc = new Y.Doc();
  private readonly awareness = new Awareness(this.doc);
  private readonly facts: ProviderFacts = { connection: 'connecting', synced: false, unsynced: 0, readOnly: false, refusal: null };
  private destroyed = false;
  /** The token the provider runs on, and the timer that sends a fresh one before it expires. */
  private currentToken: string | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  status: SaveStatus = saveStatus(this.facts);
  /** Settles at the first sync with the server: the scene's content is in the editor from then on. */
  readonly synced: Promise<void>;
  private markSynced!: () => void;

  constructor(private readonly options: SceneEditorOptions) {
    this.synced = new Promise((resolve) => (this.markSynced = resolve));
    this.editor = new Editor({
      element: options.element,
      // Nothing may be typed before the scene has loaded: a block typed into the empty document
      // would be merged with the scene's content instead of being part of it.
      editable: false,
      extensions: [
        ...screenplayExtensions,
        Collaboration.configure({
          document: this.doc,
          field: SCREENPLAY_FRAGMENT_NAME,
          // The Y.Doc is new and empty here: its content comes with the first sync, which the
          // binding renders like any change. Without a mapping y-prosemirror re-renders the empty
          // fragment into the new view and sets a TextSelection in a document with no text block,
          // which ProseMirror warned about on every load.
          ySyncOptions: { mapping: new Map() },
        }),
        CollaborationCaret.configure({ awareness: this.awareness, user: options.user }),
        ...draftingExtensions(options.drafting ?? { characterNames: () => [] }),
        ...(options.extensions ?? []),
      ],
      editorProps: {
        attributes: { class: 'screenplay', spellcheck: 'false', 'aria-label': 'Screenplay', 'data-scene-id': options.sceneId },
      },
      // These fire while the constructor still runs (the first render of the Yjs content), before
      // this.editor is assigned: use the editor they are given.
      onSelectionUpdate: ({ editor }) => this.reportCursor(editor),
      onUpdate: ({ editor }) => this.reportCursor(editor),
      onFocus: ({ editor }) => this.startEmptyScene(editor),
    });

    this.socket = new HocuspocusProviderWebsocket({
      url: `${options.wsUrl}?schemaVersion=${SCREENPLAY_SCHEMA_VERSION}`,
      // A writer waits for the server to come back with unsaved words on screen: retry soon and
      // often (at most every 5 s) instead of the provider's default backoff of up to 30 s.
      delay: 500,
      factor: 1.5,
      minDelay: 250,
      maxDelay: 5000,
    });
    this.provider = new HocuspocusProvider({
      websocketProvider: this.socket,
      name: options.sceneId,
      document: this.doc,
      awareness: this.awareness,
      // Asked at every (re)connect and when a fresh token is due (by this page or by the server).
      // Development tokens are signed with a key that lives only as long as the server process, so
      // after a restart the page must present a new one.
      token: async () => {
        this.currentToken = await options.token();
        return this.currentToken;
      },
    });
    this.provider.on('status', ({ status }: { status: string }) => {
      this.facts.connection = status === 'connected' ? 'connected' : status === 'connecting' ? 'connecting' : 'disconnected';
      if (this.facts.connection !== 'connected') this.facts.synced = false;
      this.update();
    });
    this.provider.on('synced', () => {
      this.facts.synced = true;
      this.facts.refusal = null;
      this.editor.setEditable(!this.facts.readOnly);
      this.update();
      this.markSynced();
    });
    this.provider.on('unsyncedChanges', ({ number }: { number: number }) => {
      this.facts.unsynced = number;
      this.update();
    });
    this.provider.on('authenticated', ({ scope }: { scope: string }) => {
      this.facts.readOnly = scope === 'readonly';
      this.facts.refusal = null;
      this.scheduleTokenRefresh();
      this.update();
    });
    this.provider.on('authenticationFailed', ({ reason }: { reason: string }) => this.onRefused(reason));
    this.provider.on('close', ({ event }: { event: { reason?: string } }) => {
      const reason = event?.reason ?? '';
      if (isReauthenticateRefusal(reason)) this.reauthenticate(reason);
      else if (isUpdateRefusal(reason)) {
        // The same content would be refused again: stop typing into a document the server no longer takes.
        this.facts.refusal = `${reason} (reload the page)`;
        this.editor.setEditable(false);
        this.update();
      }
    });
    this.provider.attach();
    this.update();
  }

  destroy(): void {
    this.destroyed = true;
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.provider.destroy();
    this.socket.destroy();
    this.editor.destroy();
    this.doc.destroy();
  }

  private onRefused(reason: string): void {
    this.facts.refusal = reason;
    this.editor.setEditable(false);
    this.update();
    if (isTransientRefusal(reason)) {
      // A new socket, not a re-attach on this one: the server keeps queueing what this provider
      // sends after a refusal, and a re-attach's close message would end the retried session.
      setTimeout(() => {
        if (!this.destroyed) this.socket.webSocket?.close();
      }, TRANSIENT_RETRY_MS);
    }
  }

  /**
   * Sends a fresh token on the open connection before this one expires (the provider asks
   * `options.token` for it), so the connection is never ended for an expired token while the
   * session can get new ones. Each token that takes effect schedules the next refresh.
   */
  private scheduleTokenRefresh(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    const expiresAt = this.currentToken ? tokenExpiry(this.currentToken) : null;
    if (!this.options.canRefreshToken || expiresAt === null) return;
    this.refreshTimer = setTimeout(() => {
      if (this.destroyed) return;
      void this.provider.sendToken().then(() => this.scheduleTokenRefresh());
    }, refreshDelay(Date.now(), expiresAt));
  }

  /**
   * The server ended the connection because its token expired or the writer's role changed. The
   * unsaved words stay in the document; a new socket presents a fresh token (or the same one, for
   * a new role) and its sync step sends them. A pasted token cannot be renewed: say so.
   */
  private reauthenticate(reason: string): void {
    if (reason.startsWith('token-expired') && !this.options.canRefreshToken) {
      this.onRefused(`${reason} (sign in again with a new token)`);
      return;
    }
    // A new socket, not a re-attach on this one (see onRefused).
    this.socket.webSocket?.close();
  }

  /** An empty scene has no block to put the cursor in: the first focus gives it a scene heading. */
  private startEmptyScene(editor: Editor): void {
    const { state, view } = editor;
    if (!editor.isEditable || state.doc.childCount > 0) return;
    const heading = state.schema.nodes.sceneHeading!;
    const tr = state.tr.insert(0, heading.create());
    view.dispatch(tr.setSelection(TextSelection.create(tr.doc, 1)));
  }

  /** Tells `onCursor` where the cursor is now (also when the page moves the caret into this scene). */
  reportCursor(editor: Editor = this.editor): void {
    const { selection, doc } = editor.state;
    const { $from } = selection;
    this.options.onCursor({
      node: $from.parent.isTextblock ? $from.parent.type.name : null,
      // The end of the last block: one position before the end of the document.
      atSceneEnd: selection.empty && doc.childCount > 0 && $from.pos === doc.content.size - 1,
    });
  }

  private update(): void {
    this.status = saveStatus(this.facts);
    this.options.onStatus(this.status);
  }
}
