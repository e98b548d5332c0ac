// An imported file as a document: decoded, then read by its format's parser. Pure, so it runs in a
// worker thread (src/workers), away from the event loop serving editors.
import type { ScreenplayDocument } from './document.ts';
import { decodeScreenplayText, type InterchangeFormat } from './errors.ts';
import { parseFdx } from './fdx.ts';
import { parseFountain } from './fountain.ts';

/** Decodes and parses a file; throws InterchangeParseError saying where it broke. */
export function parseScreenplayFile(bytes: Uint8Array, format: InterchangeFormat): ScreenplayDocument {
  const text = decodeScreenplayText(bytes, format);
  return format === 'fdx' ? parseFdx(text) : parseFountain(text);
}
