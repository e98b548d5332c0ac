// What both file formats share once they have blocks: cutting a script into scenes at each scene
// heading, and the script's title from its title page.
import type { CanonicalRestBlock } from '../screenplay/index.ts';
import type { ScreenplayScene } from './document.ts';

/** One scene per scene heading; the blocks before the first heading are a scene of their own. */
export function scenesOfBlocks(blocks: readonly CanonicalRestBlock[]): ScreenplayScene[] {
  const scenes: ScreenplayScene[] = [];
  for (const block of blocks) {
    if (block.type === 'scene_heading' || scenes.length === 0) scenes.push({ blocks: [] });
    scenes[scenes.length - 1].blocks.push(block);
  }
  return scenes;
}

/** The title page's title on one line ('' when it has none). */
export function titleOfTitlePage(titlePage: Record<string, string>): string {
  return (titlePage.title ?? '').split('\n').map((line) => line.trim()).filter((line) => line !== '').join(' ');
}
