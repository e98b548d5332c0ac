/**
 * Autocomplete as screenwriting applications do it (Final Draft's SmartType): in a character cue
 * the script's names, in a scene heading INT./EXT. first, then the script's locations, then the
 * time of day after " - ". Built on @tiptap/suggestion, whose plugin tracks the query and places
 * the list; this file decides what is offered (`completionAt`, pure) and draws an accessible list
 * (listbox, options, aria-activedescendant on the editor).
 *
 * Keys: ↑/↓ move, Enter or Tab accepts, Escape dismisses. Nothing is chosen until the writer has
 * typed something or pressed an arrow, and Enter on an item that is already what was typed is not
 * taken: with the list open or closed, Enter and Tab then do what the keymap says
 * (web/screenplayKeymap.ts), so the element flow is never in the list's way.
 */
import { Extension, type Editor } from '@tiptap/core';
import type { Node as ProseMirrorNode, ResolvedPos } from '@tiptap/pm/model';
import { PluginKey } from '@tiptap/pm/state';
import { Suggestion, type SuggestionKeyDownProps, type SuggestionProps } from '@tiptap/suggestion';
import { headingLocation, HEADING_PREFIXES, cueName } from './scriptVocabulary.ts';

/** What the script offers; both lists most used first. */
export interface CompletionSources {
  characterNames: readonly string[];
  locations: readonly string[];
}

/** The prefixes offered, in the order writers use them (parsing uses HEADING_PREFIXES, longest first). */
export const PREFIX_CHOICES = ['INT.', 'EXT.', 'INT./EXT.', 'I/E.', 'EST.'] as const;

export const TIMES_OF_DAY = ['DAY', 'NIGHT', 'MORNING', 'AFTERNOON', 'EVENING', 'DAWN', 'DUSK', 'CONTINUOUS', 'LATER', 'MOMENTS LATER', 'SAME TIME'] as const;

export type CompletionKind = 'character' | 'prefix' | 'location' | 'time';

export interface Completion {
  kind: CompletionKind;
  /** Where the replaced text starts, in characters from the block's start; it ends at the caret. */
  from: number;
  query: string;
  items: string[];
}

/** What accepting `item` writes: a prefix or a location leads on to the next part of the heading. */
export function insertionOf(kind: CompletionKind, item: string): string {
  if (kind === 'prefix') return `${item} `;
  if (kind === 'location') return `${item} - `;
  return item;
}

const startingWith = (items: readonly string[], query: string) => {
  const wanted = query.toUpperCase();
  return [...new Set(items)].filter((item) => item.startsWith(wanted));
};

/**
 * What to offer with the caret at the end of a block of type `node` holding `text`. Null where
 * nothing is completed (other elements, a cue's extension, text after the time of day).
 */
export function completionAt(node: string, text: string, sources: CompletionSources): Completion | null {
  if (node === 'character') {
    if (text.includes('(')) return null;
    return { kind: 'character', from: 0, query: text, items: startingWith(sources.characterNames, text.trimStart()) };
  }
  if (node !== 'sceneHeading') return null;
  const upper = text.toUpperCase();
  const prefix = HEADING_PREFIXES.find((p) => upper.startsWith(`${p} `));
  if (prefix === undefined) {
    if (/\s/.test(text)) return null;
    return { kind: 'prefix', from: 0, query: text, items: startingWith(PREFIX_CHOICES, text) };
  }
  const dash = upper.lastIndexOf(' - ');
  if (dash >= prefix.length) {
    const from = dash + 3;
    return { kind: 'time', from, query: text.slice(from), items: startingWith(TIMES_OF_DAY, text.slice(from)) };
  }
  const from = prefix.length + 1;
  return { kind: 'location', from, query: text.slice(from), items: startingWith(sources.locations, text.slice(from)) };
}

/** The script's names and locations, and those of this scene's other blocks the script view may not know yet. */
function sourcesOf($caret: ResolvedPos, script: CompletionSources): CompletionSources {
  const names = [...script.characterNames];
  const places = [...script.locations];
  const caretBlock = $caret.index(0);
  $caret.doc.forEach((node, _offset, index) => {
    if (index === caretBlock) return;
    if (node.type.name === 'character') names.push(cueName(node.textContent));
    else if (node.type.name === 'sceneHeading') {
      const location = headingLocation(node.textContent);
      if (location !== null) places.push(location);
    }
  });
  return { characterNames: names.filter((name) => name !== ''), locations: places };
}

/**
 * The script's lists as they were when the caret came into the block. The script view counts the
 * live content, so asked again while the writer types "S" they would offer "S", the cue being typed;
 * a block counts once the writer has left it, as in Final Draft.
 */
class SourcesAtEntry {
  private block: number | null = null;
  private sources: CompletionSources | null = null;

  constructor(private readonly script: () => CompletionSources) {}

  at(blockStart: number | null): CompletionSources {
    if (blockStart === null || blockStart !== this.block || this.sources === null) {
      this.block = blockStart;
      this.sources = this.script();
    }
    return this.sources;
  }
}

/** The completion at a caret: at the end of a cue or a heading. */
function completionOf($caret: ResolvedPos, script: SourcesAtEntry): (Completion & { blockStart: number }) | null {
  const inBlock = $caret.parent.isTextblock && $caret.depth > 0;
  const sources = script.at(inBlock ? $caret.start() : null);
  if (!inBlock || $caret.parentOffset !== $caret.parent.content.size) return null;
  const completion = completionAt($caret.parent.type.name, $caret.parent.textContent, sourcesOf($caret, sources));
  return completion === null ? null : { ...completion, blockStart: $caret.start() };
}

let listCount = 0;

