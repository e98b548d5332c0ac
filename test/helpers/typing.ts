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
