import type * as Y from 'yjs';
import {
  canonicalizeBlocks,
  checksumBlocks,
  getScreenplayConverter,
  InvalidRestBlocksError,
  ScreenplayConversionError,
  type CanonicalRestBlock,
  type ScreenplayConverter,
} from '../screenplay/index.ts';

/**
 * Whether a scene's Yjs state and its REST copy say the same thing (section 4.5), as pure
 * functions: what differs, why, how bad it is and what to do. The divergence detector, the
 * load-time check and the migration's verification all compare through `compareSceneContent`, so
 * there is one report and one vocabulary of causes. Both sides are put in canonical form first,
 * so key order or `null` versus absent never counts as a difference.
 */

export type DivergenceSeverity = 'minor' | 'moderate' | 'critical';

export type DivergenceCause =
  /** Same content. */
  | 'in_sync'
  /** No Yjs log yet: the REST copy is still the source of truth, there is nothing to compare. */
  | 'no_yjs_log'
  /** The REST copy is intact but older than the log: the next snapshot fixes it. Expected. */
  | 'snapshot_lag'
  /** The REST copy no longer matches the checksum its snapshot recorded: written behind the snapshot's back. */
  | 'rest_modified'
  /** The REST copy claims the log's latest state but holds different content. */
  | 'content_mismatch'
  /** The REST copy is not a valid block list. */
  | 'invalid_rest'
  /** The Yjs state cannot be converted to blocks without loss. */
  | 'yjs_unreadable';

/**
 * A REST copy that is intact and only behind the log: the next snapshot brings it up to date.
 * Every report calls it "lagging" (the divergence sweep's `scenes_lagging`, the migration's
 * verification), and none counts it as divergence.
 */
export function isLagging(cause: DivergenceCause): boolean {
  return cause === 'snapshot_lag';
}

export type RecommendedAction = 'none' | 'create_snapshot' | 'auto_repair_prefer_yjs' | 'investigate_yjs_state';

/** Causes that are real divergence (counted in the divergence rate); lag is only lag. */
export const DIVERGENT_CAUSES: ReadonlySet<DivergenceCause> = new Set(['rest_modified', 'content_mismatch', 'invalid_rest', 'yjs_unreadable']);

export interface BlockPreview {
  type: string;
  text: string;
  /** True when `text` was cut to keep the report small. */
  truncated: boolean;
}

export interface BlockDiffEntry {
  /** `only_in_yjs`: the REST copy lacks it; `only_in_rest`: the Yjs state lacks it. */
  op: 'only_in_yjs' | 'only_in_rest' | 'changed';
  yjs_index: number | null;
  rest_index: number | null;
  yjs: BlockPreview | null;
  rest: BlockPreview | null;
}

export interface BlockDiff {
  only_in_yjs: number;
  only_in_rest: number;
  changed: number;
  /** At most `maxEntries`, in document order. */
  entries: BlockDiffEntry[];
  /** More differences exist than `entries` shows. */
  truncated: boolean;
}

export interface DiffOptions {
  maxEntries: number;
  maxTextChars: number;
  /** Above this many LCS cells (after trimming the common ends) blocks are compared by position. */
  maxCells: number;
}

export const DEFAULT_DIFF_OPTIONS: DiffOptions = { maxEntries: 20, maxTextChars: 120, maxCells: 1_000_000 };

type Op = { kind: 'same' } | { kind: 'yjs'; index: number } | { kind: 'rest'; index: number };

/**
 * A block-level diff of two canonical block lists (`canonicalizeBlocks`), bounded in size. The longest common subsequence of the two block lists
 * (compared as canonical JSON) aligns them; within each run of differences the k-th block only in
 * Yjs is paired with the k-th block only in REST as a change, the rest are insertions or deletions.
 */
