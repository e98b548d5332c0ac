import { Extension, type Editor } from '@tiptap/core';

/**
 * The keys that reach past one scene's editor in the continuous script (web/scriptView.ts): each
 * scene is its own document, so the browser's caret stops at its edges unless the page moves it.
 * - ArrowDown on the last line of the last block, ArrowRight at its very end: the next scene;
 * - ArrowUp on the first line of the first block, ArrowLeft at its very start: the previous scene;
 * - Backspace at the very start (its heading): the scene is merged into the previous one.
 * A handler answers false when there is nothing to do (no scene there), and the key does what it
 * does inside the editor.
 */
export interface SceneBoundaryHandlers {
  leave(direction: 'next' | 'previous'): boolean;
  mergeBack(): boolean;
}

type Edge = 'start' | 'end';

/** Whether the caret is a plain caret at the start or the end of the whole scene. */
function caretAt(editor: Editor, edge: Edge): boolean {
  const { selection, doc } = editor.state;
  if (!selection.empty || doc.childCount === 0) return false;
  return edge === 'start' ? selection.from === 1 : selection.from === doc.content.size - 1;
}

/** Whether the caret is on the first visual line of the first block (`up`), or the last of the last (`down`). */
function onEdgeLine(editor: Editor, direction: 'up' | 'down'): boolean {
  const { selection, doc } = editor.state;
  if (!selection.empty || doc.childCount === 0) return false;
  const index = selection.$from.index(0);
  if (index !== (direction === 'up' ? 0 : doc.childCount - 1)) return false;
  return editor.view.endOfTextblock(direction);
}

export function sceneBoundaries(handlers: SceneBoundaryHandlers): Extension {
  return Extension.create({
    name: 'sceneBoundaries',
    // Below the default 100: a drafting aid that uses the arrows (an open autocomplete list) answers first.
    priority: 50,
    addKeyboardShortcuts() {
      return {
        ArrowDown: ({ editor }) => onEdgeLine(editor, 'down') && handlers.leave('next'),
        ArrowRight: ({ editor }) => caretAt(editor, 'end') && handlers.leave('next'),
        ArrowUp: ({ editor }) => onEdgeLine(editor, 'up') && handlers.leave('previous'),
        ArrowLeft: ({ editor }) => caretAt(editor, 'start') && handlers.leave('previous'),
        Backspace: ({ editor }) => editor.isEditable && caretAt(editor, 'start') && handlers.mergeBack(),
      };
    },
  });
}

/**
 * Puts the caret at `position` and the keyboard focus in `editor` now. TipTap's `focus` command
 * sets the selection at once but moves the DOM focus on the next animation frame: keys typed
 * before that frame went to the editor that still had the focus (the scene above a split got them).
 */
export function focusNow(editor: Editor, position: Edge | number): void {
  editor.commands.focus(position);
  editor.view.focus();
}
