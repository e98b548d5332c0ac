/**
 * Where the continuous script splits a scene and what a merge appends, decided on the blocks'
 * ProseMirror JSON without the DOM (tested in test/e2e/scriptViewLogic.test.ts). A scene is one
 * heading and what follows it: a heading typed further down starts the next scene.
 */
import type { TiptapNodeJSON } from '../src/screenplay/convert.ts';

export function textOf(node: TiptapNodeJSON): string {
  if (typeof node.text === 'string') return node.text;
  return (node.content ?? []).map(textOf).join('');
}

const isHeading = (node: TiptapNodeJSON) => node.type === 'sceneHeading';

/**
 * The index of the block where the scene splits: the first scene heading with text after the first
 * block, or null. An empty heading is a writer still choosing the element (Enter after a transition
 * gives one): it splits once it has words.
 */
export function splitPoint(blocks: readonly TiptapNodeJSON[]): number | null {
  const index = blocks.findIndex((block, at) => at > 0 && isHeading(block) && textOf(block).trim() !== '');
  return index === -1 ? null : index;
}

/**
 * The blocks a scene merged into the previous one adds at its end: the boundary is gone, so its
 * heading is action from now on (its words kept, nothing is lost), or dropped when it was empty.
 * Keeping it a heading would split the scene off again.
 */
export function mergedBlocks(blocks: readonly TiptapNodeJSON[]): TiptapNodeJSON[] {
  const [first, ...rest] = blocks;
  if (!first || !isHeading(first)) return [...blocks];
  if (textOf(first).trim() === '') return rest;
  return [{ ...first, type: 'action' }, ...rest];
}

/** The text of a scene's first heading, for the navigator: null when it has none with words. */
export function headingOf(blocks: readonly TiptapNodeJSON[]): string | null {
  const heading = blocks.find((block) => isHeading(block) && textOf(block).trim() !== '');
  return heading ? textOf(heading).trim() : null;
}
