// Lossless conversions between the three forms of a scene:
//   REST blocks (scenes.content_blocks)  <->  TipTap / ProseMirror JSON  <->  Y.XmlFragment 'default'
// Browser-safe: the editor page may use the same converter (e.g. to export a scene).
//
// Every converter refuses what it cannot represent: an unknown node, mark or attribute is an
// error, never something skipped. y-prosemirror's own Yjs -> ProseMirror functions are not used
// for reading because they delete any element the schema rejects from the Y.Doc itself.
import { Fragment, Node as ProseMirrorNode } from '@tiptap/pm/model';
import type { Mark as ProseMirrorMark, NodeType, Schema } from '@tiptap/pm/model';
import type { Extensions } from '@tiptap/core';
import { prosemirrorToYXmlFragment, updateYFragment } from 'y-prosemirror';
import * as Y from 'yjs';
import { InvalidRestBlocksError, ScreenplayConversionError } from './errors.ts';
import type { ScreenplayConversionErrorCode } from './errors.ts';
import { canonicalBlocksJSON, canonicalMarks, KNOWN_REST_FIELDS, parseRestBlocks, restBlockFromParsed, sortKeysDeep } from './restBlocks.ts';
import type { CanonicalRestBlock, JsonObject, ParsedRestBlock, RestMark } from './restBlocks.ts';
import {
  BLOCK_ATTRIBUTE,
  createScreenplaySchema,
  NODE_TO_REST_TYPE,
  REST_TO_NODE_TYPE,
  SCREENPLAY_FRAGMENT_NAME,
  SCREENPLAY_MARK_TYPES,
  screenplayExtensions,
  screenplaySchema,
  UNKNOWN_BLOCK_NODE_TYPE,
} from './schema.ts';
import type { ScreenplayMarkType } from './schema.ts';

export interface TiptapMarkJSON {
  type: string;
  attrs?: Record<string, unknown>;
}

export interface TiptapNodeJSON {
  type: string;
  attrs?: Record<string, unknown>;
  content?: TiptapNodeJSON[];
  marks?: TiptapMarkJSON[];
  text?: string;
}

export interface TiptapDocJSON extends TiptapNodeJSON {
  type: 'doc';
}

export interface ApplyResult {
  changed: boolean;
  // The Yjs update the change produced (null when nothing changed): what a REST PATCH appends
  // to the scene's log.
  update: Uint8Array | null;
}

export interface ApplyOptions {
  // Transaction origin, so that persistence and Redis extensions can tell server-made changes
  // from client updates.
  origin?: unknown;
}

export interface EncodeSeedOptions {
  // Overrides the deterministic client id (see seedClientIdFor).
  clientId?: number;
}

export type RoundTripReport =
  | { ok: true; update: Uint8Array; blocks: CanonicalRestBlock[] }
  | {
      ok: false;
      reason: 'INVALID_REST_BLOCKS' | ScreenplayConversionErrorCode | 'MISMATCH';
      message: string;
      // The first block that differs after the round trip, for MISMATCH.
      blockIndex?: number;
    };

export interface ScreenplayConverterOptions {
  // The TipTap extensions whose schema the converter enforces; defaults to screenplayExtensions.
  extensions?: Extensions;
  // The Y.XmlFragment holding the document; defaults to TipTap Collaboration's 'default'.
  fragmentName?: string;
}