/** The list on screen for one editor; `props` is the suggestion plugin's current state. */
class CompletionList {
  readonly element = document.createElement('ul');
  private props: SuggestionProps<string, string> | null = null;
  private unmount: (() => void) | null = null;
  private items: string[] = [];
  private active = -1;
  private query = '';
  private readonly id = `autocomplete-${++listCount}`;

  constructor() {
    this.element.id = this.id;
    this.element.className = 'autocomplete';
    this.element.setAttribute('role', 'listbox');
    this.element.setAttribute('aria-label', 'Suggestions');
    // The caret stays in the script while the writer clicks an option.
    this.element.addEventListener('mousedown', (event) => event.preventDefault());
    this.element.addEventListener('click', (event) => {
      const option = (event.target as HTMLElement).closest<HTMLElement>('[role="option"]');
      if (option?.dataset.index !== undefined) this.accept(Number(option.dataset.index));
    });
  }

  show(props: SuggestionProps<string, string>): void {
    this.props = props;
    const query = props.query.trim();
    if (query !== this.query || this.active >= props.items.length || !sameItems(this.items, props.items)) {
      // Something typed: the first item is offered; nothing typed: nothing until an arrow is pressed.
      this.active = query === '' ? -1 : 0;
    }
    this.query = query;
    this.items = props.items;
    this.unmount ??= props.mount(this.element);
    this.render();
  }

  hide(): void {
    this.unmount?.();
    this.unmount = null;
    this.props = null;
    this.items = [];
    this.active = -1;
    this.query = '';
    this.setEditorAttributes(null);
  }

  onKeyDown({ event }: SuggestionKeyDownProps): boolean {
    if (event.key === 'Escape') {
      this.hide();
      return true;
    }
    if (this.items.length === 0 || event.altKey || event.ctrlKey || event.metaKey) return false;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      const step = event.key === 'ArrowDown' ? 1 : -1;
      this.active = this.active === -1 ? (step === 1 ? 0 : this.items.length - 1) : (this.active + step + this.items.length) % this.items.length;
      this.render();
      return true;
    }
    if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey && this.active >= 0) {
      // Already written: Enter and Tab go on to the keymap (the next element), the list closes with the block.
      if (this.items[this.active] === this.query.toUpperCase()) return false;
      this.accept(this.active);
      return true;
    }
    return false;
  }

  private accept(index: number): void {
    const item = this.items[index];
    if (item !== undefined) this.props?.command(item);
  }

  private render(): void {
    const editorOpen = this.items.length > 0;
    this.element.hidden = !editorOpen;
    this.element.replaceChildren(
      ...this.items.map((item, index) => {
        const option = document.createElement('li');
        option.id = `${this.id}-${index}`;
        option.className = 'autocomplete__option';
        option.setAttribute('role', 'option');
        option.setAttribute('aria-selected', String(index === this.active));
        option.dataset.index = String(index);
        option.textContent = item;
        return option;
      }),
    );
    this.element.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
    this.setEditorAttributes(editorOpen ? (this.active >= 0 ? `${this.id}-${this.active}` : '') : null);
  }

  /** The editor is the combobox the list belongs to; null: the list is closed. */
  private setEditorAttributes(activeId: string | null): void {
    const dom = this.props?.editor.view.dom ?? document.querySelector(`[aria-controls="${this.id}"]`);
    if (!dom) return;
    dom.setAttribute('aria-autocomplete', 'list');
    dom.setAttribute('aria-expanded', String(activeId !== null));
    if (activeId === null) {
      dom.removeAttribute('aria-controls');
      dom.removeAttribute('aria-activedescendant');
      return;
    }
    dom.setAttribute('aria-controls', this.id);
    if (activeId === '') dom.removeAttribute('aria-activedescendant');
    else dom.setAttribute('aria-activedescendant', activeId);
  }
}

const sameItems = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((item, i) => item === b[i]);

export interface AutocompleteOptions {
  /** The script's names and locations, most used first (web/scriptVocabulary.ts). */
  sources: () => CompletionSources;
}

export const autocompletePluginKey = new PluginKey('screenplayAutocomplete');

export const Autocomplete = Extension.create<AutocompleteOptions>({
  name: 'screenplayAutocomplete',
  // Above the keymap (priority 100): the list takes Enter, Tab and the arrows first while it is open.
  priority: 110,

  addOptions() {
    return { sources: () => ({ characterNames: [], locations: [] }) };
  },

  addProseMirrorPlugins() {
    const editor: Editor = this.editor;
    const sources = new SourcesAtEntry(this.options.sources);
    // Called while the plugin state is computed for a new state: only the position it is given is current.
    const completionAtCaret = (current: Editor) => (current.state.selection.empty ? completionOf(current.state.selection.$from, sources) : null);
    return [
      Suggestion<string, string>({
        editor,
        pluginKey: autocompletePluginKey,
        char: '',
        decorationClass: 'autocomplete-query',
        findSuggestionMatch: ({ $position }) => {
          const completion = completionOf($position, sources);
          if (completion === null) return null;
          return { range: { from: completion.blockStart + completion.from, to: $position.pos }, query: completion.query, text: completion.query };
        },
        items: ({ editor: current }) => completionAtCaret(current)?.items ?? [],
        command: ({ editor: current, range, props: item }) => {
          const text = insertionOf(completionAtCaret(current)?.kind ?? 'character', item);
          current.view.dispatch(current.state.tr.insertText(text, range.from, range.to).scrollIntoView());
        },
        render: () => {
          const list = new CompletionList();
          return {
            onStart: (props) => list.show(props),
            onUpdate: (props) => list.show(props),
            onExit: () => list.hide(),
            onKeyDown: (props) => list.onKeyDown(props),
          };
        },
      }),
    ];
  },
});
