// The REST representation of a scene (`scenes.content_blocks`): validation and canonical form.
// Browser-safe: no node: imports.
import { z } from 'zod';
import { InvalidRestBlocksError } from './errors.ts';
import type { RestBlockIssue } from './errors.ts';
import { SCREENPLAY_MARK_TYPES } from './schema.ts';
import type { ScreenplayMarkType } from './schema.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

// Inline formatting as ranges over `text`, half-open [from, to), counted in UTF-16 code units
// (JavaScript string indices, the same unit ProseMirror positions use). A block without
// formatting has no `marks` key at all, so plain scenes stay plain `{type, text}`.
export type RestMark = { type: ScreenplayMarkType; from: number; to: number };

// One element of `content_blocks`. `type` is the only required field. Fields this module knows:
// `text`, `id`, `character` (the architecture document's dialogue form), `metadata` (the
// reliability plan's form) and `marks`; every other field is carried through untouched.
export type RestBlock = {
  type: string;
  text?: string;
  id?: JsonValue;
  character?: string | null;
  metadata?: JsonObject | null;
  marks?: RestMark[] | null;
  [field: string]: JsonValue | RestMark[] | undefined;
};

// What the converters produce, and what canonicalizeBlocks returns (then with sorted keys):
// `text` always present; `character`, `metadata` and `marks` only when they carry something.
export type CanonicalRestBlock = {
  type: string;
  text: string;
  id?: JsonValue;
  character?: string;
  metadata?: JsonObject;
  marks?: RestMark[];
  [field: string]: JsonValue | RestMark[] | undefined;
};

// The fields of a block as the converters see them, after validation and normalisation.
export interface ParsedRestBlock {
  type: string;
  text: string;
  // A string `id`; an id of any other JSON type stays in `extra` under the key `id`.
  id: string | null;
  character: string | null;
  // null when the block had no metadata, `null` metadata or `{}`: all three mean "none".
  metadata: JsonObject | null;
  // Canonical: non-empty, merged per type, sorted.
  marks: RestMark[];
  // Every other top-level field, in input order.
  extra: JsonObject;
}

export const KNOWN_REST_FIELDS = ['type', 'text', 'id', 'character', 'metadata', 'marks'] as const;

const restMarkSchema = z.strictObject({
  type: z.enum(SCREENPLAY_MARK_TYPES),
  from: z.int().nonnegative(),
  to: z.int().nonnegative(),
});

const restBlockSchema = z
  .object({
    type: z.string().min(1, 'must be a non-empty string'),
    text: z.string().optional(),
    id: z.json().optional(),
    character: z.string().nullable().optional(),
    metadata: z.record(z.string(), z.json()).nullable().optional(),
    marks: z.array(restMarkSchema).nullable().optional(),
  })
  .catchall(z.json());

const restBlocksSchema = z.array(restBlockSchema);

// Yjs stores strings as UTF-8, so an unpaired surrogate would silently become U+FFFD on the way
// through a Y.Doc. Strings that reach Yjs as text or as attribute values must be well formed;
// JSON-valued fields are safe because JSON text escapes lone surrogates.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

