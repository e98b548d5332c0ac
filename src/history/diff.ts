// The block-level difference between two versions of a scene's REST blocks: a pure function of the
// two lists (src/history/diffs.ts resolves the points and hands it the blocks).
import { diffArrays, diffWordsWithSpace } from 'diff';
import { canonicalizeBlocks, type CanonicalRestBlock } from '../screenplay/index.ts';

/**
 * A changed stretch of a block's text: `before.text[from, to)` became `after.text[new_from, new_to)`.
 * Offsets are UTF-16 code units, as the marks count them. Stretches are whole words (jsdiff's
 * `diffWordsWithSpace`: words, runs of whitespace and punctuation are the tokens), so "NIGHT" ->
 * "DAWN" is one replaced word rather than letters kept by chance, and no stretch splits a
 * surrogate pair.
 */
export interface TextRange {
  from: number;
  to: number;
  new_from: number;
  new_to: number;
  removed: string;
  inserted: string;
}

/** A block present in both versions with different content (matched by its id, or by position among its neighbours). */
export interface ChangedBlock {
  /** Its index in the older blocks. */
  from_index: number;
  /** Its index in the newer blocks. */
  to_index: number;
  before: CanonicalRestBlock;
  after: CanonicalRestBlock;
  /** The fields whose values differ (`text`, `type`, `marks`, `metadata`, ...), sorted. */
  fields: string[];
  /** Where the text differs, in order; empty when only other fields changed. */
  text: TextRange[];
}

export interface BlockDiff {
  /** Blocks only the newer version has, by their index there. */
  added: Array<{ index: number; block: CanonicalRestBlock }>;
  /** Blocks only the older version has, by their index there. */
  removed: Array<{ index: number; block: CanonicalRestBlock }>;
  changed: ChangedBlock[];
  /** Blocks equal in both, in the same order relative to each other. */
  unchanged: number;
}

/** One side's blocks with what the matching compares. */
interface Side {
  blocks: readonly CanonicalRestBlock[];
  /** Canonical JSON of each block: equal strings, equal blocks. */
  keys: string[];
  /** A block's string id when no other block of its side has it, else null. */
  ids: Array<string | null>;
}

/**
 * The difference from `before` to `after`. Blocks are matched by a stable id first: a block's
 * string `id` (the node's `blockId`) that occurs once in each list. Blocks without one (the editor
 * does not give new blocks ids) are matched by the longest common subsequence of the two lists
 * (jsdiff's `diffArrays`, Myers' algorithm), equal content counting as the same block; between two
 * matched stretches, the blocks left over pair up in order by type (an edited line), and the rest
 * are added or removed. So `diffBlocks(a, a)` is empty, and `applyBlockDiff(a, diffBlocks(a, b))`
 * gives `b`.
 */
export function diffBlocks(before: readonly CanonicalRestBlock[], after: readonly CanonicalRestBlock[]): BlockDiff {
  const old = sideOf(before);
  const neu = sideOf(after);
  const result: BlockDiff = { added: [], removed: [], changed: [], unchanged: 0 };

  // Blocks with a unique id on both sides are the same block wherever they are; the rest are the
  // same block when their content is equal.
  const sameBlock = (i: number, j: number): boolean => {
    const oldId = old.ids[i]!;
    const newId = neu.ids[j]!;
    if (oldId !== null || newId !== null) return oldId === newId;
    return old.keys[i] === neu.keys[j];
  };
  const parts = diffArrays(indices(before.length), indices(after.length), { comparator: sameBlock });

  const leftOld: number[][] = [];
  const leftNew: number[][] = [];
  let region = 0;
  let i = 0;
  let j = 0;
  for (const part of parts) {
    if (part.added) {
      (leftNew[region] ??= []).push(...part.value);
      j += part.value.length;
    } else if (part.removed) {
      (leftOld[region] ??= []).push(...part.value);
      i += part.value.length;
    } else {
      for (let k = 0; k < part.value.length; k += 1) pairBlocks(result, old, neu, i + k, j + k);
      i += part.value.length;
      j += part.value.length;
      region += 1;
    }
  }

  // An id'd block that moved past others is left over on both sides: still one block.
  const newById = new Map<string, number>();
  for (const list of leftNew) for (const index of list ?? []) if (neu.ids[index] !== null) newById.set(neu.ids[index]!, index);
  const movedNew = new Set<number>();
  const movedOld = new Set<number>();
  for (const list of leftOld) {
    for (const index of list ?? []) {
      const id = old.ids[index];
      const match = id == null ? undefined : newById.get(id);
      if (match === undefined) continue;
      movedOld.add(index);
      movedNew.add(match);
      pairBlocks(result, old, neu, index, match, true);
    }
  }

  for (let r = 0; r <= region; r += 1) {
    const olds = (leftOld[r] ?? []).filter((index) => !movedOld.has(index));
    const news = (leftNew[r] ?? []).filter((index) => !movedNew.has(index));
    // Between two matched stretches, blocks without ids pair up in order by type: an edited line is
    // one changed block, not a removal and an addition.
    const inner = diffArrays(olds, news, {
      comparator: (a: number, b: number) => old.ids[a] === null && neu.ids[b] === null && before[a]!.type === after[b]!.type,
    });
    let a = 0;
    let b = 0;
    for (const part of inner) {
      if (part.added) {
        for (const index of part.value) result.added.push({ index, block: after[index]! });
        b += part.value.length;
      } else if (part.removed) {
        for (const index of part.value) result.removed.push({ index, block: before[index]! });
        a += part.value.length;
      } else {
        for (let k = 0; k < part.value.length; k += 1) pairBlocks(result, old, neu, olds[a + k]!, news[b + k]!);
        a += part.value.length;
        b += part.value.length;
      }
    }
  }

  result.added.sort((x, y) => x.index - y.index);
  result.removed.sort((x, y) => x.index - y.index);
  result.changed.sort((x, y) => x.to_index - y.to_index);
  return result;
}

