// Canonical form, checksums and input validation: table-driven, plus properties over generated
// scenes for the invariances the canonical form promises.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksumBlocks } from '../../src/screenplay/checksum.ts';
import { tiptapJSONToRestBlocks, restBlocksToYDoc, yDocToRestBlocks } from '../../src/screenplay/convert.ts';
import { InvalidRestBlocksError, ScreenplayConversionError } from '../../src/screenplay/errors.ts';
import { canonicalBlocksJSON, canonicalizeBlocks, checksumBlocksAsync, restBlocksEqual } from '../../src/screenplay/restBlocks.ts';
import { equivalentVariantArb, scenesArb } from './arbitraries.ts';

describe('canonicalizeBlocks', () => {
  const cases: { name: string; input: unknown; expected: unknown }[] = [
    { name: 'empty scene', input: [], expected: [] },
    { name: 'plain block stays plain', input: [{ type: 'action', text: 'Hi.' }], expected: [{ text: 'Hi.', type: 'action' }] },
    { name: 'missing text becomes empty text', input: [{ type: 'action' }], expected: [{ text: '', type: 'action' }] },
    {
      name: 'null and empty optional fields are dropped',
      input: [{ type: 'dialogue', text: 'x', character: null, metadata: {}, marks: [] }],
      expected: [{ text: 'x', type: 'dialogue' }],
    },
    { name: 'null metadata and marks are dropped', input: [{ type: 'action', text: '', metadata: null, marks: null }], expected: [{ text: '', type: 'action' }] },
    { name: 'undefined fields are absent', input: [{ type: 'action', text: 'a', foo: undefined }], expected: [{ text: 'a', type: 'action' }] },
    {
      name: 'keys sorted at every depth',
      input: [{ type: 'action', text: 'a', metadata: { z: 1, a: { y: 2, b: [{ d: 1, c: 2 }] } } }],
      expected: [{ metadata: { a: { b: [{ c: 2, d: 1 }], y: 2 }, z: 1 }, text: 'a', type: 'action' }],
    },
    {
      name: 'unknown fields and types are kept',
      input: [{ type: 'shot', text: 'WIDE', revision: 3, id: 17, notes: null }],
      expected: [{ id: 17, notes: null, revision: 3, text: 'WIDE', type: 'shot' }],
    },
    {
      name: 'overlapping and touching marks of one type merge; empty marks vanish',
      input: [{ type: 'action', text: 'abcdefgh', marks: [{ type: 'bold', from: 4, to: 6 }, { type: 'bold', from: 0, to: 2 }, { type: 'bold', from: 2, to: 3 }, { type: 'bold', from: 5, to: 8 }, { type: 'italic', from: 3, to: 3 }] }],
      expected: [{ marks: [{ from: 0, to: 3, type: 'bold' }, { from: 4, to: 8, type: 'bold' }], text: 'abcdefgh', type: 'action' }],
    },
    {
      name: 'marks of different types do not merge and are ordered by position',
      input: [{ type: 'action', text: 'abcdef', marks: [{ type: 'underline', from: 0, to: 6 }, { type: 'italic', from: 1, to: 2 }, { type: 'bold', from: 0, to: 6 }] }],
      expected: [{ marks: [{ from: 0, to: 6, type: 'bold' }, { from: 0, to: 6, type: 'underline' }, { from: 1, to: 2, type: 'italic' }], text: 'abcdef', type: 'action' }],
    },
    {
      name: 'a __proto__ key is data, not a prototype',
      input: [JSON.parse('{"type":"action","text":"","metadata":{"__proto__":{"x":1}},"__proto__":[1]}')],
      expected: [JSON.parse('{"__proto__":[1],"metadata":{"__proto__":{"x":1}},"text":"","type":"action"}')],
    },
  ];

  it.each(cases)('$name', ({ input, expected }) => {
    const canonical = canonicalizeBlocks(input);
    expect(JSON.stringify(canonical)).toBe(JSON.stringify(expected));
    expect(canonicalizeBlocks(canonical)).toEqual(canonical);
  });

  it('is idempotent and survives a trip through Yjs unchanged', () => {
    fc.assert(
      fc.property(scenesArb, (blocks) => {
        const canonical = canonicalizeBlocks(blocks);
        expect(canonicalBlocksJSON(canonical)).toBe(JSON.stringify(canonical));
        expect(JSON.stringify(canonicalizeBlocks(yDocToRestBlocks(restBlocksToYDoc(canonical))))).toBe(JSON.stringify(canonical));
      }),
      { numRuns: 500 },
    );
  });
});