export function diffBlocks(
  yjs: readonly CanonicalRestBlock[],
  rest: readonly CanonicalRestBlock[],
  options: Partial<DiffOptions> = {},
): BlockDiff {
  const { maxEntries, maxTextChars, maxCells } = { ...DEFAULT_DIFF_OPTIONS, ...options };
  const a = yjs.map((block) => JSON.stringify(block));
  const b = rest.map((block) => JSON.stringify(block));

  let prefix = 0;
  while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix += 1;
  let suffix = 0;
  while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix += 1;

  const ops: Op[] = [];
  const aMid = a.slice(prefix, a.length - suffix);
  const bMid = b.slice(prefix, b.length - suffix);
  if ((aMid.length + 1) * (bMid.length + 1) <= maxCells) {
    lcsOps(aMid, bMid, prefix, ops);
  } else {
    // Too large to align: position by position. Still exact counts of what differs, only the
    // pairing is cruder.
    const common = Math.min(aMid.length, bMid.length);
    for (let i = 0; i < common; i += 1) {
      if (aMid[i] === bMid[i]) ops.push({ kind: 'same' });
      else ops.push({ kind: 'yjs', index: prefix + i }, { kind: 'rest', index: prefix + i });
    }
    for (let i = common; i < aMid.length; i += 1) ops.push({ kind: 'yjs', index: prefix + i });
    for (let i = common; i < bMid.length; i += 1) ops.push({ kind: 'rest', index: prefix + i });
  }

  const preview = (block: CanonicalRestBlock | undefined): BlockPreview | null =>
    block === undefined
      ? null
      : { type: block.type, text: block.text.slice(0, maxTextChars), truncated: block.text.length > maxTextChars };

  const diff: BlockDiff = { only_in_yjs: 0, only_in_rest: 0, changed: 0, entries: [], truncated: false };
  const push = (entry: BlockDiffEntry) => {
    if (diff.entries.length < maxEntries) diff.entries.push(entry);
    else diff.truncated = true;
  };
  let run: { yjs: number[]; rest: number[] } = { yjs: [], rest: [] };
  const flush = () => {
    const paired = Math.min(run.yjs.length, run.rest.length);
    for (let k = 0; k < Math.max(run.yjs.length, run.rest.length); k += 1) {
      const yi = run.yjs[k];
      const ri = run.rest[k];
      const op = k < paired ? 'changed' : yi !== undefined ? 'only_in_yjs' : 'only_in_rest';
      if (op === 'changed') diff.changed += 1;
      else if (op === 'only_in_yjs') diff.only_in_yjs += 1;
      else diff.only_in_rest += 1;
      push({
        op,
        yjs_index: yi ?? null,
        rest_index: ri ?? null,
        yjs: yi === undefined ? null : preview(yjs[yi]),
        rest: ri === undefined ? null : preview(rest[ri]),
      });
    }
    run = { yjs: [], rest: [] };
  };
  for (const op of ops) {
    if (op.kind === 'same') flush();
    else if (op.kind === 'yjs') run.yjs.push(op.index);
    else run.rest.push(op.index);
  }
  flush();
  return diff;
}

function lcsOps(a: readonly string[], b: readonly string[], offset: number, out: Op[]): void {
  const n = a.length;
  const m = b.length;
  const width = m + 1;
  // lengths[i][j] = LCS length of a[i..] and b[j..], flattened.
  const lengths = new Int32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lengths[i * width + j] =
        a[i] === b[j] ? lengths[(i + 1) * width + j + 1]! + 1 : Math.max(lengths[(i + 1) * width + j]!, lengths[i * width + j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ kind: 'same' });
      i += 1;
      j += 1;
    } else if (lengths[(i + 1) * width + j]! >= lengths[i * width + j + 1]!) {
      out.push({ kind: 'yjs', index: offset + i });
      i += 1;
    } else {
      out.push({ kind: 'rest', index: offset + j });
      j += 1;
    }
  }
  for (; i < n; i += 1) out.push({ kind: 'yjs', index: offset + i });
  for (; j < m; j += 1) out.push({ kind: 'rest', index: offset + j });
}

