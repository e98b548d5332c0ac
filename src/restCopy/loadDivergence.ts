// Whether a scene's Yjs state and its REST copy say the same thing, compared in canonical form.
// Load-time validation reports it; the divergence detector (a later job) can reuse the same
// functions over many scenes.
import type * as Y from 'yjs';
import { checksumBlocks } from '../screenplay/checksum.ts';
import { getScreenplayConverter, type ScreenplayConverter } from '../screenplay/convert.ts';
import { InvalidRestBlocksError, ScreenplayConversionError } from '../screenplay/errors.ts';
import { canonicalizeBlocks, type CanonicalRestBlock } from '../screenplay/restBlocks.ts';
import type { RestContent, RestContentProblem } from './restContent.ts';

/** The Yjs side, read through the converter (which refuses content it cannot represent). */
export type YjsContent =
  | { kind: 'readable'; blocks: CanonicalRestBlock[] }
  | { kind: 'unreadable'; problem: RestContentProblem };

export type DivergenceStatus = 'in-sync' | 'diverged' | 'yjs-unreadable' | 'rest-invalid';

export interface DivergenceReport {
  status: DivergenceStatus;
  yjsBlockCount: number | null;
  restBlockCount: number | null;
  /** SHA-256 of the canonical blocks (`checksumBlocks`), comparable with `scenes.yjs_checksum`. */
  yjsChecksum: string | null;
  restChecksum: string | null;
  /** For `diverged`: the index of the first block that differs (a block count difference counts). */
  firstDifferentBlock: number | null;
  /** For `yjs-unreadable` and `rest-invalid`: why that side could not be compared. */
  problem: RestContentProblem | null;
}

/** Reads the `default` fragment as canonical REST blocks; never modifies the document. */
export function readYjsContent(ydoc: Y.Doc, converter: ScreenplayConverter = getScreenplayConverter()): YjsContent {
  try {
    // The converter emits its output field order; comparisons need the canonical (key-sorted) form.
    return { kind: 'readable', blocks: canonicalizeBlocks(converter.yDocToRestBlocks(ydoc)) };
  } catch (error) {
    if (error instanceof ScreenplayConversionError || error instanceof InvalidRestBlocksError) {
      return { kind: 'unreadable', problem: { code: error.code, message: error.message } };
    }
    throw error;
  }
}

/** Index of the first block that differs, or null when both lists are equal. Inputs are canonical. */
export function firstDifferentBlock(a: readonly CanonicalRestBlock[], b: readonly CanonicalRestBlock[]): number | null {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i += 1) {
    if (i >= a.length || i >= b.length) return i;
    if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return i;
  }
  return null;
}

/** Compares the two sides; both are already in canonical form, so equal content hashes equal. */
export function compareContent(yjs: YjsContent, rest: RestContent): DivergenceReport {
  const yjsBlocks = yjs.kind === 'readable' ? yjs.blocks : null;
  const yjsChecksum = yjsBlocks === null ? null : checksumBlocks(yjsBlocks);
  const restBlocks = rest.kind === 'valid' ? rest.blocks : rest.kind === 'empty' ? [] : null;
  const base = {
    yjsBlockCount: yjsBlocks?.length ?? null,
    restBlockCount: rest.kind === 'valid' ? rest.blockCount : rest.kind === 'empty' ? 0 : rest.blockCount,
    yjsChecksum,
    restChecksum: rest.kind === 'valid' ? rest.checksum : restBlocks === null ? null : checksumBlocks(restBlocks),
  };
  if (yjs.kind === 'unreadable') return { status: 'yjs-unreadable', ...base, firstDifferentBlock: null, problem: yjs.problem };
  if (rest.kind === 'invalid') return { status: 'rest-invalid', ...base, firstDifferentBlock: null, problem: rest.problem };
  const differs = firstDifferentBlock(yjsBlocks!, restBlocks!);
  return { status: differs === null ? 'in-sync' : 'diverged', ...base, firstDifferentBlock: differs, problem: null };
}
