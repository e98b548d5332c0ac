// A converter whose schema and REST mapping disagree must fail loudly, never drop content.
import { Mark, Node } from '@tiptap/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { yXmlFragmentToProseMirrorRootNode } from 'y-prosemirror';
import * as Y from 'yjs';
import { createScreenplayConverter, getScreenplayConverter, restBlocksToYDoc } from '../../src/screenplay/convert.ts';
import { ScreenplayConversionError } from '../../src/screenplay/errors.ts';
import { REST_TO_NODE_TYPE, screenplayExtensions, UNKNOWN_BLOCK_NODE_TYPE } from '../../src/screenplay/schema.ts';
import { blockArb, scenesArb } from './arbitraries.ts';

function conversionErrorOf(run: () => unknown): ScreenplayConversionError {
  try {
    run();
  } catch (error) {
    if (error instanceof ScreenplayConversionError) return error;
    throw error;
  }
  throw new Error('expected a ScreenplayConversionError, but the conversion succeeded');
}

const withoutExtension = (name: string) =>
  createScreenplayConverter({ extensions: screenplayExtensions.filter((extension) => extension.name !== name) });

describe('a converter built with one block extension removed', () => {
  const restTypeOfNode = Object.fromEntries(Object.entries(REST_TO_NODE_TYPE).map(([rest, node]) => [node, rest]));
  const removable = [...Object.values(REST_TO_NODE_TYPE), UNKNOWN_BLOCK_NODE_TYPE];

  it.each(removable)('without %s: the round-trip check reports every scene that uses it', (nodeName) => {
    const broken = withoutExtension(nodeName);
    const usesNode = (type: string) =>
      nodeName === UNKNOWN_BLOCK_NODE_TYPE ? !(Object.prototype.hasOwnProperty.call(REST_TO_NODE_TYPE, type)) : restTypeOfNode[nodeName] === type;
    const sceneUsingNode = fc
      .tuple(scenesArb, blockArb.filter((block) => usesNode(block.type)), fc.nat())
      .map(([blocks, block, at]) => {
        const scene = [...blocks];
        scene.splice(at % (scene.length + 1), 0, block);
        return scene;
      });
    fc.assert(
      fc.property(sceneUsingNode, (scene) => {
        const report = broken.verifyRestRoundTrip(scene);
        expect(report.ok).toBe(false);
        if (!report.ok) expect(report.reason).toBe('UNKNOWN_NODE_TYPE');
        expect(conversionErrorOf(() => broken.restBlocksToTiptapJSON(scene)).code).toBe('UNKNOWN_NODE_TYPE');
      }),
      { numRuns: 100 },
    );
  });

  it('reading a Y.Doc that holds the missing node throws and leaves the document untouched', () => {
    const ydoc = restBlocksToYDoc([
      { type: 'action', text: 'He runs.' },
      { type: 'transition', text: 'CUT TO:' },
    ]);
    const before = Y.encodeStateAsUpdate(ydoc);
    const error = conversionErrorOf(() => withoutExtension('transition').yDocToRestBlocks(ydoc));
    expect(error.code).toBe('UNKNOWN_NODE_TYPE');
    expect(error.message).toContain("'transition'");
    expect(Y.encodeStateAsUpdate(ydoc)).toEqual(before);
    expect(getScreenplayConverter().yDocToRestBlocks(ydoc)).toHaveLength(2);
  });

  it('(why the converter has its own Yjs reader) y-prosemirror deletes what its schema rejects', () => {
    const ydoc = restBlocksToYDoc([
      { type: 'action', text: 'He runs.' },
      { type: 'transition', text: 'CUT TO:' },
    ]);
    const node = yXmlFragmentToProseMirrorRootNode(ydoc.getXmlFragment('default'), withoutExtension('transition').schema);
    expect(node.childCount).toBe(1);
    expect(ydoc.getXmlFragment('default').length).toBe(1);
  });

  it('a missing mark is caught too', () => {
    const broken = createScreenplayConverter({ extensions: screenplayExtensions.filter((e) => e.name !== 'italic') });
    const scene = [{ type: 'action', text: 'Really?', marks: [{ type: 'italic', from: 0, to: 6 }] }];
    expect(conversionErrorOf(() => broken.restBlocksToTiptapJSON(scene)).code).toBe('UNKNOWN_MARK_TYPE');
    expect(conversionErrorOf(() => broken.yDocToRestBlocks(restBlocksToYDoc(scene))).code).toBe('UNKNOWN_MARK_TYPE');
  });
});

