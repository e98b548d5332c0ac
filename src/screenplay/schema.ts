// The screenplay document model shared by the server and the TipTap editor page.
// Browser-safe on purpose: only @tiptap/core and @tiptap/pm are imported, so the editor and the
// server build their ProseMirror schema from the very same extension objects and cannot drift.
import { Extension, getSchema, Mark, mergeAttributes, Node } from '@tiptap/core';
import type { Extensions } from '@tiptap/core';
import type { Schema } from '@tiptap/pm/model';
import { Plugin, PluginKey } from '@tiptap/pm/state';
import type { EditorState, Transaction } from '@tiptap/pm/state';
import { Mapping } from '@tiptap/pm/transform';

// Bump when a change to the node/mark set or to the attribute encoding would make an older
// reader misinterpret content written by a newer one (a new attribute, a renamed node, ...).
export const SCREENPLAY_SCHEMA_VERSION = 1;

// TipTap's Collaboration extension binds the editor to the Y.XmlFragment of this name.
export const SCREENPLAY_FRAGMENT_NAME = 'default';

export const REST_TO_NODE_TYPE = {
  scene_heading: 'sceneHeading',
  action: 'action',
  character: 'character',
  dialogue: 'dialogue',
  parenthetical: 'parenthetical',
  transition: 'transition',
  centered: 'centered',
  general: 'paragraph',
} as const;

export type KnownRestBlockType = keyof typeof REST_TO_NODE_TYPE;
export type ScreenplayBlockNodeType = (typeof REST_TO_NODE_TYPE)[KnownRestBlockType];

export const NODE_TO_REST_TYPE: Readonly<Record<ScreenplayBlockNodeType, KnownRestBlockType>> =
  Object.fromEntries(
    Object.entries(REST_TO_NODE_TYPE).map(([rest, node]) => [node, rest]),
  ) as Record<ScreenplayBlockNodeType, KnownRestBlockType>;

// A REST block whose type this schema does not know is kept in this node, with the original type
// in `restType`, so an unknown element written by a newer client survives a trip through Yjs.
export const UNKNOWN_BLOCK_NODE_TYPE = 'unknownBlock';

export const SCREENPLAY_MARK_TYPES = ['bold', 'italic', 'underline'] as const;
export type ScreenplayMarkType = (typeof SCREENPLAY_MARK_TYPES)[number];

// Attribute names shared by every block node. Values are strings or null, never objects:
// y-prosemirror compares attribute values with `===` when it applies a document to a live
// Y.XmlFragment (an object attribute would be rewritten on every PATCH), and lib0's binary
// encoding of objects cannot carry a `__proto__` key. JSON-valued attributes are therefore
// stored as canonical JSON text.
export const BLOCK_ATTRIBUTE = {
  // The REST block's `id`, when it is a string.
  blockId: 'blockId',
  // The REST block's `metadata` object, as canonical JSON.
  metadata: 'metadata',
  // Every other top-level REST field this schema has no attribute for, as canonical JSON.
  extraFields: 'extraFields',
  // The speaker of a dialogue block (the architecture document's `{type, text, character}` form).
  character: 'character',
  // The original REST type of an unknownBlock.
  restType: 'restType',
} as const;

type AttributeSpecs = Record<
  string,
  {
    default: string | null;
    keepOnSplit: boolean;
    parseHTML: (element: HTMLElement) => string | null;
    renderHTML: (attributes: Record<string, unknown>) => Record<string, string>;
  }
>;

function dataAttribute(name: string, dataName: string): AttributeSpecs[string] {
  return {
    default: null,
    // A block split with Enter is a new block: it must not inherit the id or the REST fields
    // of the block it came from, or two blocks would claim one REST identity.
    keepOnSplit: false,
    parseHTML: (element) => element.getAttribute(dataName),
    renderHTML: (attributes) => {
      const value = attributes[name];
      return typeof value === 'string' ? { [dataName]: value } : {};
    },
  };
}