/** What is known about one scene when its two sides are compared. */
export interface DivergenceFacts {
  sceneId: string;
  hasYjsLog: boolean;
  /** Blocks of the Yjs state (any key order); null when it could not be converted. */
  yjsBlocks: CanonicalRestBlock[] | null;
  /** Why the Yjs state could not be converted (`describeUnconvertible`); null when it could. */
  yjsError: string | null;
  /** The sequence number the Yjs blocks were derived from. */
  yjsSeq: bigint | null;
  /** `scenes.content_blocks` as stored (untrusted). */
  restBlocks: unknown;
  /** `scenes.snapshot_seq`. */
  restSnapshotSeq: bigint | null;
  /** `scenes.yjs_checksum`: what the last snapshot wrote. */
  restRecordedChecksum: string | null;
  /** `scenes.yjs_derived`. */
  restYjsDerived: boolean;
  checkedAt: Date;
}

/** Section 4.5's report, as the HTTP routes return it, with the sequence numbers each side was derived from. */
export interface DivergenceReport {
  scene_id: string;
  diverged: boolean;
  cause: DivergenceCause;
  yjs_block_count: number;
  rest_block_count: number;
  /** SHA-256 of the canonical blocks (`checksumBlocks`), comparable with `scenes.yjs_checksum`. */
  yjs_checksum: string | null;
  rest_checksum: string | null;
  /** The log state the Yjs side was derived from; null without a log. */
  yjs_seq: number | null;
  /** `scenes.snapshot_seq` of the REST copy compared. */
  rest_snapshot_seq: number | null;
  diff: BlockDiff | null;
  severity: DivergenceSeverity | null;
  recommended_action: RecommendedAction;
  /** Set when the Yjs state could not be converted. */
  yjs_error: string | null;
  /** Set when the REST copy is not a valid block list. */
  rest_error: string | null;
  checked_at: string;
}

/** `CODE: message` of a conversion that refused content, as `yjs_error` and `rest_error` say it; anything else is rethrown. */
export function describeUnconvertible(error: unknown): string {
  if (error instanceof ScreenplayConversionError || error instanceof InvalidRestBlocksError) return `${error.code}: ${error.message}`;
  throw error;
}

/** The Yjs side of a comparison, read from a document (the `default` fragment) without changing it. */
export function readYjsSide(
  ydoc: Y.Doc,
  converter: ScreenplayConverter = getScreenplayConverter(),
): Pick<DivergenceFacts, 'yjsBlocks' | 'yjsError'> {
  try {
    return { yjsBlocks: converter.yDocToRestBlocks(ydoc), yjsError: null };
  } catch (error) {
    return { yjsBlocks: null, yjsError: describeUnconvertible(error) };
  }
}

export function compareSceneContent(facts: DivergenceFacts, options: Partial<DiffOptions> = {}): DivergenceReport {
  let restCanonical: CanonicalRestBlock[] | null = null;
  let restError: string | null = null;
  try {
    restCanonical = canonicalizeBlocks(facts.restBlocks);
  } catch (error) {
    restError = describeUnconvertible(error);
  }
  // The converters emit their own field order; the diff compares JSON text, so both sides go
  // through the same canonical form (sorted keys) first.
  const yjsCanonical = facts.yjsBlocks === null ? null : canonicalizeBlocks(facts.yjsBlocks);
  const yjsChecksum = yjsCanonical === null ? null : checksumBlocks(yjsCanonical);
  const restChecksum = restCanonical === null ? null : checksumBlocks(restCanonical);
  const cause = classifyCause({
    hasYjsLog: facts.hasYjsLog,
    yjsReadable: yjsCanonical !== null,
    restValid: restCanonical !== null,
    checksumsEqual: yjsChecksum !== null && yjsChecksum === restChecksum,
    restDiffersFromRecordedChecksum: facts.restRecordedChecksum !== null && restChecksum !== facts.restRecordedChecksum,
    restYjsDerived: facts.restYjsDerived,
    restBehindLog: facts.restSnapshotSeq === null || (facts.yjsSeq !== null && facts.restSnapshotSeq < facts.yjsSeq),
  });
  const diverged = cause !== 'in_sync' && cause !== 'no_yjs_log';
  const diff =
    diverged && yjsCanonical !== null && restCanonical !== null ? diffBlocks(yjsCanonical, restCanonical, options) : null;
  const yjsCount = yjsCanonical?.length ?? 0;
  const restCount = Array.isArray(facts.restBlocks) ? facts.restBlocks.length : 0;
  const severity = severityFor(cause, { yjsBlockCount: yjsCount, restBlockCount: restCount, diff });
  return {
    scene_id: facts.sceneId,
    diverged,
    cause,
    yjs_block_count: yjsCount,
    rest_block_count: restCount,
    yjs_checksum: yjsChecksum,
    rest_checksum: restChecksum,
    yjs_seq: facts.yjsSeq === null ? null : Number(facts.yjsSeq),
    rest_snapshot_seq: facts.restSnapshotSeq === null ? null : Number(facts.restSnapshotSeq),
    diff,
    severity,
    recommended_action: recommendedActionFor(cause),
    yjs_error: facts.yjsError,
    rest_error: restError,
    checked_at: facts.checkedAt.toISOString(),
  };
}

