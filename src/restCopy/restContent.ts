// What a scene's REST copy (`scenes.content_blocks`) holds, judged before it is compared with the
// Yjs state or turned into a seed. Pure: no database, no clock.
import { checksumBlocks } from '../screenplay/checksum.ts';
import { getScreenplayConverter, type ScreenplayConverter } from '../screenplay/convert.ts';
import { InvalidRestBlocksError } from '../screenplay/errors.ts';
import { canonicalizeBlocks, type CanonicalRestBlock } from '../screenplay/restBlocks.ts';

/** Why REST content cannot be used: the converters' error codes, or `MISMATCH` after a round trip. */
export interface RestContentProblem {
  code: string;
  message: string;
  /** The first block that differs after REST -> Yjs -> REST, for `MISMATCH`. */
  blockIndex?: number;
}

export type RestContent =
  | { kind: 'empty' }
  | { kind: 'valid'; blocks: CanonicalRestBlock[]; blockCount: number; checksum: string }
  | { kind: 'invalid'; blockCount: number | null; problem: RestContentProblem };

/** REST content ready to seed a scene: the round trip was verified before anything is stored. */
export type SeedPreparation =
  | { kind: 'empty' }
  | { kind: 'valid'; blocks: CanonicalRestBlock[]; blockCount: number; checksum: string; update: Uint8Array }
  | { kind: 'invalid'; blockCount: number | null; problem: RestContentProblem };

function notAnArray(content: unknown): RestContentProblem {
  const type = content === null ? 'null' : typeof content;
  return { code: 'INVALID_REST_BLOCKS', message: `content_blocks is ${type}, not an array of blocks` };
}

/**
 * The REST copy in canonical form, for comparisons and checksums. Cheap: validation only, no Yjs.
 * `[]` is an empty scene; anything that is not a valid block list is `invalid` (never thrown).
 */
export function readRestContent(content: unknown): RestContent {
  if (!Array.isArray(content)) return { kind: 'invalid', blockCount: null, problem: notAnArray(content) };
  if (content.length === 0) return { kind: 'empty' };
  try {
    const blocks = canonicalizeBlocks(content);
    return { kind: 'valid', blocks, blockCount: blocks.length, checksum: checksumBlocks(blocks) };
  } catch (error) {
    if (error instanceof InvalidRestBlocksError) {
      return { kind: 'invalid', blockCount: content.length, problem: { code: error.code, message: error.message } };
    }
    throw error;
  }
}

/**
 * The seed update for the REST copy, after proving that it decodes back to the same canonical
 * blocks (architecture document 11.2 step 5). Content that fails is `invalid` and must never be
 * seeded: a lossy seed would become the scene's source of truth. The update is deterministic
 * (its client id derives from the content), so two instances preparing the same scene produce the
 * same bytes.
 */
export function prepareSeed(content: unknown, converter: ScreenplayConverter = getScreenplayConverter()): SeedPreparation {
  if (!Array.isArray(content)) return { kind: 'invalid', blockCount: null, problem: notAnArray(content) };
  if (content.length === 0) return { kind: 'empty' };
  const report = converter.verifyRestRoundTrip(content);
  if (!report.ok) {
    const problem: RestContentProblem = { code: report.reason, message: report.message };
    if (report.blockIndex !== undefined) problem.blockIndex = report.blockIndex;
    return { kind: 'invalid', blockCount: content.length, problem };
  }
  return {
    kind: 'valid',
    blocks: report.blocks,
    blockCount: report.blocks.length,
    checksum: checksumBlocks(report.blocks),
    update: report.update,
  };
}
