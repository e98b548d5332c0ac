/**
 * The scene list's decisions, without the DOM (tested in test/e2e/sceneListLogic.test.ts): where a
 * dragged scene lands, where a new one goes, and what a renamed heading does to a scene's blocks.
 */
import type { RestBlock } from './api.ts';

/**
 * The position (0..count-1) a scene at `from` takes when it is dropped before the scene now at
 * `before` (`count` for the end of the list), or null when the drop leaves it where it is. The
 * server takes the scene's final position: the others close up behind it.
 */
export function dropPosition(from: number, before: number, count: number): number | null {
  if (from < 0 || from >= count || before < 0 || before > count) return null;
  const position = before > from ? before - 1 : before;
  return position === from ? null : position;
}

/**
 * The list after the scene `sceneId` was moved to `position` (clamped to the list), as the server
 * orders it: the page shows a move at once, and the next move is counted from it, not from the
 * last read.
 */
export function movedTo<T extends { sceneUUID: string }>(scenes: readonly T[], sceneId: string, position: number): T[] {
  const from = scenes.findIndex((scene) => scene.sceneUUID === sceneId);
  if (from === -1) return [...scenes];
  const rest = scenes.filter((_, index) => index !== from);
  const to = Math.max(0, Math.min(position, rest.length));
  return [...rest.slice(0, to), scenes[from]!, ...rest.slice(to)];
}

/** Whether a pointer at `offsetY` within an item of height `height` drops before it (upper half) or after it. */
export function dropsBefore(offsetY: number, height: number): boolean {
  return offsetY < height / 2;
}

/** The position of a scene added "after the current one" (at the end when none is open). */
export function positionAfter(current: number | null, count: number): number | undefined {
  return current === null || current >= count - 1 ? undefined : current + 1;
}

/**
 * The blocks of a scene whose heading is renamed: its first scene heading gets the new text (its
 * marks, which name ranges of the old text, go), or the scene starts with one when it has none.
 */
export function withHeading(blocks: readonly RestBlock[], heading: string): RestBlock[] {
  const index = blocks.findIndex((block) => block.type === 'scene_heading');
  if (index === -1) return [{ type: 'scene_heading', text: heading }, ...blocks];
  const { marks: _marks, ...rest } = blocks[index]!;
  return blocks.map((block, at) => (at === index ? { ...rest, text: heading } : block));
}
