import * as Y from 'yjs';
import { canonicalizeBlocks, yDocToRestBlocks } from '../../src/screenplay/index.ts';

/** A new document holding `update`, as a fresh load or another replica would see it. */
export function freshDocFrom(update: Uint8Array): Y.Doc {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, update);
  return doc;
}

/** The `default` fragment (the screenplay an editor shows) as XML text, for comparing documents. */
export function textOf(doc: Y.Doc): string {
  return doc.getXmlFragment('default').toString();
}

/** REST blocks in canonical form, as JSON for exact comparison. */
export function canonical(blocks: unknown): string {
  return JSON.stringify(canonicalizeBlocks(blocks));
}

/** The document's `default` fragment as canonical REST blocks (JSON, for exact comparison). */
export function blocksOf(doc: Y.Doc): string {
  return JSON.stringify(canonicalizeBlocks(yDocToRestBlocks(doc)));
}