describe('checksumBlocks', () => {
  const base = [
    { type: 'scene_heading', text: 'EXT. PIER - DAWN' },
    { type: 'dialogue', character: 'JOHN', text: 'Hello.', metadata: { take: 2, tags: ['a', 'b'] }, marks: [{ type: 'bold', from: 0, to: 5 }] },
  ];
  const equal: { name: string; other: unknown }[] = [
    { name: 'keys in another order', other: [{ text: 'EXT. PIER - DAWN', type: 'scene_heading' }, { marks: [{ to: 5, from: 0, type: 'bold' }], metadata: { tags: ['a', 'b'], take: 2 }, text: 'Hello.', character: 'JOHN', type: 'dialogue' }] },
    { name: 'a mark split in two', other: [base[0], { ...base[1], marks: [{ type: 'bold', from: 2, to: 5 }, { type: 'bold', from: 0, to: 2 }] }] },
    { name: 'null optional fields added', other: [{ ...base[0], character: null, metadata: null, marks: null }, base[1]] },
  ];
  const different: { name: string; other: unknown }[] = [
    { name: 'other text', other: [base[0], { ...base[1], text: 'Hello!' }] },
    { name: 'other character', other: [base[0], { ...base[1], character: 'JANE' }] },
    { name: 'other mark range', other: [base[0], { ...base[1], marks: [{ type: 'bold', from: 0, to: 4 }] }] },
    { name: 'other metadata', other: [base[0], { ...base[1], metadata: { take: 3, tags: ['a', 'b'] } }] },
    { name: 'metadata array order', other: [base[0], { ...base[1], metadata: { take: 2, tags: ['b', 'a'] } }] },
    { name: 'block order', other: [base[1], base[0]] },
    { name: 'an extra field', other: [{ ...base[0], locked: true }, base[1]] },
    { name: 'another type', other: [{ ...base[0], type: 'scene-heading' }, base[1]] },
    { name: 'trailing whitespace', other: [{ ...base[0], text: 'EXT. PIER - DAWN ' }, base[1]] },
    { name: 'composed vs decomposed accent', other: [{ ...base[0], text: 'EXT. PIER - DAWN é' }, base[1]], },
  ];

  it('is the hex SHA-256 of the canonical JSON', () => {
    expect(checksumBlocks([])).toBe('4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945');
    expect(checksumBlocks(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each(equal)('equal for $name', ({ other }) => {
    expect(checksumBlocks(other)).toBe(checksumBlocks(base));
    expect(restBlocksEqual(other, base)).toBe(true);
  });

  it.each(different)('different for $name', ({ other }) => {
    expect(checksumBlocks(other)).not.toBe(checksumBlocks(base));
  });

  it('unicode is not normalised: NFC and NFD spellings are different content', () => {
    expect(checksumBlocks([{ type: 'action', text: '\u00e9' }])).not.toBe(checksumBlocks([{ type: 'action', text: 'e\u0301' }]));
  });

  it('the browser-safe async checksum agrees', async () => {
    expect(await checksumBlocksAsync(base)).toBe(checksumBlocks(base));
  });

  it('is invariant under every representation difference the canonical form ignores', () => {
    fc.assert(
      fc.property(scenesArb.chain((blocks) => fc.tuple(fc.constant(blocks), equivalentVariantArb(blocks))), ([blocks, variant]) => {
        expect(checksumBlocks(variant)).toBe(checksumBlocks(blocks));
      }),
      { numRuns: 1000 },
    );
  });

  it('equals the checksum of what comes back from Yjs', () => {
    fc.assert(
      fc.property(scenesArb, (blocks) => {
        expect(checksumBlocks(yDocToRestBlocks(restBlocksToYDoc(blocks)))).toBe(checksumBlocks(blocks));
      }),
      { numRuns: 500 },
    );
  });
});

describe('invalid REST input', () => {
  const invalid: { name: string; input: unknown; path: string }[] = [
    { name: 'not an array (object)', input: { blocks: [] }, path: 'blocks' },
    { name: 'not an array (null)', input: null, path: 'blocks' },
    { name: 'not an array (string)', input: '[]', path: 'blocks' },
    { name: 'a block that is not an object', input: ['action'], path: 'blocks[0]' },
    { name: 'a null block', input: [{ type: 'action' }, null], path: 'blocks[1]' },
    { name: 'an array block', input: [[]], path: 'blocks[0]' },
    { name: 'block without type', input: [{ text: 'x' }], path: 'blocks[0].type' },
    { name: 'numeric type', input: [{ type: 3, text: 'x' }], path: 'blocks[0].type' },
    { name: 'empty type', input: [{ type: '', text: 'x' }], path: 'blocks[0].type' },
    { name: 'numeric text', input: [{ type: 'action', text: 42 }], path: 'blocks[0].text' },
    { name: 'null text', input: [{ type: 'action', text: null }], path: 'blocks[0].text' },
    { name: 'object text', input: [{ type: 'action', text: { value: 'x' } }], path: 'blocks[0].text' },
    { name: 'numeric character', input: [{ type: 'dialogue', text: 'x', character: 7 }], path: 'blocks[0].character' },
    { name: 'metadata array', input: [{ type: 'action', text: 'x', metadata: [1] }], path: 'blocks[0].metadata' },
    { name: 'metadata string', input: [{ type: 'action', text: 'x', metadata: '{}' }], path: 'blocks[0].metadata' },
    { name: 'NaN in metadata', input: [{ type: 'action', text: 'x', metadata: { n: Number.NaN } }], path: 'blocks[0].metadata.n' },
    { name: 'undefined in metadata', input: [{ type: 'action', text: 'x', metadata: { n: undefined } }], path: 'blocks[0].metadata.n' },
    { name: 'a function in an extra field', input: [{ type: 'action', text: 'x', hook: () => 1 }], path: 'blocks[0].hook' },
    { name: 'a BigInt id', input: [{ type: 'action', text: 'x', id: 1n }], path: 'blocks[0].id' },
    { name: 'unknown mark type', input: [{ type: 'action', text: 'abc', marks: [{ type: 'strike', from: 0, to: 1 }] }], path: 'blocks[0].marks[0].type' },
    { name: 'mark with extra key', input: [{ type: 'action', text: 'abc', marks: [{ type: 'bold', from: 0, to: 1, color: 'red' }] }], path: 'blocks[0].marks[0]' },
    { name: 'mark with fractional offset', input: [{ type: 'action', text: 'abc', marks: [{ type: 'bold', from: 0.5, to: 1 }] }], path: 'blocks[0].marks[0].from' },
    { name: 'mark with negative offset', input: [{ type: 'action', text: 'abc', marks: [{ type: 'bold', from: -1, to: 1 }] }], path: 'blocks[0].marks[0].from' },
    { name: 'mark from after to', input: [{ type: 'action', text: 'abc', marks: [{ type: 'bold', from: 2, to: 1 }] }], path: 'blocks[0].marks[0]' },
    { name: 'mark past the text', input: [{ type: 'action', text: 'abc', marks: [{ type: 'bold', from: 0, to: 4 }] }], path: 'blocks[0].marks[0]' },
    { name: 'mark inside a surrogate pair', input: [{ type: 'action', text: 'a🎬b', marks: [{ type: 'bold', from: 0, to: 2 }] }], path: 'blocks[0].marks[0]' },
    { name: 'marks not an array', input: [{ type: 'action', text: 'abc', marks: { type: 'bold' } }], path: 'blocks[0].marks' },
    { name: 'lone surrogate in text', input: [{ type: 'action', text: 'a\ud83cb' }], path: 'blocks[0].text' },
    { name: 'lone surrogate in type', input: [{ type: '\udc00', text: '' }], path: 'blocks[0].type' },
    { name: 'lone surrogate in character', input: [{ type: 'dialogue', text: '', character: 'A\ud800' }], path: 'blocks[0].character' },
  ];

  it.each(invalid)('$name -> InvalidRestBlocksError at $path', ({ input, path }) => {
    let caught: unknown;
    try {
      canonicalizeBlocks(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InvalidRestBlocksError);
    const error = caught as InvalidRestBlocksError;
    expect(error.code).toBe('INVALID_REST_BLOCKS');
    expect(error.name).toBe('InvalidRestBlocksError');
    expect(error.message).toContain(`${path}:`);
    // The same error from every entry point, never something thrown deep inside a converter.
    expect(() => restBlocksToYDoc(input)).toThrow(InvalidRestBlocksError);
    expect(() => checksumBlocks(input)).toThrow(InvalidRestBlocksError);
  });

  it('lists every problem, not just the first', () => {
    try {
      canonicalizeBlocks([{ type: 1 }, { type: 'action', text: 2 }]);
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidRestBlocksError).issues.map((i) => i.path)).toEqual([[0, 'type'], [1, 'text']]);
    }
  });

  it('lone surrogates inside metadata are fine: JSON text escapes them', () => {
    const blocks = [{ type: 'action', text: '', metadata: { raw: '\ud800' } }];
    expect(canonicalBlocksJSON(yDocToRestBlocks(restBlocksToYDoc(blocks)))).toBe(canonicalBlocksJSON(blocks));
  });
});

describe('invalid TipTap JSON', () => {
  const invalid: { name: string; input: unknown; code: string }[] = [
    { name: 'not an object', input: 'doc', code: 'INVALID_TIPTAP_JSON' },
    { name: 'no type', input: { content: [] }, code: 'INVALID_TIPTAP_JSON' },
    { name: 'unknown node type', input: { type: 'doc', content: [{ type: 'heading' }] }, code: 'UNKNOWN_NODE_TYPE' },
    { name: 'unknown mark type', input: { type: 'doc', content: [{ type: 'action', content: [{ type: 'text', text: 'x', marks: [{ type: 'strike' }] }] }] }, code: 'UNKNOWN_MARK_TYPE' },
    { name: 'unknown attribute', input: { type: 'doc', content: [{ type: 'action', attrs: { textAlign: 'center' } }] }, code: 'UNKNOWN_ATTRIBUTE' },
    { name: 'empty text node', input: { type: 'doc', content: [{ type: 'action', content: [{ type: 'text', text: '' }] }] }, code: 'INVALID_TIPTAP_JSON' },
    { name: 'root is not doc', input: { type: 'action' }, code: 'INVALID_TIPTAP_JSON' },
    { name: 'text at the root', input: { type: 'doc', content: [{ type: 'text', text: 'x' }] }, code: 'SCHEMA_VIOLATION' },
    { name: 'block inside a block', input: { type: 'doc', content: [{ type: 'action', content: [{ type: 'action' }] }] }, code: 'SCHEMA_VIOLATION' },
    { name: 'unknownBlock without restType', input: { type: 'doc', content: [{ type: 'unknownBlock' }] }, code: 'INVALID_ATTRIBUTE' },
    { name: 'metadata that is not JSON', input: { type: 'doc', content: [{ type: 'action', attrs: { metadata: '{oops' } }] }, code: 'INVALID_ATTRIBUTE' },
    { name: 'metadata that is a JSON array', input: { type: 'doc', content: [{ type: 'action', attrs: { metadata: '[1]' } }] }, code: 'INVALID_ATTRIBUTE' },
    { name: 'extraFields repeating a known field', input: { type: 'doc', content: [{ type: 'action', attrs: { extraFields: '{"type":"x"}' } }] }, code: 'INVALID_ATTRIBUTE' },
    { name: 'a non-string attribute value', input: { type: 'doc', content: [{ type: 'action', attrs: { blockId: 5 } }] }, code: 'INVALID_ATTRIBUTE' },
  ];

  it.each(invalid)('$name -> $code', ({ input, code }) => {
    let caught: unknown;
    try {
      tiptapJSONToRestBlocks(input);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ScreenplayConversionError);
    expect((caught as ScreenplayConversionError).code).toBe(code);
  });
});
