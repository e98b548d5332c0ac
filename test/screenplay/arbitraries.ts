// fast-check generators for screenplay content, shared by the property tests.
import fc from 'fast-check';
import { KNOWN_REST_FIELDS } from '../../src/screenplay/restBlocks.ts';
import type { JsonValue, RestBlock, RestMark } from '../../src/screenplay/restBlocks.ts';
import { REST_TO_NODE_TYPE, SCREENPLAY_MARK_TYPES } from '../../src/screenplay/schema.ts';

export const KNOWN_REST_TYPES = Object.keys(REST_TO_NODE_TYPE);

// Text that tends to break converters: astral characters, ZWJ emoji sequences, RTL scripts and
// bidi controls, combining marks, CRLF, tabs, runs of spaces, NBSP.
const trickyChunk = fc.constantFrom(
  '👩‍👩‍👧',
  '🎬',
  '𝒜𝓑',
  '𠜎',
  'שלום',
  'مرحبا بك',
  '\u202eRTL\u202c',
  'e\u0301',
  'n\u0303\u0323',
  '\u200d',
  '\u00a0',
  '\n',
  '\r\n',
  '\t',
  '   ',
  ' ',
  'INT. OFFICE - DAY',
  '(beat)',
  'CUT TO:',
);

export const textArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.oneof(trickyChunk, fc.string({ unit: 'grapheme-ascii', maxLength: 10 })), { maxLength: 6 })
      .map((parts) => parts.join('')),
  },
);

const wellFormedString = (options: { minLength?: number; maxLength?: number } = {}) =>
  fc.oneof(
    fc.string({ unit: 'grapheme-ascii', ...options }),
    fc.string({ unit: 'binary', ...options }),
    fc.constantFrom('JOHN', 'MARÍA', '李', 'שרה', '👩‍🚀 ASTRONAUT'),
  );

export const unknownTypeArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('scene-heading', 'shot', 'note', 'paragraph', 'sceneHeading', '__proto__', 'toString', 'constructor', 'dual_dialogue'),
  wellFormedString({ minLength: 1, maxLength: 12 }).filter((t) => !KNOWN_REST_TYPES.includes(t)),
);

export const typeArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...KNOWN_REST_TYPES) },
  { weight: 1, arbitrary: unknownTypeArb },
);

const jsonArb: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>,
  fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' }) as fc.Arbitrary<JsonValue>,
);

const jsonKeyArb = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'a', 'b'));

export const metadataArb = fc.dictionary(jsonKeyArb, jsonArb, { maxKeys: 4 });

// Field names a REST block may carry that the converters know nothing about, including ones
// that look like the converters' own attribute names.
const extraKeyArb = fc
  .oneof(fc.constantFrom('blockId', 'extraFields', 'restType', 'created_by', 'revision', '__proto__', 'Type', 'TEXT'), fc.string({ maxLength: 8 }))
  .filter((key) => !(KNOWN_REST_FIELDS as readonly string[]).includes(key));

// Offsets at which a mark may start or end: not between the halves of a surrogate pair.
function markBoundaries(text: string): number[] {
  const points = [0];
  for (let i = 0; i < text.length; ) {
    i += text.codePointAt(i)! > 0xffff ? 2 : 1;
    points.push(i);
  }
  return points;
}

export function marksArb(text: string): fc.Arbitrary<RestMark[]> {
  const points = markBoundaries(text);
  const point = fc.constantFrom(...points);
  return fc.array(
    fc.record({ type: fc.constantFrom(...SCREENPLAY_MARK_TYPES), a: point, b: point }).map(({ type, a, b }) => ({
      type,
      from: Math.min(a, b),
      to: Math.max(a, b),
    })),
    { maxLength: 5 },
  );
}

