import * as Y from 'yjs';

/**
 * Types `text` at the end of the first paragraph of the `default` fragment, one transaction (one
 * Yjs update, as an editor sends it) per character; creates the paragraph if there is none.
 */
export function typeInto(doc: Y.Doc, text: string): void {
  const fragment = doc.getXmlFragment('default');
  for (const ch of text) {
    doc.transact(() => {
      let paragraph = fragment.get(0) as Y.XmlElement | undefined;
      if (!paragraph) {
        paragraph = new Y.XmlElement('paragraph');
        paragraph.insert(0, [new Y.XmlText()]);
        fragment.insert(0, [paragraph]);
      }
      const textNode = paragraph.get(0) as Y.XmlText;
      textNode.insert(textNode.length, ch);
    });
  }
}

/**
 * An editor typing into its own document: each edit is one Yjs update, as a provider would send
 * it. Several typists on one scene produce concurrent updates (none has seen the others').
 */
export class Typist {
  readonly doc = new Y.Doc();
  private pending: Uint8Array[] = [];

  constructor() {
    this.doc.on('update', (update: Uint8Array) => this.pending.push(update));
  }

  /** Types `text` at `at` (clamped), one update per call. */
  type(text: string, at?: number): Uint8Array {
    const t = this.doc.getText('t');
    t.insert(Math.min(at ?? t.length, t.length), text);
    return this.take();
  }

  /** Deletes up to `length` characters at `at` (clamped); null when there was nothing to delete. */
  erase(at: number, length: number): Uint8Array | null {
    const t = this.doc.getText('t');
    if (t.length === 0) return null;
    const start = Math.min(at, t.length - 1);
    t.delete(start, Math.max(1, Math.min(length, t.length - start)));
    return this.take();
  }

  private take(): Uint8Array {
    const [update] = this.pending;
    this.pending = [];
    return update!;
  }
}

/** `n` typing updates of one character each, as one editor produces them. */
export function typingUpdates(n: number, text = 'abcdefghij'): Uint8Array[] {
  const typist = new Typist();
  return Array.from({ length: n }, (_, i) => typist.type(text[i % text.length]!));
}

/** One update that writes `text` into a fresh document's text `t`: a stand-in payload for log tests. */
export function textUpdate(text: string): Uint8Array {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return Y.encodeStateAsUpdate(doc);
}
