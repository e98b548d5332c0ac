import type { Extensions } from '@tiptap/core';
import { ScreenplayCapitals } from '../src/screenplay/capitals.ts';
import { Autocomplete } from './autocomplete.ts';
import { PageBreaks } from './pageBreaks.ts';
import { ScreenplayKeymap } from './screenplayKeymap.ts';

/**
 * What the drafting aids need to know about the script around one scene editor. The script view
 * derives both lists from the scenes it holds with `scriptVocabulary` (web/scriptVocabulary.ts);
 * they are read each time the list opens, so they may change.
 */
export interface DraftingContext {
  /** The script's character names (cues without extensions), most used first, for autocomplete. */
  characterNames(): readonly string[];
  /** The locations of the script's scene headings, most used first; none when absent. */
  locations?(): readonly string[];
}

/**
 * The page's drafting aids, added to every scene editor after the screenplay schema and
 * collaboration: the Enter/Tab/shortcut keymap (web/screenplayKeymap.ts), capitals in headings,
 * cues and transitions (src/screenplay/capitals.ts), autocomplete (web/autocomplete.ts) and the
 * page break markers the script view sets (web/pageBreaks.ts, `showPageBreaks`).
 */
export function draftingExtensions(context: DraftingContext): Extensions {
  return [
    ScreenplayKeymap,
    ScreenplayCapitals,
    Autocomplete.configure({
      sources: () => ({ characterNames: context.characterNames(), locations: context.locations?.() ?? [] }),
    }),
    PageBreaks,
  ];
}