function assign(target: Record<string, unknown>, key: string, value: unknown) {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

export const blockArb: fc.Arbitrary<RestBlock> = fc
  .tuple(typeArb, textArb)
  .chain(([type, text]) =>
    fc.record(
      {
        omitEmptyText: fc.boolean(),
        id: fc.oneof(fc.uuid(), wellFormedString({ maxLength: 8 }), fc.integer(), fc.constant(null)),
        character: fc.option(wellFormedString({ maxLength: 12 }), { nil: null }),
        metadata: fc.option(metadataArb, { nil: null }),
        marks: fc.option(marksArb(text), { nil: null }),
        extra: fc.dictionary(extraKeyArb, jsonArb, { maxKeys: 3 }),
      },
      { requiredKeys: ['omitEmptyText', 'extra'] },
    ).map(({ omitEmptyText, extra, ...optional }) => {
      const block: Record<string, unknown> = { type };
      if (!(text === '' && omitEmptyText)) block.text = text;
      for (const [key, value] of Object.entries(optional)) {
        if (value !== undefined) block[key] = value;
      }
      for (const [key, value] of Object.entries(extra)) assign(block, key, value);
      return block as RestBlock;
    }),
  );

// Mostly small scenes, sometimes empty, sometimes long.
export const scenesArb: fc.Arbitrary<RestBlock[]> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<RestBlock[]>([]) },
  { weight: 8, arbitrary: fc.array(blockArb, { minLength: 1, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.array(blockArb, { minLength: 9, maxLength: 30 }) },
);

// A representation of the same scene that differs in every way the canonical form must ignore:
// key order (at every depth), null versus absent optional fields, empty metadata, marks split
// into overlapping pieces and listed in another order.
export function equivalentVariantArb(blocks: RestBlock[]): fc.Arbitrary<RestBlock[]> {
  return fc.tuple(...blocks.map((block) => blockVariantArb(block))).map((variants) => variants as RestBlock[]);
}

function blockVariantArb(block: RestBlock): fc.Arbitrary<RestBlock> {
  return fc
    .record({
      seed: fc.integer(),
      nullCharacter: fc.boolean(),
      nullMetadata: fc.constantFrom('absent', 'null', 'empty'),
      nullMarks: fc.constantFrom('absent', 'null', 'empty'),
      splitAt: fc.nat(),
    })
    .map(({ seed, nullCharacter, nullMetadata, nullMarks, splitAt }) => {
      const variant: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(block)) assign(variant, key, value);
      if (variant.character === undefined || variant.character === null) {
        delete variant.character;
        if (nullCharacter) variant.character = null;
      }
      const metadata = variant.metadata as Record<string, unknown> | null | undefined;
      if (metadata === undefined || metadata === null || Object.keys(metadata).length === 0) {
        delete variant.metadata;
        if (nullMetadata === 'null') variant.metadata = null;
        if (nullMetadata === 'empty') variant.metadata = {};
      }
      const marks = (variant.marks as RestMark[] | null | undefined) ?? [];
      const pieces: RestMark[] = [];
      for (const mark of marks) {
        const cut = mark.from + (mark.to > mark.from ? splitAt % (mark.to - mark.from + 1) : 0);
        const text = (variant.text as string | undefined) ?? '';
        if (isSafeCut(text, cut)) {
          pieces.push({ type: mark.type, from: cut, to: mark.to }, { type: mark.type, from: mark.from, to: cut });
        } else {
          pieces.push(mark, mark);
        }
      }
      delete variant.marks;
      if (pieces.length > 0) variant.marks = pieces.reverse();
      else if (nullMarks === 'null') variant.marks = null;
      else if (nullMarks === 'empty') variant.marks = [];
      return shuffleKeysDeep(variant, seed) as RestBlock;
    });
}

function isSafeCut(text: string, index: number): boolean {
  const before = text.charCodeAt(index - 1);
  return !(index > 0 && before >= 0xd800 && before <= 0xdbff);
}

export function shuffleKeysDeep(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffleKeysDeep(v, seed + i));
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    let state = seed >>> 0 || 1;
    for (let i = keys.length - 1; i > 0; i--) {
      state = Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) >>> 0;
      const j = state % (i + 1);
      [keys[i], keys[j]] = [keys[j]!, keys[i]!];
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) assign(out, key, shuffleKeysDeep((value as Record<string, unknown>)[key], seed + key.length));
    return out;
  }
  return value;
}
