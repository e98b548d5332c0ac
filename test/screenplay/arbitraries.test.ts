// The property tests are only as good as what the generators produce: check that every case the
// converters must survive actually turns up in a sample of the size the tests run.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RestBlock } from '../../src/screenplay/restBlocks.ts';
import { KNOWN_REST_TYPES, scenesArb } from './arbitraries.ts';

describe('scene generator coverage', () => {
  const scenes = fc.sample(scenesArb, { numRuns: 2000, seed: 42 });
  const blocks: RestBlock[] = scenes.flat();
  const texts = blocks.map((b) => b.text ?? '');
  const count = (predicate: (block: RestBlock) => boolean) => blocks.filter(predicate).length;

  const features: [string, number][] = [
    ['empty scenes', scenes.filter((s) => s.length === 0).length],
    ['long scenes (> 8 blocks)', scenes.filter((s) => s.length > 8).length],
    ['unknown block types', count((b) => !KNOWN_REST_TYPES.includes(b.type))],
    ['a __proto__ block type', count((b) => b.type === '__proto__')],
    ['empty text', count((b) => b.text === '')],
    ['missing text', count((b) => !('text' in b))],
    ['metadata objects', count((b) => typeof b.metadata === 'object' && b.metadata !== null && Object.keys(b.metadata).length > 0)],
    ['null metadata', count((b) => b.metadata === null)],
    ['character on dialogue', count((b) => b.type === 'dialogue' && typeof b.character === 'string')],
    ['character on other blocks', count((b) => b.type !== 'dialogue' && typeof b.character === 'string')],
    ['non-empty marks', count((b) => Array.isArray(b.marks) && b.marks.some((m) => m.to > m.from))],
    ['overlapping marks of different types', count((b) => Array.isArray(b.marks) && b.marks.some((m) => b.marks!.some((n) => n.type !== m.type && n.from < m.to && m.from < n.to)))],
    ['string ids', count((b) => typeof b.id === 'string')],
    ['numeric ids', count((b) => typeof b.id === 'number')],
    ['unknown extra fields', count((b) => Object.keys(b).some((k) => !['type', 'text', 'id', 'character', 'metadata', 'marks'].includes(k)))],
    ['a __proto__ extra field', count((b) => Object.prototype.hasOwnProperty.call(b, '__proto__'))],
    ['emoji (ZWJ sequence)', texts.filter((t) => t.includes('\u200d')).length],
    ['astral plane characters', texts.filter((t) => /[\ud800-\udbff][\udc00-\udfff]/.test(t)).length],
    ['RTL scripts', texts.filter((t) => /[\u0590-\u06ff]/.test(t)).length],
    ['combining characters', texts.filter((t) => /[\u0300-\u036f]/.test(t)).length],
    ['newlines', texts.filter((t) => t.includes('\n')).length],
    ['CRLF', texts.filter((t) => t.includes('\r\n')).length],
    ['tabs', texts.filter((t) => t.includes('\t')).length],
    ['leading or trailing spaces', texts.filter((t) => /^ | $/.test(t)).length],
  ];

  it.each(features)('%s', (_name, seen) => {
    expect(seen).toBeGreaterThan(0);
  });

  it('every known block type', () => {
    for (const type of KNOWN_REST_TYPES) expect(count((b) => b.type === type)).toBeGreaterThan(50);
  });
});
