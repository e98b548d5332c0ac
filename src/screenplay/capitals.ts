// Scene headings, character cues and transitions are stored in capitals, as Final Draft stores
// them: an editor extension that upper-cases what the writer types or pastes into those elements,
// and the text of a block the writer turns into one of them.
// Browser-safe (only @tiptap/core and @tiptap/pm). Not part of `screenplayExtensions` on purpose:
// the server's conversions must keep stored text exactly as it is (DESIGN invariant 5); this is a
// rule for editors, which add it next to the schema.
import { Extension } from '@tiptap/core';
import type { Node as ProseMirrorNode } from '@tiptap/pm/model';
import { Plugin, PluginKey, Selection } from '@tiptap/pm/state';
import type { EditorState, Transaction } from '@tiptap/pm/state';

/** The node types whose text is kept in capitals. */
export const CAPITALIZED_NODE_TYPES: ReadonlySet<string> = new Set(['sceneHeading', 'character', 'transition']);

// y-prosemirror's sync plugin key ('y-sync') as stored in transaction meta: a remote edit (or an
// undo replayed from Yjs) was capitalised, or deliberately not, by the client that made it.
// Rewriting it here would have every peer write the same fix into the shared document, or fight
// a peer that runs without this rule.
const Y_SYNC_META = 'y-sync$';
// prosemirror-view marks the transactions it reads from the DOM while an IME composition runs.
// Changing the text under a composition breaks it (the IME loses the characters it is composing),
// so the block is capitalised once the composition has ended.
const COMPOSITION_META = 'composition';

/**
 * The capital of every code point whose capital has the same length ("ß" stays "ß"), the rule
 * src/interchange/pagination.ts prints these elements with: the length is kept, so positions,
 * the selection and the block's mark ranges stay valid.
 */
export function toCapitals(text: string): string {
  let out = '';
  for (const ch of text) {
    const up = ch.toUpperCase();
    out += up.length === ch.length ? up : ch;
  }
  return out;
}

interface Range {
  from: number;
  to: number;
}

/** The ranges of the final document that `transactions` inserted or replaced. */
function changedRanges(transactions: readonly Transaction[]): Range[] {
  let ranges: Range[] = [];
  for (const tr of transactions) {
    for (const map of tr.mapping.maps) {
      ranges = ranges.map(({ from, to }) => ({ from: map.map(from, -1), to: map.map(to, 1) }));
      map.forEach((_oldFrom, _oldTo, from, to) => ranges.push({ from, to }));
    }
  }
  return ranges;
}

/**
 * A transaction that capitalises the text of every heading, cue and transition that `ranges`
 * touch, or null when they already are. Text nodes are replaced whole (y-prosemirror writes only
 * the characters that differ to Yjs); the selection is put back where it was, which the
 * length-preserving capitals make possible.
 */
export function capitalizeRanges(state: EditorState, ranges: readonly Range[]): Transaction | null {
  let tr: Transaction | null = null;
  const done = new Set<number>();
  for (const { from, to } of ranges) {
    state.doc.nodesBetween(from, to, (node: ProseMirrorNode, pos: number) => {
      if (!node.isTextblock) return true;
      if (CAPITALIZED_NODE_TYPES.has(node.type.name) && !done.has(pos)) {
        done.add(pos);
        node.forEach((child, offset) => {
          if (!child.isText) return;
          const capitals = toCapitals(child.text!);
          if (capitals === child.text) return;
          tr ??= state.tr;
          const start = pos + 1 + offset;
          tr.replaceWith(start, start + child.nodeSize, state.schema.text(capitals, child.marks));
        });
      }
      return false;
    });
  }
  if (tr === null) return null;
  const fix: Transaction = tr;
  fix.setSelection(Selection.fromJSON(fix.doc, state.selection.toJSON()));
  if (state.storedMarks) fix.setStoredMarks(state.storedMarks);
  return fix;
}

const isRemote = (tr: Transaction) => tr.getMeta(Y_SYNC_META) !== undefined;
const isComposing = (tr: Transaction) => tr.getMeta(COMPOSITION_META) !== undefined;

/** The plugin's appendTransaction: capitalise what local, non-composing edits changed. */
export function capitalsTransaction(transactions: readonly Transaction[], _oldState: EditorState, newState: EditorState): Transaction | null {
  if (!transactions.some((tr) => tr.docChanged)) return null;
  if (transactions.some((tr) => isRemote(tr) || isComposing(tr))) return null;
  return capitalizeRanges(newState, changedRanges(transactions));
}

/** True while a composition changed a block that still waits to be capitalised. */
export const capitalsPluginKey = new PluginKey<boolean>('screenplayCapitals');
const AFTER_COMPOSITION = 'afterComposition';

export const ScreenplayCapitals = Extension.create({
  name: 'screenplayCapitals',

  addProseMirrorPlugins() {
    return [
      new Plugin<boolean>({
        key: capitalsPluginKey,
        state: {
          init: () => false,
          apply: (tr, pending) => {
            if (tr.getMeta(capitalsPluginKey) === AFTER_COMPOSITION) return false;
            if (tr.docChanged && isComposing(tr) && !isRemote(tr)) return true;
            return pending;
          },
        },
        appendTransaction: capitalsTransaction,
        view: () => {
          let scheduled = false;
          return {
            update: (view) => {
              if (scheduled || !capitalsPluginKey.getState(view.state) || view.composing) return;
              // After the update that ended the composition, not inside it: prosemirror-view is
              // still settling the composed DOM text while plugin views update.
              scheduled = true;
              queueMicrotask(() => {
                scheduled = false;
                if (view.isDestroyed || view.composing || !capitalsPluginKey.getState(view.state)) return;
                const { state } = view;
                const { $from } = state.selection;
                const block = $from.depth > 0 ? { from: $from.before(1), to: $from.after(1) } : { from: 0, to: 0 };
                const tr = capitalizeRanges(state, [block]) ?? state.tr;
                view.dispatch(tr.setMeta(capitalsPluginKey, AFTER_COMPOSITION));
              });
            },
          };
        },
      }),
    ];
  },
});