/**
 * Index of the first block that differs, or null when the report has no diff. Every block before
 * the diff's first entry is equal on both sides, so that entry's index is the same on either side.
 */
export function firstDifferentBlock(report: Pick<DivergenceReport, 'diff'>): number | null {
  const first = report.diff?.entries[0];
  return first === undefined ? null : (first.yjs_index ?? first.rest_index);
}

export interface CauseFacts {
  hasYjsLog: boolean;
  yjsReadable: boolean;
  restValid: boolean;
  checksumsEqual: boolean;
  /** A snapshot recorded a checksum and the REST copy no longer has it. */
  restDiffersFromRecordedChecksum: boolean;
  restYjsDerived: boolean;
  /** The REST copy was derived from an older log state than the Yjs side (or never from Yjs). */
  restBehindLog: boolean;
}

/** Why the two sides differ. The order matters: a broken side is reported before any comparison. */
export function classifyCause(facts: CauseFacts): DivergenceCause {
  if (!facts.hasYjsLog) return 'no_yjs_log';
  if (!facts.yjsReadable) return 'yjs_unreadable';
  if (!facts.restValid) return 'invalid_rest';
  if (facts.checksumsEqual) return 'in_sync';
  if (facts.restYjsDerived && facts.restDiffersFromRecordedChecksum) return 'rest_modified';
  if (facts.restBehindLog) return 'snapshot_lag';
  return 'content_mismatch';
}

/**
 * How bad it is. Lag is always minor. For real divergence the share of differing blocks decides,
 * except that losing a whole side (one empty, the other not) or an unreadable side is critical.
 */
export function severityFor(
  cause: DivergenceCause,
  sizes: { yjsBlockCount: number; restBlockCount: number; diff: BlockDiff | null },
): DivergenceSeverity | null {
  switch (cause) {
    case 'in_sync':
    case 'no_yjs_log':
      return null;
    case 'snapshot_lag':
      return 'minor';
    case 'invalid_rest':
    case 'yjs_unreadable':
      return 'critical';
    case 'rest_modified':
    case 'content_mismatch': {
      const { yjsBlockCount, restBlockCount, diff } = sizes;
      if ((yjsBlockCount === 0) !== (restBlockCount === 0)) return 'critical';
      const differing = diff ? diff.changed + diff.only_in_yjs + diff.only_in_rest : Math.max(yjsBlockCount, restBlockCount);
      const share = differing / Math.max(1, yjsBlockCount, restBlockCount);
      if (share <= 0.1) return 'minor';
      if (share <= 0.5) return 'moderate';
      return 'critical';
    }
  }
}

export function recommendedActionFor(cause: DivergenceCause): RecommendedAction {
  switch (cause) {
    case 'in_sync':
    case 'no_yjs_log':
      return 'none';
    case 'snapshot_lag':
      return 'create_snapshot';
    case 'rest_modified':
    case 'content_mismatch':
    case 'invalid_rest':
      return 'auto_repair_prefer_yjs';
    case 'yjs_unreadable':
      // Never repair in the REST -> Yjs direction automatically: a person looks at the log.
      return 'investigate_yjs_state';
  }
}

/** Divergence rate as a fraction of checked scenes (lag does not count). */
export function divergenceRate(causes: readonly DivergenceCause[]): number {
  const checked = causes.filter((cause) => cause !== 'no_yjs_log').length;
  if (checked === 0) return 0;
  return causes.filter((cause) => DIVERGENT_CAUSES.has(cause)).length / checked;
}