function blockAttributes(extra: readonly string[] = []): AttributeSpecs {
  const specs: AttributeSpecs = {
    [BLOCK_ATTRIBUTE.blockId]: dataAttribute(BLOCK_ATTRIBUTE.blockId, 'data-block-id'),
    [BLOCK_ATTRIBUTE.metadata]: dataAttribute(BLOCK_ATTRIBUTE.metadata, 'data-metadata'),
    [BLOCK_ATTRIBUTE.extraFields]: dataAttribute(BLOCK_ATTRIBUTE.extraFields, 'data-extra-fields'),
  };
  for (const name of extra) {
    specs[name] = dataAttribute(name, `data-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  }
  return specs;
}

interface BlockNodeOptions {
  name: string;
  // The value of `data-type` in HTML; also the CSS hook for the editor page.
  dataType: string;
  tag?: string;
  extraAttributes?: readonly string[];
  priority?: number;
}

function createBlockNode({ name, dataType, tag = 'p', extraAttributes, priority }: BlockNodeOptions) {
  return Node.create({
    name,
    group: 'block',
    content: 'inline*',
    ...(priority === undefined ? {} : { priority }),
    // REST text may hold newlines and runs of spaces; 'pre' keeps them when content is parsed
    // from HTML (paste, drag and drop) instead of collapsing them.
    whitespace: 'pre',
    addAttributes() {
      return blockAttributes(extraAttributes);
    },
    parseHTML() {
      // Above the default 50 so that a typed <p data-type="..."> is not taken by the plain
      // paragraph rule first.
      return [{ tag: `${tag}[data-type="${dataType}"]`, priority: 60 }];
    },
    renderHTML({ HTMLAttributes }) {
      return [tag, mergeAttributes({ 'data-type': dataType }, HTMLAttributes), 0];
    },
  });
}

export const ScreenplayDocument = Node.create({
  name: 'doc',
  topNode: true,
  // block* rather than TipTap's usual block+: an empty scene (REST []) is a legitimate state and
  // must survive REST -> Yjs -> REST as []; the editor page may add an empty block on focus.
  content: 'block*',
});

export const ScreenplayText = Node.create({
  name: 'text',
  group: 'inline',
});

// priority 1000 puts paragraph first among block types, which makes it ProseMirror's default
// block (what a split or a paste of bare text creates), as with TipTap's own Paragraph.
export const Paragraph = Node.create({
  name: 'paragraph',
  group: 'block',
  content: 'inline*',
  priority: 1000,
  whitespace: 'pre',
  addAttributes() {
    return blockAttributes();
  },
  parseHTML() {
    return [{ tag: 'p' }];
  },
  renderHTML({ HTMLAttributes }) {
    return ['p', mergeAttributes({ 'data-type': 'general' }, HTMLAttributes), 0];
  },
});

export const SceneHeading = createBlockNode({ name: 'sceneHeading', dataType: 'scene-heading' });
export const Action = createBlockNode({ name: 'action', dataType: 'action' });
export const Character = createBlockNode({ name: 'character', dataType: 'character' });
export const Dialogue = createBlockNode({
  name: 'dialogue',
  dataType: 'dialogue',
  extraAttributes: [BLOCK_ATTRIBUTE.character],
});
export const Parenthetical = createBlockNode({ name: 'parenthetical', dataType: 'parenthetical' });
export const Transition = createBlockNode({ name: 'transition', dataType: 'transition' });
export const Centered = createBlockNode({ name: 'centered', dataType: 'centered' });
export const UnknownBlock = createBlockNode({
  name: UNKNOWN_BLOCK_NODE_TYPE,
  dataType: 'unknown-block',
  tag: 'div',
  extraAttributes: [BLOCK_ATTRIBUTE.restType],
});

export const Bold = Mark.create({
  name: 'bold',
  parseHTML() {
    return [
      { tag: 'strong' },
      // Google Docs wraps whole documents in <b style="font-weight:normal">.
      { tag: 'b', getAttrs: (node) => (node as HTMLElement).style.fontWeight !== 'normal' && null },
      { style: 'font-weight', getAttrs: (value) => /^(bold(er)?|[5-9]\d{2,})$/.test(value as string) && null },
    ];
  },
  renderHTML({ HTMLAttributes }) {
    return ['strong', mergeAttributes(HTMLAttributes), 0];
  },
});

export const Italic = Mark.create({
  name: 'italic',
  parseHTML() {
    return [
      { tag: 'em' },
      { tag: 'i', getAttrs: (node) => (node as HTMLElement).style.fontStyle !== 'normal' && null },
      { style: 'font-style=italic' },
    ];
  },
  renderHTML({ HTMLAttributes }) {
    return ['em', mergeAttributes(HTMLAttributes), 0];
  },
});

export const Underline = Mark.create({
  name: 'underline',
  parseHTML() {
    return [
      { tag: 'u' },
      {
        style: 'text-decoration',
        consuming: false,
        getAttrs: (value) => ((value as string).includes('underline') ? {} : false),
      },
    ];
  },
  renderHTML({ HTMLAttributes }) {
    return ['u', mergeAttributes(HTMLAttributes), 0];
  },
});

// Attributes that make a block "the same REST block": only one block in a scene may hold them.
const REST_IDENTITY_ATTRIBUTES = [BLOCK_ATTRIBUTE.blockId, BLOCK_ATTRIBUTE.metadata, BLOCK_ATTRIBUTE.extraFields] as const;

// y-prosemirror's sync plugin key ('y-sync') as stored in transaction meta.
const Y_SYNC_META = 'y-sync$';

// TipTap honours keepOnSplit only when Enter is pressed at the end of a block; a split in the
// middle (and a paste of copied blocks) gives two blocks the same blockId, metadata and extra
// fields, which would come out of the REST conversion as two blocks claiming one id. Of two
// blocks with one id, the one the old block maps to keeps the identity; the other loses it.
export function dedupeBlockIdentity(transactions: readonly Transaction[], oldState: EditorState, newState: EditorState): Transaction | null {
  if (!transactions.some((tr) => tr.docChanged)) return null;
  // Remote edits were already deduplicated by the client that made them; rewriting them here
  // would have every peer write the same fix into the shared document.
  if (transactions.some((tr) => tr.getMeta(Y_SYNC_META) !== undefined)) return null;

  const oldPositions = new Map<string, number>();
  oldState.doc.forEach((node, offset) => {
    const id = node.attrs[BLOCK_ATTRIBUTE.blockId];
    if (typeof id === 'string' && !oldPositions.has(id)) oldPositions.set(id, offset);
  });
  const mapping = new Mapping();
  for (const tr of transactions) mapping.appendMapping(tr.mapping);

  const byId = new Map<string, number[]>();
  newState.doc.forEach((node, offset) => {
    const id = node.attrs[BLOCK_ATTRIBUTE.blockId];
    if (typeof id === 'string') byId.set(id, [...(byId.get(id) ?? []), offset]);
  });

  let fix: Transaction | null = null;
  for (const [id, offsets] of byId) {
    if (offsets.length < 2) continue;
    const oldPosition = oldPositions.get(id);
    const mapped = oldPosition === undefined ? undefined : mapping.map(oldPosition, 1);
    const keeper = offsets.includes(mapped as number) ? mapped : offsets[0];
    for (const offset of offsets) {
      if (offset === keeper) continue;
      fix ??= newState.tr;
      const node = newState.doc.nodeAt(offset)!;
      const attrs: Record<string, unknown> = { ...node.attrs };
      for (const name of REST_IDENTITY_ATTRIBUTES) attrs[name] = null;
      fix.setNodeMarkup(offset, undefined, attrs);
    }
  }
  return fix;
}

export const BlockIdentity = Extension.create({
  name: 'screenplayBlockIdentity',
  addProseMirrorPlugins() {
    return [
      new Plugin({
        key: new PluginKey('screenplayBlockIdentity'),
        appendTransaction: dedupeBlockIdentity,
      }),
    ];
  },
});

export const screenplayExtensions: Extensions = [
  ScreenplayDocument,
  ScreenplayText,
  Paragraph,
  SceneHeading,
  Action,
  Character,
  Dialogue,
  Parenthetical,
  Transition,
  Centered,
  UnknownBlock,
  Bold,
  Italic,
  Underline,
  BlockIdentity,
];

export function createScreenplaySchema(extensions: Extensions = screenplayExtensions): Schema {
  return getSchema(extensions);
}

export const screenplaySchema: Schema = createScreenplaySchema();
