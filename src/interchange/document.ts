// The one value a whole script is while it is imported or exported (Fountain, FDX, PDF).
// Shared by every format module of src/interchange (see its README for the element conventions).
import type { CanonicalRestBlock } from '../screenplay/restBlocks.ts';

export interface ScreenplayDocument {
  title: string;
  /** Title page fields, lower-case keys: title, credit, author, source, draft_date, contact, notes, copyright, ... */
  titlePage: Record<string, string>;
  scenes: ScreenplayScene[];
}

export interface ScreenplayScene {
  sceneId?: string;
  /** The scene's blocks in order; the first is its scene_heading, except for the text before the first heading. */
  blocks: CanonicalRestBlock[];
}