export interface ScreenplayConverter {
  readonly schema: Schema;
  readonly fragmentName: string;
  restBlocksToTiptapJSON(blocks: unknown): TiptapDocJSON;
  tiptapJSONToRestBlocks(doc: unknown): CanonicalRestBlock[];
  // Validates TipTap JSON against the schema; the result is ProseMirror's normal form
  // (default attributes filled in, adjacent equal text nodes joined).
  tiptapJSONToProseMirrorNode(doc: unknown): ProseMirrorNode;
  tiptapJSONToYDoc(doc: unknown): Y.Doc;
  yDocToTiptapJSON(ydoc: Y.Doc): TiptapDocJSON;
  yXmlFragmentToTiptapJSON(fragment: Y.XmlFragment): TiptapDocJSON;
  // Rewrites the fragment so it holds `doc`, touching only what differs (y-prosemirror's
  // updateYFragment), so concurrent edits to other blocks by live clients are kept.
  applyTiptapJSONToYDoc(ydoc: Y.Doc, doc: unknown, options?: ApplyOptions): ApplyResult;
  restBlocksToYDoc(blocks: unknown): Y.Doc;
  yDocToRestBlocks(ydoc: Y.Doc): CanonicalRestBlock[];
  applyRestBlocksToYDoc(ydoc: Y.Doc, blocks: unknown, options?: ApplyOptions): ApplyResult;
  // A Yjs update that turns an empty document into the scene.
  encodeRestBlocksAsUpdate(blocks: unknown, options?: EncodeSeedOptions): Uint8Array;
  // Encodes the seed update, decodes it into a fresh Y.Doc, converts back and compares the
  // canonical forms: the check the migration runs before it stores anything. Never throws for
  // bad data; the report says what went wrong.
  verifyRestRoundTrip(blocks: unknown): RoundTripReport;
}

const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

