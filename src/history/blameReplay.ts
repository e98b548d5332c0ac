// The Yjs half of blame: replays one page of log rows on top of the state the pages before it left,
// and tells which top-level blocks each row touched. Pure (plain data in and out), so it runs in a
// worker thread (src/workers/tasks.ts, task `blamePage`) as well as on the calling thread.
import * as Y from 'yjs';
import { quicklySound } from '../guards/quickCheck.ts';
import { updateProblem } from '../guards/updateValidation.ts';
import { unpackUpdates } from '../log/packed.ts';
import { SCREENPLAY_FRAGMENT_NAME } from '../screenplay/index.ts';

/** What one page of rows did. */
export interface BlamePage {
  /** The document's state after the page (the next page starts from it). */
  state: Uint8Array;
  /**
   * Per block touched on this page, the index (in the page) of the last row that touched it.
   * A block is named by the id of its Yjs item (`client:clock`), which never changes.
   */
  touched: Array<[block: string, row: number]>;
  /** The blocks of the document after the page, in order, by the same names. */
  blocks: string[];
  /** Rows of the page that did not decode (skipped, as every load skips them). */
  undecodable: number[];
}

/**
 * Applies the page's updates (packed, src/log/packed.ts) one by one, each in its own Yjs
 * transaction, and after each one reads which top-level elements of the fragment `default` it
 * changed: a change inside a block (text, marks, attributes, nested content) walks up to the block;
 * a change of the fragment itself means blocks were inserted (those whose items the transaction
 * created) or deleted (gone, nothing to attribute). Updates waiting for a missing dependency are
 * attributed to the row whose update lets them apply.
 */
export function blamePage(state: Uint8Array | null, packed: Uint8Array): BlamePage {
  const doc = new Y.Doc({ gc: true });
  try {
    if (state !== null) Y.applyUpdate(doc, state);
    const fragment = doc.getXmlFragment(SCREENPLAY_FRAGMENT_NAME);
    const touched = new Map<string, number>();
    const undecodable: number[] = [];
    let row = -1;
    doc.on('afterTransaction', (transaction: Y.Transaction) => {
      for (const changed of transaction.changed.keys()) {
        const type = changed as Y.AbstractType<unknown>;
        if (type === (fragment as Y.AbstractType<unknown>)) {
          for (let item = fragment._start; item !== null; item = item.right) {
            if (!item.deleted && item.id.clock >= (transaction.beforeState.get(item.id.client) ?? 0)) touched.set(itemName(item), row);
          }
          continue;
        }
        const block = topLevelItem(type, fragment);
        if (block !== null) touched.set(itemName(block), row);
      }
    });
    for (const [index, update] of unpackUpdates(packed).entries()) {
      // The guards' check first (`allSound` in src/log/replay.ts: a walk over the bytes, the full
      // check only for what the walk cannot vouch for): an update that passes applies whole, so a
      // corrupt row cannot leave half of itself in the document.
      if (!quicklySound(update) && updateProblem(update, Number.POSITIVE_INFINITY) !== null) {
        undecodable.push(index);
        continue;
      }
      row = index;
      Y.applyUpdate(doc, update);
    }
    // Touched and then deleted on the page: nothing left to attribute.
    const blocks = blockNames(fragment);
    const present = new Set(blocks);
    return {
      state: Y.encodeStateAsUpdate(doc),
      touched: [...touched].filter(([name]) => present.has(name)),
      blocks,
      undecodable,
    };
  } finally {
    doc.destroy();
  }
}

/** The names of the fragment's blocks, in order. */
function blockNames(fragment: Y.XmlFragment): string[] {
  const names: string[] = [];
  for (let item = fragment._start; item !== null; item = item.right) {
    if (!item.deleted && item.countable) names.push(itemName(item));
  }
  return names;
}

/** The item of the fragment's child that holds `type`; null when `type` is not inside the fragment or its block is deleted. */
function topLevelItem(type: Y.AbstractType<unknown>, fragment: Y.XmlFragment): Y.Item | null {
  let current: Y.AbstractType<unknown> = type;
  while (current._item !== null) {
    const item: Y.Item = current._item;
    if (item.parent === (fragment as Y.AbstractType<unknown>)) return item.deleted ? null : item;
    if (!(item.parent instanceof Y.AbstractType)) return null;
    current = item.parent as Y.AbstractType<unknown>;
  }
  return null;
}

function itemName(item: Y.Item): string {
  return `${item.id.client}:${item.id.clock}`;
}