/** True when the diff changes nothing. */
export function isEmptyDiff(diff: BlockDiff): boolean {
  return diff.added.length === 0 && diff.removed.length === 0 && diff.changed.length === 0;
}

/**
 * The newer blocks rebuilt from the older ones and their diff: added and changed blocks at their
 * new indices, the unchanged ones (the older blocks neither removed nor changed) in order in the
 * slots left. The inverse of `diffBlocks`, and what its tests check it against.
 */
export function applyBlockDiff(before: readonly CanonicalRestBlock[], diff: BlockDiff): CanonicalRestBlock[] {
  const length = before.length - diff.removed.length + diff.added.length;
  const out = new Array<CanonicalRestBlock | undefined>(length).fill(undefined);
  for (const { index, block } of diff.added) out[index] = block;
  for (const change of diff.changed) out[change.to_index] = change.after;
  const gone = new Set([...diff.removed.map((entry) => entry.index), ...diff.changed.map((change) => change.from_index)]);
  const kept = before.filter((_, index) => !gone.has(index));
  let next = 0;
  for (let slot = 0; slot < length; slot += 1) {
    if (out[slot] === undefined) out[slot] = kept[next++];
  }
  if (next !== kept.length || out.some((block) => block === undefined)) throw new RangeError('the diff does not fit these blocks');
  return out as CanonicalRestBlock[];
}

/** `text` with the ranges of a changed block applied: its `after.text` when the ranges are right. */
export function applyTextRanges(text: string, ranges: readonly TextRange[]): string {
  let out = '';
  let at = 0;
  for (const range of ranges) {
    out += text.slice(at, range.from) + range.inserted;
    at = range.to;
  }
  return out + text.slice(at);
}

/** Where two texts differ, as ranges of both (UTF-16 offsets), adjacent removals and insertions joined. */
export function textRanges(before: string, after: string): TextRange[] {
  const ranges: TextRange[] = [];
  let oldAt = 0;
  let newAt = 0;
  let open: TextRange | null = null;
  for (const part of diffWordsWithSpace(before, after)) {
    if (!part.added && !part.removed) {
      if (open) ranges.push(open);
      open = null;
      oldAt += part.value.length;
      newAt += part.value.length;
      continue;
    }
    open ??= { from: oldAt, to: oldAt, new_from: newAt, new_to: newAt, removed: '', inserted: '' };
    if (part.added) {
      open.inserted += part.value;
      newAt += part.value.length;
      open.new_to = newAt;
    } else {
      open.removed += part.value;
      oldAt += part.value.length;
      open.to = oldAt;
    }
  }
  if (open) ranges.push(open);
  return ranges;
}

/**
 * Records a matched pair. Pairs found in order (the common subsequence, and the pairs by type
 * between its stretches) keep their order relative to each other, so an equal pair there is
 * unchanged. A pair matched by id across others (`moved`) stays a change even when its content is
 * equal (no differing field: only its place changed), so the unchanged blocks are always in order.
 */
function pairBlocks(result: BlockDiff, old: Side, neu: Side, i: number, j: number, moved = false): void {
  if (!moved && old.keys[i] === neu.keys[j]) {
    result.unchanged += 1;
    return;
  }
  const before = old.blocks[i]!;
  const after = neu.blocks[j]!;
  result.changed.push({ from_index: i, to_index: j, before, after, fields: differingFields(before, after), text: textRanges(before.text, after.text) });
}

function differingFields(before: CanonicalRestBlock, after: CanonicalRestBlock): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((key) => canonicalJson(before[key]) !== canonicalJson(after[key])).sort();
}

function sideOf(blocks: readonly CanonicalRestBlock[]): Side {
  const canonical = canonicalizeBlocks(blocks);
  const counts = idCounts(blocks);
  return {
    blocks,
    keys: canonical.map((block) => JSON.stringify(block)),
    ids: blocks.map((block) => (typeof block.id === 'string' && counts.get(block.id) === 1 ? block.id : null)),
  };
}

function idCounts(blocks: readonly CanonicalRestBlock[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const block of blocks) if (typeof block.id === 'string') counts.set(block.id, (counts.get(block.id) ?? 0) + 1);
  return counts;
}

function canonicalJson(value: unknown): string {
  if (value === undefined) return 'undefined';
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]));
  }
  return value;
}

function indices(length: number): number[] {
  return Array.from({ length }, (_, index) => index);
}
