import { Extension } from '@tiptap/core';
import { yCursorPlugin } from '@tiptap/y-tiptap';
import type { Awareness } from 'y-protocols/awareness';

/**
 * Other writers' carets and selections, labelled with their names. A small replacement for
 * `@tiptap/extension-collaboration-caret`, whose releases pin an older `@tiptap/core` than the one
 * this project uses; both are thin wrappers around y-tiptap's cursor plugin. The awareness object
 * is the page's own (not the provider's), so it survives the provider being re-attached after a
 * token refresh.
 */

export interface CaretUser {
  name: string;
  color: string;
}

export interface CollaborationCaretOptions {
  awareness: Awareness | null;
  user: CaretUser;
}

const FALLBACK_COLOR = '#868e96';

/** Awareness states come from other clients: only a plain hex colour reaches a style. */
export function safeColor(value: unknown): string {
  return typeof value === 'string' && /^#[0-9a-fA-F]{6}$/.test(value) ? value : FALLBACK_COLOR;
}

function safeName(value: unknown, clientId: number): string {
  return typeof value === 'string' && value.trim() !== '' ? value.slice(0, 40) : `Writer ${clientId}`;
}

function renderCaret(user: Partial<CaretUser>, clientId: number): HTMLElement {
  const color = safeColor(user.color);
  const caret = document.createElement('span');
  caret.className = 'collab-caret';
  caret.style.borderColor = color;
  const label = document.createElement('span');
  label.className = 'collab-caret__label';
  label.style.backgroundColor = color;
  label.textContent = safeName(user.name, clientId);
  caret.append(label);
  return caret;
}

export const CollaborationCaret = Extension.create<CollaborationCaretOptions>({
  name: 'collaborationCaret',

  addOptions() {
    return { awareness: null, user: { name: 'Writer', color: FALLBACK_COLOR } };
  },

  addProseMirrorPlugins() {
    const { awareness, user } = this.options;
    if (!awareness) throw new Error('CollaborationCaret needs the awareness of the document');
    awareness.setLocalStateField('user', { name: user.name, color: safeColor(user.color) });
    return [
      yCursorPlugin(awareness, {
        cursorBuilder: renderCaret,
        selectionBuilder: (other: Partial<CaretUser>) => ({
          class: 'collab-selection',
          style: `background-color: ${safeColor(other.color)}33`,
        }),
      }),
    ];
  },
});
