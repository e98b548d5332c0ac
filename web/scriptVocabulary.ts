/**
 * What autocomplete offers from the script itself: its character names, most used first, and the
 * locations of its scene headings. Pure, from the scenes' REST blocks (as web/scriptPages.ts takes
 * them), so the script view computes it from what it already holds.
 */
import type { RestBlock } from '../src/screenplay/restBlocks.ts';
import { toCapitals } from '../src/screenplay/capitals.ts';

export interface ScriptVocabulary {
  /** Cue names without extensions ("MAYA", not "MAYA (V.O.)"), most cues first, then first seen. */
  characterNames: string[];
  /** Heading locations ("KITCHEN" of "INT. KITCHEN - NIGHT"), most used first. */
  locations: string[];
}

/** Scene heading prefixes, longest first so that "INT./EXT." is not read as "INT.". */
export const HEADING_PREFIXES = ['INT./EXT.', 'EXT./INT.', 'I/E.', 'INT.', 'EXT.', 'EST.'] as const;

/** A cue's name: capitals, without "(V.O.)", "(CONT'D)" and other extensions. */
export function cueName(text: string): string {
  return toCapitals(text.replace(/\(.*$/s, '')).replace(/\s+/g, ' ').trim();
}

/** A heading's location: after its prefix, before the last " - " (the time of day); null when it has no prefix. */
export function headingLocation(text: string): string | null {
  const heading = toCapitals(text).replace(/\s+/g, ' ').trim();
  const prefix = HEADING_PREFIXES.find((p) => heading.startsWith(`${p} `));
  if (prefix === undefined) return null;
  const rest = heading.slice(prefix.length + 1);
  const dash = rest.lastIndexOf(' - ');
  const location = (dash === -1 ? rest : rest.slice(0, dash)).trim();
  return location === '' ? null : location;
}

/** Each distinct value, most frequent first, then in the order first seen; empty values dropped. */
function byUse(values: Iterable<string | null>): string[] {
  const counts = new Map<string, number>();
  for (const value of values) if (value) counts.set(value, (counts.get(value) ?? 0) + 1);
  // Map keeps first-seen order; a stable sort keeps it among equal counts.
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([value]) => value);
}

/** The names of these cues (their texts), most used first. */
export function characterNamesByUse(cues: Iterable<string>): string[] {
  return byUse([...cues].map(cueName));
}

/** The locations of these scene headings (their texts), most used first. */
export function locationsByUse(headings: Iterable<string>): string[] {
  return byUse([...headings].map(headingLocation));
}

export function scriptVocabulary(scenes: readonly { blocks: readonly RestBlock[] }[]): ScriptVocabulary {
  const cues: string[] = [];
  const headings: string[] = [];
  for (const scene of scenes) {
    for (const block of scene.blocks) {
      if (block.type === 'character') cues.push(block.text ?? '');
      else if (block.type === 'dialogue' && typeof block.character === 'string') cues.push(block.character);
      else if (block.type === 'scene_heading') headings.push(block.text ?? '');
    }
  }
  return { characterNames: characterNamesByUse(cues), locations: locationsByUse(headings) };
}
