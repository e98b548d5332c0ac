/**
 * Page break markers in a scene editor: "2." before the block (or at the character) where the
 * script's page 2 starts, as the PDF export sets the pages (web/scriptPages.ts). The script view
 * computes the breaks for the whole script and hands each editor its own with `showPageBreaks`;
 * between two computations the markers move with the text. Decorations only: nothing is written to
 * the document, so nothing reaches Yjs or the other writers.
 */
import { Extension, type Editor } from '@tiptap/core';
import type { Node as ProseMirrorNode } from '@tiptap/pm/model';
import { Plugin, PluginKey } from '@tiptap/pm/state';
import { Decoration, DecorationSet } from '@tiptap/pm/view';

/** A page that starts in this scene: in block `blockIndex`, `offset` characters into its text (0: before the block). */
export interface PageBreak {
  page: number;
  blockIndex: number;
  offset: number;
}

export const pageBreaksPluginKey = new PluginKey<DecorationSet>('pageBreaks');

function marker(page: number, inline: boolean): HTMLElement {
  const element = document.createElement(inline ? 'span' : 'div');
  element.className = inline ? 'page-break page-break--inline' : 'page-break';
  element.contentEditable = 'false';
  element.dataset.page = String(page);
  // Read out as a separator, not as text of the script.
  element.setAttribute('role', 'separator');
  element.setAttribute('aria-label', `Page ${page}`);
  const number = document.createElement('span');
  number.className = 'page-break__number';
  number.textContent = `${page}.`;
  element.append(number);
  return element;
}

function decorationsFor(doc: ProseMirrorNode, breaks: readonly PageBreak[]): DecorationSet {
  const starts: number[] = [];
  doc.forEach((_node, offset) => starts.push(offset));
  const decorations: Decoration[] = [];
  for (const { page, blockIndex, offset } of breaks) {
    const start = starts[blockIndex];
    if (start === undefined) continue; // the scene changed since the breaks were computed: the next computation places it
    const block = doc.child(blockIndex);
    if (offset <= 0 || offset >= block.content.size) {
      decorations.push(Decoration.widget(start, () => marker(page, false), { side: -1, key: `page-${page}`, ignoreSelection: true }));
    } else {
      decorations.push(Decoration.widget(start + 1 + offset, () => marker(page, true), { side: -1, key: `page-${page}-inline`, ignoreSelection: true }));
    }
  }
  return DecorationSet.create(doc, decorations);
}

export const PageBreaks = Extension.create({
  name: 'pageBreaks',

  addProseMirrorPlugins() {
    return [
      new Plugin<DecorationSet>({
        key: pageBreaksPluginKey,
        state: {
          init: () => DecorationSet.empty,
          apply: (tr, set) => {
            const breaks = tr.getMeta(pageBreaksPluginKey) as readonly PageBreak[] | undefined;
            if (breaks !== undefined) return decorationsFor(tr.doc, breaks);
            return tr.docChanged ? set.map(tr.mapping, tr.doc) : set;
          },
        },
        props: {
          decorations: (state) => pageBreaksPluginKey.getState(state),
        },
      }),
    ];
  },
});

/** Shows these page breaks in the editor, replacing the ones it showed. */
export function showPageBreaks(editor: Editor, breaks: readonly PageBreak[]): void {
  if (editor.isDestroyed) return;
  editor.view.dispatch(editor.state.tr.setMeta(pageBreaksPluginKey, breaks).setMeta('addToHistory', false));
}
