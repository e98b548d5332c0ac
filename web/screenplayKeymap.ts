import { Extension, type Editor } from '@tiptap/core';
import type { NodeType } from '@tiptap/pm/model';
import { TextSelection, type EditorState, type Transaction } from '@tiptap/pm/state';

/**
 * Keyboard conventions of screenwriting applications (Final Draft, Fade In), on top of the
 * screenplay schema the server uses:
 * - Ctrl+Alt+<digit> (Cmd+Option on a Mac) turns the current block(s) into a given element;
 * - Enter at the end of a block starts the element that usually follows it (a character is
 *   followed by dialogue, a scene heading by action); Enter inside a block splits it and keeps
 *   its type;
 * - Tab / Shift+Tab cycle the current block through the elements a writer switches between.
 * The page's help panel is generated from these tables, so the documentation cannot drift.
 */

export interface BlockShortcut {
  node: string;
  label: string;
  /** The digit pressed with Ctrl+Alt (Cmd+Option). */
  digit: string;
}

export const BLOCK_SHORTCUTS: readonly BlockShortcut[] = [
  { node: 'sceneHeading', label: 'Scene heading', digit: '1' },
  { node: 'action', label: 'Action', digit: '2' },
  { node: 'character', label: 'Character', digit: '3' },
  { node: 'dialogue', label: 'Dialogue', digit: '4' },
  { node: 'parenthetical', label: 'Parenthetical', digit: '5' },
  { node: 'transition', label: 'Transition', digit: '6' },
  { node: 'centered', label: 'Centered', digit: '7' },
  { node: 'paragraph', label: 'General', digit: '0' },
];

export const NEXT_ON_ENTER: Readonly<Record<string, string>> = {
  sceneHeading: 'action',
  action: 'action',
  character: 'dialogue',
  parenthetical: 'dialogue',
  dialogue: 'action',
  transition: 'sceneHeading',
  centered: 'action',
  paragraph: 'paragraph',
};

export const NEXT_ON_TAB: Readonly<Record<string, string>> = {
  action: 'character',
  character: 'transition',
  transition: 'sceneHeading',
  sceneHeading: 'action',
  dialogue: 'parenthetical',
  parenthetical: 'dialogue',
  centered: 'action',
  paragraph: 'action',
};

export const NEXT_ON_SHIFT_TAB: Readonly<Record<string, string>> = {
  action: 'sceneHeading',
  sceneHeading: 'transition',
  transition: 'character',
  character: 'action',
  dialogue: 'character',
  parenthetical: 'dialogue',
  centered: 'action',
  paragraph: 'action',
};

export function labelOf(node: string): string {
  return BLOCK_SHORTCUTS.find((shortcut) => shortcut.node === node)?.label ?? node;
}

/**
 * Changes the type of every text block the selection touches to `type`, keeping the attributes
 * both types have (the REST identity: `blockId`, `metadata`, `extraFields`), so a block whose type
 * a writer changes is still the same REST block. An empty scene gets its first block.
 */
export function setBlockType(state: EditorState, type: NodeType): Transaction | null {
  const tr = state.tr;
  if (state.doc.childCount === 0) {
    tr.insert(0, type.create());
    tr.setSelection(TextSelection.create(tr.doc, 1));
    return tr;
  }
  const { from, to } = state.selection;
  let changed = false;
  state.doc.nodesBetween(from, to, (node, pos) => {
    if (!node.isTextblock) return true;
    if (node.type !== type) {
      // NodeType.create takes the attributes the target type declares and ignores the rest.
      tr.setNodeMarkup(pos, type, node.attrs);
      changed = true;
    }
    return false;
  });
  return changed ? tr : null;
}

/** The text block the cursor is in, or null (a node selection, an empty scene). */
function currentBlockType(state: EditorState): string | null {
  const { $from } = state.selection;
  return $from.parent.isTextblock ? $from.parent.type.name : null;
}

function switchTo(editor: Editor, name: string | undefined): boolean {
  if (!editor.isEditable || !name) return false;
  const type = editor.state.schema.nodes[name];
  if (!type) return false;
  const tr = setBlockType(editor.state, type);
  if (tr) editor.view.dispatch(tr.scrollIntoView());
  // Handled even when nothing changed: Tab must never move the focus out of the script.
  return true;
}

/** Enter at the end of a block: a new block of the element that follows, instead of a plain paragraph. */
function enterNextBlock(editor: Editor): boolean {
  const { state } = editor;
  const { $from, empty } = state.selection;
  if (!empty || !$from.parent.isTextblock) return false;
  if ($from.parentOffset !== $from.parent.content.size) return false; // mid-block: the default split keeps the type
  const nextName = NEXT_ON_ENTER[$from.parent.type.name];
  const next = nextName ? state.schema.nodes[nextName] : undefined;
  if (!next) return false;
  const tr = state.tr.split($from.pos, 1, [{ type: next }]);
  editor.view.dispatch(tr.scrollIntoView());
  return true;
}

export const ScreenplayKeymap = Extension.create({
  name: 'screenplayKeymap',

  addKeyboardShortcuts() {
    const shortcuts: Record<string, (props: { editor: Editor }) => boolean> = {
      Enter: ({ editor }) => enterNextBlock(editor),
      Tab: ({ editor }) => switchTo(editor, NEXT_ON_TAB[currentBlockType(editor.state) ?? 'paragraph']),
      'Shift-Tab': ({ editor }) => switchTo(editor, NEXT_ON_SHIFT_TAB[currentBlockType(editor.state) ?? 'paragraph']),
      'Mod-b': ({ editor }) => editor.commands.toggleMark('bold'),
      'Mod-i': ({ editor }) => editor.commands.toggleMark('italic'),
      'Mod-u': ({ editor }) => editor.commands.toggleMark('underline'),
    };
    for (const { node, digit } of BLOCK_SHORTCUTS) {
      shortcuts[`Mod-Alt-${digit}`] = ({ editor }) => switchTo(editor, node);
    }
    return shortcuts;
  },
});
