/**
 * The element picker above the sheet: a button per element type (the keymap's BLOCK_SHORTCUTS,
 * same labels and order), the caret's current type pressed, acting on the editor that has the
 * caret. It follows that editor by itself: on focus moving between editors it listens to the new
 * one's transactions, so the caret's type is shown however it moved (keys, clicks, a remote edit).
 */
import type { Editor } from '@tiptap/core';
import { BLOCK_SHORTCUTS, setBlockType } from './screenplayKeymap.ts';

export interface Toolbar {
  /** Reads the active editor and its caret again (the script view may call it when it switches scenes). */
  refresh(): void;
  destroy(): void;
}

const isMac = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

/** The element type at the caret, or null (no editor, a node selection, an empty scene). */
function caretType(editor: Editor | null): string | null {
  if (!editor || editor.isDestroyed) return null;
  const { $from } = editor.state.selection;
  return $from.parent.isTextblock ? $from.parent.type.name : null;
}

export function mountToolbar(element: HTMLElement, activeEditor: () => Editor | null): Toolbar {
  element.setAttribute('role', 'toolbar');
  element.setAttribute('aria-label', 'Element');
  const buttons = BLOCK_SHORTCUTS.map(({ node, label, digit }) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'toolbar__element';
    button.dataset.node = node;
    button.textContent = label;
    button.title = `${label} (${isMac ? '⌘⌥' : 'Ctrl+Alt+'}${digit})`;
    button.setAttribute('aria-pressed', 'false');
    // The caret stays where it is in the script: a click must not take the focus (and the selection) away.
    button.addEventListener('mousedown', (event) => event.preventDefault());
    button.addEventListener('click', () => apply(node));
    return button;
  });
  element.replaceChildren(...buttons);

  let followed: Editor | null = null;
  const render = () => {
    const editor = activeEditor();
    if (editor !== followed) {
      followed?.off('transaction', render).off('update', render);
      followed = editor && !editor.isDestroyed ? editor : null;
      // 'update' also comes when the editor turns editable (a scene that has synced).
      followed?.on('transaction', render).on('update', render);
    }
    const current = caretType(followed);
    const editable = followed?.isEditable ?? false;
    element.dataset.current = current ?? '';
    for (const button of buttons) {
      button.setAttribute('aria-pressed', String(button.dataset.node === current));
      button.disabled = !editable;
    }
  };

  function apply(node: string): void {
    const editor = activeEditor();
    if (!editor || editor.isDestroyed || !editor.isEditable) return;
    const type = editor.state.schema.nodes[node];
    if (!type) return;
    const tr = setBlockType(editor.state, type);
    if (tr) editor.view.dispatch(tr.scrollIntoView());
    // A keyboard user pressed the button: back to the script.
    editor.commands.focus();
    render();
  }

  // The active editor changes when the focus moves into another scene.
  const onFocus = () => render();
  document.addEventListener('focusin', onFocus);
  render();
  return {
    refresh: render,
    destroy: () => {
      document.removeEventListener('focusin', onFocus);
      followed?.off('transaction', render).off('update', render);
      element.replaceChildren();
    },
  };
}
