// @vitest-environment happy-dom
// The capitals rule (src/screenplay/capitals.ts) in a real TipTap editor.
import { Editor } from '@tiptap/core';
import { TextSelection } from '@tiptap/pm/state';
import { afterEach, describe, expect, it } from 'vitest';
import { ScreenplayCapitals, toCapitals } from '../../src/screenplay/capitals.ts';
import { screenplayExtensions } from '../../src/screenplay/schema.ts';
import { setBlockType } from '../../web/screenplayKeymap.ts';

const editors: Editor[] = [];
function editorWith(blocks: { type: string; text?: string }[]): Editor {
  const content = {
    type: 'doc',
    content: blocks.map(({ type, text }) => ({ type, ...(text ? { content: [{ type: 'text', text }] } : {}) })),
  };
  const editor = new Editor({ extensions: [...screenplayExtensions, ScreenplayCapitals], content });
  editors.push(editor);
  return editor;
}
afterEach(() => {
  while (editors.length > 0) editors.pop()!.destroy();
});

const texts = (editor: Editor) => editor.state.doc.children.map((node) => [node.type.name, node.textContent]);
/** Positions inside block `index`: its start + 1 + offset. */
function at(editor: Editor, index: number, offset: number): number {
  let pos = 0;
  for (let i = 0; i < index; i++) pos += editor.state.doc.child(i).nodeSize;
  return pos + 1 + offset;
}

describe('capitals', () => {
  it('capitalises code point by code point where the length stays', () => {
    expect(toCapitals('int. café - day')).toBe('INT. CAFÉ - DAY');
    // "ß" has no one-character capital: kept, as the PDF export prints it.
    expect(toCapitals('straße')).toBe('STRAßE');
    expect(toCapitals('😀 ok')).toBe('😀 OK');
  });

  it('upper-cases what is typed into headings, cues and transitions, nothing else', () => {
    const editor = editorWith([{ type: 'sceneHeading' }, { type: 'action' }, { type: 'character' }, { type: 'dialogue' }, { type: 'transition' }]);
    for (const [index, text] of [[0, 'int. kitchen - night'], [1, 'Rain falls.'], [2, 'maya (v.o.)'], [3, 'Hello there.'], [4, 'cut to:']] as const) {
      editor.chain().setTextSelection(at(editor, index, 0)).insertContent(text).run();
    }
    expect(texts(editor)).toEqual([
      ['sceneHeading', 'INT. KITCHEN - NIGHT'],
      ['action', 'Rain falls.'],
      ['character', 'MAYA (V.O.)'],
      ['dialogue', 'Hello there.'],
      ['transition', 'CUT TO:'],
    ]);
  });

  it('keeps the caret where it was and the marks of the text', () => {
    const editor = editorWith([{ type: 'sceneHeading', text: 'INT. KITCHEN' }]);
    editor.chain().setTextSelection(at(editor, 0, 5)).toggleMark('italic').insertContent('old ').run();
    expect(editor.state.doc.textContent).toBe('INT. OLD KITCHEN');
    expect(editor.state.selection.from).toBe(at(editor, 0, 9));
    const italic = editor.state.doc.firstChild!.child(1);
    expect([italic.text, italic.marks.map((mark) => mark.type.name)]).toEqual(['OLD ', ['italic']]);
  });

  it('capitalises a block turned into a cue, and pasted text', () => {
    const editor = editorWith([{ type: 'action', text: 'maya' }, { type: 'transition' }]);
    editor.view.dispatch(editor.state.tr.setSelection(TextSelection.create(editor.state.doc, 2)));
    editor.view.dispatch(setBlockType(editor.state, editor.state.schema.nodes.character!)!);
    expect(texts(editor)[0]).toEqual(['character', 'MAYA']);
    editor.commands.setTextSelection(at(editor, 1, 0));
    editor.view.pasteText('smash cut to:');
    expect(texts(editor)[1]).toEqual(['transition', 'SMASH CUT TO:']);
  });

  it('leaves remote (y-sync) transactions and old lower-case text elsewhere alone', () => {
    const editor = editorWith([{ type: 'sceneHeading', text: 'int. old' }, { type: 'sceneHeading' }]);
    const { state } = editor;
    editor.view.dispatch(state.tr.insertText('remote', at(editor, 1, 0)).setMeta('y-sync$', { isChangeOrigin: true }));
    expect(texts(editor)).toEqual([['sceneHeading', 'int. old'], ['sceneHeading', 'remote']]);
    // A local edit in the second heading capitalises it, not the first.
    editor.chain().setTextSelection(at(editor, 1, 6)).insertContent('!').run();
    expect(texts(editor)).toEqual([['sceneHeading', 'int. old'], ['sceneHeading', 'REMOTE!']]);
  });

  it('waits for an IME composition to end before it capitalises', async () => {
    const editor = editorWith([{ type: 'character' }]);
    const { state } = editor;
    editor.view.dispatch(state.tr.insertText('ma', 1).setMeta('composition', 1));
    // While the transaction is handled the text is as composed.
    expect(editor.state.doc.textContent).toBe('ma');
    // The view is not composing (happy-dom sends no composition events): the block is fixed next.
    await Promise.resolve();
    expect(editor.state.doc.textContent).toBe('MA');
    expect(editor.state.selection.from).toBe(3);
  });
});
