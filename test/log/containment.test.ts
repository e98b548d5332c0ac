import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { isEmptyUpdate, updateAddsNothing } from '../../src/log/containment.ts';

function typedDoc(text: string): Y.Doc {
  const doc = new Y.Doc();
  doc.getText('t').insert(0, text);
  return doc;
}

function captureUpdate(doc: Y.Doc, change: (doc: Y.Doc) => void): Uint8Array {
  let captured: Uint8Array | null = null;
  const handler = (update: Uint8Array) => {
    captured = update;
  };
  doc.on('update', handler);
  change(doc);
  doc.off('update', handler);
  if (!captured) throw new Error('change produced no update');
  return captured;
}

describe('updateAddsNothing', () => {
  it('is false for an insertion the server has not seen', () => {
    const client = typedDoc('hello');
    const server = new Y.Doc();
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client));
    const update = captureUpdate(client, (d) => d.getText('t').insert(5, '!'));
    expect(updateAddsNothing(server, update)).toBe(false);
  });

  it('is true for an insertion the server already applied (a resend)', () => {
    const client = typedDoc('hello');
    const server = new Y.Doc();
    const update = captureUpdate(client, (d) => d.getText('t').insert(5, '!'));
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client));
    expect(updateAddsNothing(server, update)).toBe(true);
  });

  it('is false for a deletion the server has not seen, true once applied', () => {
    const client = typedDoc('hello');
    const server = new Y.Doc();
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client));
    const deletion = captureUpdate(client, (d) => d.getText('t').delete(0, 2));
    expect(updateAddsNothing(server, deletion)).toBe(false);
    Y.applyUpdate(server, deletion);
    expect(updateAddsNothing(server, deletion)).toBe(true);
  });

  it('is true for a reconnecting client whose sync step carries only known structs and deletes', () => {
    const client = typedDoc('hello world');
    client.getText('t').delete(0, 6);
    const server = new Y.Doc();
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client));
    // What the provider sends as SyncStep2: everything the server lacks plus the full delete set.
    const step2 = Y.encodeStateAsUpdate(client, Y.encodeStateVector(server));
    expect(isEmptyUpdate(step2)).toBe(false);
    expect(updateAddsNothing(server, step2)).toBe(true);
  });

  it('is false for a sync step that mixes known and new structs', () => {
    const client = typedDoc('abc');
    const server = new Y.Doc();
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client));
    client.getText('t').insert(3, 'd');
    expect(updateAddsNothing(server, Y.encodeStateAsUpdate(client))).toBe(false);
  });

  it('treats the two-byte empty update as empty', () => {
    expect(isEmptyUpdate(Y.encodeStateAsUpdate(new Y.Doc()))).toBe(true);
    expect(isEmptyUpdate(new Uint8Array([0, 0]))).toBe(true);
    expect(isEmptyUpdate(Y.encodeStateAsUpdate(typedDoc('x')))).toBe(false);
  });
});