describe('a converter whose schema has more than the REST mapping knows', () => {
  const Note = Node.create({ name: 'note', group: 'block', content: 'inline*' });
  const HardBreak = Node.create({ name: 'hardBreak', group: 'inline', inline: true });
  const Strike = Mark.create({ name: 'strike' });
  const extended = createScreenplayConverter({ extensions: [...screenplayExtensions, Note, HardBreak, Strike] });

  it('an extra block node type has no REST form: UNHANDLED_NODE_TYPE', () => {
    const ydoc = extended.tiptapJSONToYDoc({ type: 'doc', content: [{ type: 'action' }, { type: 'note', content: [{ type: 'text', text: 'x' }] }] });
    const error = conversionErrorOf(() => extended.yDocToRestBlocks(ydoc));
    expect(error.code).toBe('UNHANDLED_NODE_TYPE');
    expect(error.location).toBe('content[1]');
  });

  it('an inline node other than text: UNHANDLED_NODE_TYPE', () => {
    const json = { type: 'doc', content: [{ type: 'dialogue', content: [{ type: 'text', text: 'a' }, { type: 'hardBreak' }, { type: 'text', text: 'b' }] }] };
    expect(conversionErrorOf(() => extended.tiptapJSONToRestBlocks(json)).code).toBe('UNHANDLED_NODE_TYPE');
  });

  it('an extra mark: UNKNOWN_MARK_TYPE', () => {
    const json = { type: 'doc', content: [{ type: 'action', content: [{ type: 'text', text: 'gone', marks: [{ type: 'strike' }] }] }] };
    expect(conversionErrorOf(() => extended.tiptapJSONToRestBlocks(json)).code).toBe('UNKNOWN_MARK_TYPE');
  });

  it('an attribute added by another extension, when set: UNKNOWN_ATTRIBUTE', () => {
    const Aligned = screenplayExtensions.map((extension) =>
      extension.name === 'action'
        ? (extension as ReturnType<typeof Node.create>).extend({
            addAttributes() {
              return { ...this.parent?.(), textAlign: { default: null } };
            },
          })
        : extension,
    );
    const converter = createScreenplayConverter({ extensions: Aligned });
    expect(converter.tiptapJSONToRestBlocks({ type: 'doc', content: [{ type: 'action', attrs: { textAlign: null } }] })).toEqual([{ type: 'action', text: '' }]);
    const error = conversionErrorOf(() => converter.tiptapJSONToRestBlocks({ type: 'doc', content: [{ type: 'action', attrs: { textAlign: 'center' } }] }));
    expect(error.code).toBe('UNKNOWN_ATTRIBUTE');
  });
});

describe('Yjs content written by someone else', () => {
  function docWith(build: (fragment: Y.XmlFragment) => void): Y.Doc {
    const ydoc = new Y.Doc();
    build(ydoc.getXmlFragment('default'));
    return ydoc;
  }

  const cases: { name: string; ydoc: () => Y.Doc; code: string }[] = [
    {
      name: 'an element the schema does not know',
      ydoc: () => docWith((f) => f.insert(0, [new Y.XmlElement('heading')])),
      code: 'UNKNOWN_NODE_TYPE',
    },
    {
      name: 'an attribute the node does not declare',
      ydoc: () =>
        docWith((f) => {
          const element = new Y.XmlElement('action');
          f.insert(0, [element]);
          element.setAttribute('textAlign', 'center');
        }),
      code: 'UNKNOWN_ATTRIBUTE',
    },
    {
      name: 'text directly in the fragment',
      ydoc: () => docWith((f) => f.insert(0, [new Y.XmlText('loose')])),
      code: 'SCHEMA_VIOLATION',
    },
    {
      name: 'a block inside a block',
      ydoc: () =>
        docWith((f) => {
          const outer = new Y.XmlElement('action');
          f.insert(0, [outer]);
          outer.insert(0, [new Y.XmlElement('dialogue')]);
        }),
      code: 'SCHEMA_VIOLATION',
    },
    {
      name: 'an unknown text format',
      ydoc: () =>
        docWith((f) => {
          const block = new Y.XmlElement('action');
          f.insert(0, [block]);
          const text = new Y.XmlText();
          block.insert(0, [text]);
          text.insert(0, 'x', { strike: {} });
        }),
      code: 'UNKNOWN_MARK_TYPE',
    },
    {
      name: 'an embed inside text',
      ydoc: () =>
        docWith((f) => {
          const block = new Y.XmlElement('action');
          f.insert(0, [block]);
          const text = new Y.XmlText();
          block.insert(0, [text]);
          text.insertEmbed(0, { image: 'x.png' });
        }),
      code: 'UNSUPPORTED_YJS_CONTENT',
    },
    {
      name: 'an XmlHook',
      ydoc: () => docWith((f) => f.insert(0, [new Y.XmlHook('widget') as unknown as Y.XmlElement])),
      code: 'UNSUPPORTED_YJS_CONTENT',
    },
  ];

  it.each(cases)('$name -> $code, and the document is left as it was', ({ ydoc, code }) => {
    const doc = ydoc();
    const before = Y.encodeStateAsUpdate(doc);
    expect(conversionErrorOf(() => getScreenplayConverter().yDocToRestBlocks(doc)).code).toBe(code);
    expect(Y.encodeStateAsUpdate(doc)).toEqual(before);
  });

  it('an empty element and an emptied Y.XmlText both read as an empty block', () => {
    const doc = docWith((f) => {
      const a = new Y.XmlElement('action');
      const b = new Y.XmlElement('dialogue');
      f.insert(0, [a, b]);
      const text = new Y.XmlText('gone');
      b.insert(0, [text]);
      text.delete(0, 4);
    });
    expect(getScreenplayConverter().yDocToRestBlocks(doc)).toEqual([
      { type: 'action', text: '' },
      { type: 'dialogue', text: '' },
    ]);
  });

  it('two adjacent Y.XmlText children read as one run of text', () => {
    const doc = docWith((f) => {
      const block = new Y.XmlElement('action');
      f.insert(0, [block]);
      block.insert(0, [new Y.XmlText('Hel'), new Y.XmlText('lo')]);
    });
    expect(getScreenplayConverter().yDocToRestBlocks(doc)).toEqual([{ type: 'action', text: 'Hello' }]);
  });
});