function isInsideSurrogatePair(text: string, index: number): boolean {
  if (index <= 0 || index >= text.length) return false;
  const before = text.charCodeAt(index - 1);
  const after = text.charCodeAt(index);
  return before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Top-level keys holding `undefined` are treated as absent, as JSON.stringify would; the copy is
// made with Object.fromEntries so that a `__proto__` key stays an ordinary own property.
function withoutUndefinedFields(input: unknown): unknown {
  if (!Array.isArray(input)) return input;
  return input.map((block) =>
    isPlainObject(block) ? Object.fromEntries(Object.entries(block).filter(([, v]) => v !== undefined)) : block,
  );
}

function toIssuePath(path: readonly PropertyKey[]): (string | number)[] {
  return path.map((p) => (typeof p === 'number' ? p : String(p)));
}

// Validates untrusted input and returns the blocks in the converters' normalised form.
// Throws InvalidRestBlocksError listing every problem found.
export function parseRestBlocks(input: unknown): ParsedRestBlock[] {
  const blocks = withoutUndefinedFields(input);
  const result = restBlocksSchema.safeParse(blocks);
  if (!result.success) {
    throw new InvalidRestBlocksError(
      result.error.issues.map((issue) => ({ path: toIssuePath(issue.path), message: issue.message })),
    );
  }
  // zod's output is not used for values: its record parser drops `__proto__` keys, and the
  // input is already known to be JSON.
  const raw = blocks as Record<string, unknown>[];
  const issues: RestBlockIssue[] = [];
  const parsed = raw.map((block, index) => parseValidBlock(block, index, issues));
  if (issues.length > 0) throw new InvalidRestBlocksError(issues);
  return parsed;
}

function parseValidBlock(block: Record<string, unknown>, index: number, issues: RestBlockIssue[]): ParsedRestBlock {
  const type = block.type as string;
  const text = (block.text as string | undefined) ?? '';
  const character = (block.character as string | null | undefined) ?? null;
  const metadata = (block.metadata as JsonObject | null | undefined) ?? null;
  const marks = (block.marks as RestMark[] | null | undefined) ?? [];
  const id = typeof block.id === 'string' ? block.id : null;

  const checkWellFormed = (field: string, value: string | null) => {
    if (value !== null && hasLoneSurrogate(value)) {
      issues.push({ path: [index, field], message: 'contains an unpaired UTF-16 surrogate, which Yjs cannot store' });
    }
  };
  checkWellFormed('type', type);
  checkWellFormed('text', text);
  checkWellFormed('character', character);
  checkWellFormed('id', id);

  marks.forEach((mark, markIndex) => {
    const at = [index, 'marks', markIndex];
    if (mark.from > mark.to) {
      issues.push({ path: at, message: `from (${mark.from}) is after to (${mark.to})` });
    } else if (mark.to > text.length) {
      issues.push({ path: at, message: `to (${mark.to}) is past the end of text (length ${text.length})` });
    } else if (isInsideSurrogatePair(text, mark.from) || isInsideSurrogatePair(text, mark.to)) {
      issues.push({ path: at, message: 'a mark boundary splits a surrogate pair' });
    }
  });

  const extra: JsonObject = Object.fromEntries(
    Object.entries(block).filter(
      ([key, value]) => !(KNOWN_REST_FIELDS as readonly string[]).includes(key) || (key === 'id' && typeof value !== 'string'),
    ),
  ) as JsonObject;

  return {
    type,
    text,
    id,
    character,
    metadata: metadata !== null && Object.keys(metadata).length > 0 ? metadata : null,
    marks: issues.length === 0 ? canonicalMarks(marks) : [],
    extra,
  };
}

const MARK_ORDER: Record<ScreenplayMarkType, number> = Object.fromEntries(
  SCREENPLAY_MARK_TYPES.map((type, i) => [type, i]),
) as Record<ScreenplayMarkType, number>;

// One representation per formatting: for each mark type the union of its ranges, with
// overlapping and touching ranges merged and empty ones dropped, ordered by position.
export function canonicalMarks(marks: readonly RestMark[]): RestMark[] {
  const merged: RestMark[] = [];
  for (const type of SCREENPLAY_MARK_TYPES) {
    const ranges = marks
      .filter((m) => m.type === type && m.to > m.from)
      .map((m) => ({ from: m.from, to: m.to }))
      .sort((a, b) => a.from - b.from || a.to - b.to);
    let current: { from: number; to: number } | null = null;
    for (const range of ranges) {
      if (current !== null && range.from <= current.to) {
        current.to = Math.max(current.to, range.to);
      } else {
        if (current !== null) merged.push({ type, from: current.from, to: current.to });
        current = { ...range };
      }
    }
    if (current !== null) merged.push({ type, from: current.from, to: current.to });
  }
  return merged.sort((a, b) => a.from - b.from || a.to - b.to || MARK_ORDER[a.type] - MARK_ORDER[b.type]);
}

// Reassembles a block in the converters' output shape: known fields first, then the rest.
export function restBlockFromParsed(block: ParsedRestBlock): CanonicalRestBlock {
  const out: CanonicalRestBlock = { type: block.type, text: block.text };
  if (block.id !== null) out.id = block.id;
  if (block.character !== null) out.character = block.character;
  if (block.metadata !== null) out.metadata = block.metadata;
  if (block.marks.length > 0) out.marks = block.marks.map((m) => ({ type: m.type, from: m.from, to: m.to }));
  for (const [key, value] of Object.entries(block.extra)) {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

// Object keys sorted at every depth. Built with Object.fromEntries so that a `__proto__` key is
// kept as data instead of replacing the prototype.
export function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => sortKeysDeep(v)) as T;
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeysDeep(value[key])]),
    ) as T;
  }
  return value;
}

// The canonical form: equal scenes give deep-equal (and JSON-identical) results whatever their
// key order, `null` versus absent optional fields, empty metadata or way of splitting marks.
export function canonicalizeBlocks(blocks: unknown): CanonicalRestBlock[] {
  return parseRestBlocks(blocks).map((block) => sortKeysDeep(restBlockFromParsed(block)));
}

export function canonicalBlocksJSON(blocks: unknown): string {
  return JSON.stringify(canonicalizeBlocks(blocks));
}

export function restBlocksEqual(a: unknown, b: unknown): boolean {
  return canonicalBlocksJSON(a) === canonicalBlocksJSON(b);
}

// Browser-safe twin of checksum.ts's checksumBlocks (WebCrypto is asynchronous); both hash the
// same canonical JSON, so they always agree.
export async function checksumBlocksAsync(blocks: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalBlocksJSON(blocks));
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
