import * as Y from 'yjs';
import { mulberry32 } from '../helpers/prng.ts';

const BLOCK_TYPES = ['sceneHeading', 'action', 'character', 'dialogue', 'parenthetical', 'transition'] as const;
const LETTERS = 'abcdefghijklmnopqrstuvwxyz      ,.';

/**
 * Typing as a screenwriter does it: mostly one character inserted near the end of a block, now
 * and then a backspace, sometimes a new block of another type. One call is one Yjs update.
 */
export class Typist {
  private readonly random: () => number;

  constructor(
    readonly doc: Y.Doc,
    seed: number,
  ) {
    this.random = mulberry32(seed);
  }

  private get fragment(): Y.XmlFragment {
    return this.doc.getXmlFragment('default');
  }

  keystroke(): void {
    const r = this.random();
    const fragment = this.fragment;
    if (fragment.length === 0 || r < 0.02) {
      this.newBlock();
      return;
    }
    const block = fragment.get(Math.floor(this.random() * fragment.length)) as Y.XmlElement;
    const text = block.get(0) as Y.XmlText | undefined;
    if (!text) return this.newBlock();
    if (r < 0.12 && text.length > 0) {
      text.delete(text.length - 1, 1);
    } else {
      const position = Math.max(0, text.length - Math.floor(this.random() * 3));
      text.insert(position, LETTERS[Math.floor(this.random() * LETTERS.length)]!);
    }
  }

  private newBlock(): void {
    const type = BLOCK_TYPES[Math.floor(this.random() * BLOCK_TYPES.length)]!;
    const element = new Y.XmlElement(type);
    element.insert(0, [new Y.XmlText('')]);
    this.fragment.insert(this.fragment.length, [element]);
  }
}

/** The updates of `count` keystrokes by one typist, captured as a client would send them. */
export function typingUpdates(count: number, seed: number): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const typist = new Typist(doc, seed);
  while (updates.length < count) typist.keystroke();
  doc.destroy();
  return updates.slice(0, count);
}