function declaresAttribute(nodeType: NodeType, name: string): boolean {
  return nodeType.spec.attrs !== undefined && hasOwn(nodeType.spec.attrs, name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function conversionError(code: ScreenplayConversionErrorCode, message: string, location?: string, cause?: unknown) {
  return new ScreenplayConversionError(code, message, { location, cause });
}

// Marks that y-prosemirror treats as overlapping are stored under `name--<hash>`.
const HASHED_MARK_NAME = /(.*)(--[a-zA-Z0-9+/=]{8})$/;

// Identical scenes seeded by two instances at the same moment must not end up twice in the
// document. With a client id derived from the content, both seeds are the same Yjs items
// (same ids, same bytes), and Yjs applies the second as a no-op. Different content gets a
// different id (bar a 32-bit FNV-1a collision), so two different seeds do not reuse item ids,
// which would corrupt the document.
export function seedClientIdFor(canonicalJSON: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < canonicalJSON.length; i++) {
    hash ^= canonicalJSON.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function createScreenplayConverter(options: ScreenplayConverterOptions = {}): ScreenplayConverter {
  const schema = options.extensions ? createScreenplaySchema(options.extensions) : screenplaySchema;
  const fragmentName = options.fragmentName ?? SCREENPLAY_FRAGMENT_NAME;

  function nodeTypeNamed(name: string, location: string, context: string): NodeType {
    if (!hasOwn(schema.nodes, name)) {
      throw conversionError('UNKNOWN_NODE_TYPE', `node type '${name}' ${context} is not in the converter's schema`, location);
    }
    return schema.nodes[name]!;
  }

  // ---- REST -> ProseMirror -------------------------------------------------------------------

  function textNodes(text: string, marks: RestMark[], location: string): ProseMirrorNode[] {
    if (text.length === 0) return [];
    const boundaries = new Set<number>([0, text.length]);
    for (const mark of marks) {
      boundaries.add(mark.from);
      boundaries.add(mark.to);
    }
    const points = [...boundaries].sort((a, b) => a - b);
    const nodes: ProseMirrorNode[] = [];
    for (let i = 0; i + 1 < points.length; i++) {
      const from = points[i]!;
      const to = points[i + 1]!;
      const active = marks.filter((m) => m.from <= from && m.to >= to).map((m) => markTypeNamed(m.type, location).create());
      nodes.push(schema.text(text.slice(from, to), active));
    }
    return nodes;
  }

  function markTypeNamed(name: string, location: string) {
    if (!hasOwn(schema.marks, name)) {
      throw conversionError('UNKNOWN_MARK_TYPE', `mark type '${name}' is not in the converter's schema`, location);
    }
    return schema.marks[name]!;
  }

  function restBlockToNode(block: ParsedRestBlock, index: number): ProseMirrorNode {
    const location = `blocks[${index}]`;
    const known = hasOwn(REST_TO_NODE_TYPE, block.type);
    const nodeName = known ? REST_TO_NODE_TYPE[block.type as keyof typeof REST_TO_NODE_TYPE] : UNKNOWN_BLOCK_NODE_TYPE;
    const nodeType = nodeTypeNamed(nodeName, location, `(for REST type '${block.type}')`);
    const declared = (name: string) => declaresAttribute(nodeType, name);

    const attrs: Record<string, string | null> = {};
    const extra: JsonObject = { ...block.extra };
    if (block.id !== null) {
      if (declared(BLOCK_ATTRIBUTE.blockId)) attrs[BLOCK_ATTRIBUTE.blockId] = block.id;
      else extra.id = block.id;
    }
    if (block.character !== null) {
      // Only dialogue has a character attribute; a character on any other block still survives.
      if (declared(BLOCK_ATTRIBUTE.character)) attrs[BLOCK_ATTRIBUTE.character] = block.character;
      else extra.character = block.character;
    }
    if (!known) {
      if (!declared(BLOCK_ATTRIBUTE.restType)) {
        throw conversionError('INVALID_ATTRIBUTE', `node '${nodeName}' has no '${BLOCK_ATTRIBUTE.restType}' attribute to keep REST type '${block.type}'`, location);
      }
      attrs[BLOCK_ATTRIBUTE.restType] = block.type;
    }
    const jsonAttribute = (name: string, value: JsonObject | null) => {
      if (value === null || Object.keys(value).length === 0) return;
      if (!declared(name)) {
        throw conversionError('INVALID_ATTRIBUTE', `node '${nodeName}' has no '${name}' attribute to keep ${Object.keys(value).join(', ')}`, location);
      }
      attrs[name] = JSON.stringify(sortKeysDeep(value));
    };
    jsonAttribute(BLOCK_ATTRIBUTE.metadata, block.metadata);
    jsonAttribute(BLOCK_ATTRIBUTE.extraFields, extra);

    try {
      return nodeType.createChecked(attrs, textNodes(block.text, block.marks, location));
    } catch (cause) {
      if (cause instanceof ScreenplayConversionError) throw cause;
      throw conversionError('SCHEMA_VIOLATION', `REST block of type '${block.type}' does not fit node '${nodeName}': ${String(cause)}`, location, cause);
    }
  }

  function restBlocksToNode(blocks: unknown): ProseMirrorNode {
    const parsed = parseRestBlocks(blocks);
    const children = parsed.map(restBlockToNode);
    return checkedDoc(Fragment.fromArray(children), 'blocks');
  }

  function checkedDoc(content: Fragment, location: string): ProseMirrorNode {
    try {
      const doc = schema.topNodeType.create(null, content);
      doc.check();
      return doc;
    } catch (cause) {
      throw conversionError('SCHEMA_VIOLATION', `document breaks the schema: ${String(cause)}`, location, cause);
    }
  }

  // ---- ProseMirror -> REST -------------------------------------------------------------------

  const handledAttributes = new Set<string>(Object.values(BLOCK_ATTRIBUTE));

  function parseJsonAttribute(value: unknown, name: string, location: string): JsonObject | null {
    if (value === null) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value as string);
    } catch (cause) {
      throw conversionError('INVALID_ATTRIBUTE', `attribute '${name}' is not valid JSON`, location, cause);
    }
    if (!isPlainObject(parsed)) {
      throw conversionError('INVALID_ATTRIBUTE', `attribute '${name}' must hold a JSON object`, location);
    }
    return parsed as JsonObject;
  }

  function nodeToRestBlock(node: ProseMirrorNode, index: number): ParsedRestBlock {
    const location = `content[${index}]`;
    const name = node.type.name;
    let type: string;
    if (name === UNKNOWN_BLOCK_NODE_TYPE) {
      const restType = node.attrs[BLOCK_ATTRIBUTE.restType];
      if (typeof restType !== 'string' || restType.length === 0) {
        throw conversionError('INVALID_ATTRIBUTE', `${UNKNOWN_BLOCK_NODE_TYPE} needs a non-empty '${BLOCK_ATTRIBUTE.restType}'`, location);
      }
      type = restType;
    } else if (hasOwn(NODE_TO_REST_TYPE, name)) {
      type = NODE_TO_REST_TYPE[name as keyof typeof NODE_TO_REST_TYPE];
    } else {
      throw conversionError('UNHANDLED_NODE_TYPE', `node type '${name}' has no REST block type`, location);
    }

    for (const [attr, value] of Object.entries(node.attrs)) {
      if (!handledAttributes.has(attr) && value !== null && value !== undefined) {
        throw conversionError('UNKNOWN_ATTRIBUTE', `attribute '${attr}' of node '${name}' has no REST field`, location);
      }
      if (value !== null && value !== undefined && typeof value !== 'string') {
        throw conversionError('INVALID_ATTRIBUTE', `attribute '${attr}' of node '${name}' must be a string or null`, location);
      }
    }

    let text = '';
    const marks: RestMark[] = [];
    node.forEach((child, _offset, childIndex) => {
      const childLocation = `${location}.content[${childIndex}]`;
      if (!child.isText) {
        throw conversionError('UNHANDLED_NODE_TYPE', `inline node type '${child.type.name}' has no REST form`, childLocation);
      }
      const childText = child.text ?? '';
      for (const mark of child.marks) {
        if (!(SCREENPLAY_MARK_TYPES as readonly string[]).includes(mark.type.name)) {
          throw conversionError('UNKNOWN_MARK_TYPE', `mark type '${mark.type.name}' has no REST form`, childLocation);
        }
        if (Object.keys(mark.attrs).length > 0) {
          throw conversionError('INVALID_ATTRIBUTE', `mark '${mark.type.name}' carries attributes that have no REST form`, childLocation);
        }
        marks.push({ type: mark.type.name as ScreenplayMarkType, from: text.length, to: text.length + childText.length });
      }
      text += childText;
    });

    const extra = parseJsonAttribute(node.attrs[BLOCK_ATTRIBUTE.extraFields] ?? null, BLOCK_ATTRIBUTE.extraFields, location) ?? {};
    const metadata = parseJsonAttribute(node.attrs[BLOCK_ATTRIBUTE.metadata] ?? null, BLOCK_ATTRIBUTE.metadata, location);
    const id = (node.attrs[BLOCK_ATTRIBUTE.blockId] as string | null | undefined) ?? null;
    const character = (node.attrs[BLOCK_ATTRIBUTE.character] as string | null | undefined) ?? null;

    // A field stored twice would make the REST form ambiguous; only a writer other than this
    // converter can produce that, so refuse instead of guessing which copy wins.
    for (const key of Object.keys(extra)) {
      const clashes =
        (KNOWN_REST_FIELDS as readonly string[]).includes(key) &&
        !(key === 'id' && id === null) &&
        !(key === 'character' && character === null);
      if (clashes) {
        throw conversionError('INVALID_ATTRIBUTE', `'${BLOCK_ATTRIBUTE.extraFields}' repeats the field '${key}'`, location);
      }
    }
    // A string id or character parked in extraFields (because the node had no attribute for
    // it) goes back to its own field.
    let blockId = id;
    let blockCharacter = character;
    if (typeof extra.id === 'string') {
      blockId = extra.id;
      delete extra.id;
    }
    if (hasOwn(extra, 'character')) {
      if (typeof extra.character !== 'string') {
        throw conversionError('INVALID_ATTRIBUTE', `'${BLOCK_ATTRIBUTE.extraFields}' holds a non-string character`, location);
      }
      blockCharacter = extra.character;
      delete extra.character;
    }

    return {
      type,
      text,
      id: blockId,
      character: blockCharacter,
      metadata: metadata !== null && Object.keys(metadata).length > 0 ? metadata : null,
      marks: canonicalMarks(marks),
      extra,
    };
  }

  function nodeToRestBlocks(doc: ProseMirrorNode): CanonicalRestBlock[] {
    const blocks: CanonicalRestBlock[] = [];
    doc.forEach((child, _offset, index) => {
      blocks.push(restBlockFromParsed(nodeToRestBlock(child, index)));
    });
    return blocks;
  }

  // ---- TipTap JSON -> ProseMirror ------------------------------------------------------------

  // ProseMirror's Node.fromJSON silently ignores attributes a node type does not declare; this
  // walk turns that, and unknown types, into errors with a location first.
  function checkTiptapJSON(json: unknown, location: string): void {
    if (!isPlainObject(json) || typeof json.type !== 'string') {
      throw conversionError('INVALID_TIPTAP_JSON', 'expected a node object with a string type', location);
    }
    const nodeType = nodeTypeNamed(json.type, location, '');
    if (json.attrs !== undefined && json.attrs !== null) {
      if (!isPlainObject(json.attrs)) throw conversionError('INVALID_TIPTAP_JSON', 'attrs must be an object', location);
      for (const key of Object.keys(json.attrs)) {
        if (!declaresAttribute(nodeType, key)) {
          throw conversionError('UNKNOWN_ATTRIBUTE', `node '${json.type}' has no attribute '${key}'`, location);
        }
      }
    }
    if (json.marks !== undefined) {
      if (!Array.isArray(json.marks)) throw conversionError('INVALID_TIPTAP_JSON', 'marks must be an array', location);
      json.marks.forEach((mark, i) => {
        if (!isPlainObject(mark) || typeof mark.type !== 'string') {
          throw conversionError('INVALID_TIPTAP_JSON', 'expected a mark object with a string type', `${location}.marks[${i}]`);
        }
        markTypeNamed(mark.type, `${location}.marks[${i}]`);
      });
    }
    if (json.content !== undefined) {
      if (!Array.isArray(json.content)) throw conversionError('INVALID_TIPTAP_JSON', 'content must be an array', location);
      json.content.forEach((child, i) => checkTiptapJSON(child, `${location}.content[${i}]`));
    }
  }

  function tiptapJSONToProseMirrorNode(json: unknown): ProseMirrorNode {
    checkTiptapJSON(json, 'doc');
    let node: ProseMirrorNode;
    try {
      node = ProseMirrorNode.fromJSON(schema, json);
    } catch (cause) {
      throw conversionError('INVALID_TIPTAP_JSON', `not a valid document: ${String(cause)}`, 'doc', cause);
    }
    if (node.type !== schema.topNodeType) {
      throw conversionError('INVALID_TIPTAP_JSON', `the root must be '${schema.topNodeType.name}', not '${node.type.name}'`, 'doc');
    }
    // Re-create through Fragment.fromArray so that adjacent text nodes with equal marks are
    // joined: the form Yjs gives back, whatever way the input split its text.
    return checkedDoc(normalizedContent(node), 'doc');
  }

  function normalizedContent(node: ProseMirrorNode): Fragment {
    const children: ProseMirrorNode[] = [];
    node.forEach((child) => {
      children.push(child.isText ? child : child.copy(normalizedContent(child)));
    });
    return Fragment.fromArray(children);
  }

  // ---- Yjs -> ProseMirror --------------------------------------------------------------------

  function yChildrenToNodes(parent: Y.XmlFragment, location: string): ProseMirrorNode[] {
    const nodes: ProseMirrorNode[] = [];
    parent.toArray().forEach((child, index) => {
      const childLocation = `${location}[${index}]`;
      if (child instanceof Y.XmlElement) {
        nodes.push(yElementToNode(child, childLocation));
      } else if (child instanceof Y.XmlText) {
        nodes.push(...yTextToNodes(child, childLocation));
      } else {
        throw conversionError('UNSUPPORTED_YJS_CONTENT', `unsupported Yjs type ${child.constructor.name}`, childLocation);
      }
    });
    return nodes;
  }

  function yElementToNode(element: Y.XmlElement, location: string): ProseMirrorNode {
    const nodeType = nodeTypeNamed(element.nodeName, location, '');
    const attrs = element.getAttributes() as Record<string, unknown>;
    for (const key of Object.keys(attrs)) {
      if (!declaresAttribute(nodeType, key)) {
        throw conversionError('UNKNOWN_ATTRIBUTE', `node '${element.nodeName}' has no attribute '${key}'`, location);
      }
    }
    const children = yChildrenToNodes(element, `${location}.content`);
    try {
      return nodeType.create(attrs, Fragment.fromArray(children));
    } catch (cause) {
      throw conversionError('SCHEMA_VIOLATION', `cannot build node '${element.nodeName}': ${String(cause)}`, location, cause);
    }
  }

  function yTextToNodes(text: Y.XmlText, location: string): ProseMirrorNode[] {
    const delta = text.toDelta() as { insert: unknown; attributes?: Record<string, unknown> }[];
    const nodes: ProseMirrorNode[] = [];
    for (const op of delta) {
      if (typeof op.insert !== 'string') {
        throw conversionError('UNSUPPORTED_YJS_CONTENT', 'embedded non-text content in a Y.XmlText', location);
      }
      if (op.insert.length === 0) continue;
      const marks: ProseMirrorMark[] = [];
      for (const [attrName, value] of Object.entries(op.attributes ?? {})) {
        const markName = HASHED_MARK_NAME.exec(attrName)?.[1] ?? attrName;
        const markType = markTypeNamed(markName, location);
        if (value !== null && !isPlainObject(value)) {
          throw conversionError('INVALID_ATTRIBUTE', `mark '${markName}' has attributes that are not an object`, location);
        }
        marks.push(markType.create(value as Record<string, unknown> | null));
      }
      nodes.push(schema.text(op.insert, marks));
    }
    return nodes;
  }

  function yXmlFragmentToNode(fragment: Y.XmlFragment): ProseMirrorNode {
    return checkedDoc(Fragment.fromArray(yChildrenToNodes(fragment, 'content')), fragmentName);
  }

  // ---- ProseMirror -> Yjs --------------------------------------------------------------------

  function seedDoc(doc: ProseMirrorNode, clientId?: number): Y.Doc {
    const ydoc = new Y.Doc();
    if (clientId !== undefined) ydoc.clientID = clientId;
    prosemirrorToYXmlFragment(doc, ydoc.getXmlFragment(fragmentName));
    return ydoc;
  }

  function applyNode(ydoc: Y.Doc, doc: ProseMirrorNode, options: ApplyOptions): ApplyResult {
    // Inside an open transaction Yjs emits the update only when that outer transaction ends, so
    // the change could not be returned; a caller that needs that should not nest. `_transaction`
    // is a typed member of Y.Doc and the only way to ask; a correctness guard, no speed claimed.
    if (ydoc._transaction !== null) {
      throw new Error('cannot apply content to a Y.Doc inside an open Yjs transaction: its update would not be known yet');
    }
    const updates: Uint8Array[] = [];
    const collect = (update: Uint8Array) => updates.push(update);
    ydoc.on('update', collect);
    try {
      const fragment = ydoc.getXmlFragment(fragmentName);
      // The outer transaction carries the caller's origin; updateYFragment's own transact
      // call joins it instead of starting one with y-prosemirror's origin.
      ydoc.transact(() => {
        updateYFragment(ydoc, fragment, doc, { mapping: new Map(), isOMark: new Map() });
      }, options.origin ?? null);
    } finally {
      ydoc.off('update', collect);
    }
    if (updates.length === 0) return { changed: false, update: null };
    return { changed: true, update: updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates) };
  }

  function encodeSeed(blocks: unknown, options: EncodeSeedOptions = {}): Uint8Array {
    const doc = restBlocksToNode(blocks);
    const clientId = options.clientId ?? seedClientIdFor(canonicalBlocksJSON(blocks));
    return Y.encodeStateAsUpdate(seedDoc(doc, clientId));
  }

  const converter: ScreenplayConverter = {
    schema,
    fragmentName,
    restBlocksToTiptapJSON: (blocks) => restBlocksToNode(blocks).toJSON() as TiptapDocJSON,
    tiptapJSONToRestBlocks: (json) => nodeToRestBlocks(tiptapJSONToProseMirrorNode(json)),
    tiptapJSONToProseMirrorNode,
    // A random client id: the returned document may be edited further, and two editable
    // documents must never share one.
    tiptapJSONToYDoc: (json) => seedDoc(tiptapJSONToProseMirrorNode(json)),
    yDocToTiptapJSON: (ydoc) => yXmlFragmentToNode(ydoc.getXmlFragment(fragmentName)).toJSON() as TiptapDocJSON,
    yXmlFragmentToTiptapJSON: (fragment) => yXmlFragmentToNode(fragment).toJSON() as TiptapDocJSON,
    applyTiptapJSONToYDoc: (ydoc, json, options = {}) => applyNode(ydoc, tiptapJSONToProseMirrorNode(json), options),
    restBlocksToYDoc: (blocks) => {
      const ydoc = new Y.Doc();
      Y.applyUpdate(ydoc, encodeSeed(blocks));
      return ydoc;
    },
    yDocToRestBlocks: (ydoc) => nodeToRestBlocks(yXmlFragmentToNode(ydoc.getXmlFragment(fragmentName))),
    applyRestBlocksToYDoc: (ydoc, blocks, options = {}) => applyNode(ydoc, restBlocksToNode(blocks), options),
    encodeRestBlocksAsUpdate: encodeSeed,
    verifyRestRoundTrip(blocks) {
      try {
        const expected = canonicalBlocksJSON(blocks);
        const update = encodeSeed(blocks);
        const fresh = new Y.Doc();
        Y.applyUpdate(fresh, update);
        const back = nodeToRestBlocks(yXmlFragmentToNode(fresh.getXmlFragment(fragmentName)));
        const actual = canonicalBlocksJSON(back);
        if (actual === expected) return { ok: true, update, blocks: JSON.parse(actual) as CanonicalRestBlock[] };
        const before = JSON.parse(expected) as unknown[];
        const after = JSON.parse(actual) as unknown[];
        let blockIndex = 0;
        while (blockIndex < Math.max(before.length, after.length) && JSON.stringify(before[blockIndex]) === JSON.stringify(after[blockIndex])) {
          blockIndex++;
        }
        return { ok: false, reason: 'MISMATCH', message: `block ${blockIndex} differs after REST -> Yjs -> REST`, blockIndex };
      } catch (error) {
        if (error instanceof InvalidRestBlocksError || error instanceof ScreenplayConversionError) {
          return { ok: false, reason: error.code, message: error.message };
        }
        throw error;
      }
    },
  };
  return converter;
}

let defaultConverter: ScreenplayConverter | undefined;

// The converter for screenplayExtensions and the 'default' fragment, built on first use.
export function getScreenplayConverter(): ScreenplayConverter {
  defaultConverter ??= createScreenplayConverter({ extensions: screenplayExtensions });
  return defaultConverter;
}

export const restBlocksToTiptapJSON = (blocks: unknown): TiptapDocJSON => getScreenplayConverter().restBlocksToTiptapJSON(blocks);
export const tiptapJSONToRestBlocks = (doc: unknown): CanonicalRestBlock[] => getScreenplayConverter().tiptapJSONToRestBlocks(doc);
export const tiptapJSONToYDoc = (doc: unknown): Y.Doc => getScreenplayConverter().tiptapJSONToYDoc(doc);
export const yDocToTiptapJSON = (ydoc: Y.Doc): TiptapDocJSON => getScreenplayConverter().yDocToTiptapJSON(ydoc);
export const yXmlFragmentToTiptapJSON = (fragment: Y.XmlFragment): TiptapDocJSON =>
  getScreenplayConverter().yXmlFragmentToTiptapJSON(fragment);
export const applyTiptapJSONToYDoc = (ydoc: Y.Doc, doc: unknown, options?: ApplyOptions): ApplyResult =>
  getScreenplayConverter().applyTiptapJSONToYDoc(ydoc, doc, options);
export const restBlocksToYDoc = (blocks: unknown): Y.Doc => getScreenplayConverter().restBlocksToYDoc(blocks);
export const yDocToRestBlocks = (ydoc: Y.Doc): CanonicalRestBlock[] => getScreenplayConverter().yDocToRestBlocks(ydoc);
export const applyRestBlocksToYDoc = (ydoc: Y.Doc, blocks: unknown, options?: ApplyOptions): ApplyResult =>
  getScreenplayConverter().applyRestBlocksToYDoc(ydoc, blocks, options);
export const encodeRestBlocksAsUpdate = (blocks: unknown, options?: EncodeSeedOptions): Uint8Array =>
  getScreenplayConverter().encodeRestBlocksAsUpdate(blocks, options);
export const verifyRestRoundTrip = (blocks: unknown): RoundTripReport => getScreenplayConverter().verifyRestRoundTrip(blocks);

// Number of top-level blocks in the scene's fragment: the "Yjs content length" the load-time
// validation (reliability plan 1.3) compares with the REST copy.
export function yDocBlockCount(ydoc: Y.Doc, fragmentName: string = SCREENPLAY_FRAGMENT_NAME): number {
  return ydoc.getXmlFragment(fragmentName).length;
}
