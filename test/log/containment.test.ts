import { describe, expect, it } from 'vitest';
import * as Y from 'yjs';
import { isEmptyUpdate, updateAddsNothing, updateMetaOf, withoutContainedStructs } from '../../src/log/containment.ts';
import { structRanges } from '../helpers/logContent.ts';
import { mulberry32 } from '../helpers/prng.ts';

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

  it('is false for a deletion of which the server has deleted only part, or lacks the deleted text', () => {
    const client = typedDoc('hello world');
    const server = new Y.Doc();
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client));
    const first = captureUpdate(client, (d) => d.getText('t').delete(0, 2));
    const both = captureUpdate(client, (d) => d.getText('t').delete(0, 4));
    Y.applyUpdate(server, first);
    expect(updateAddsNothing(server, both)).toBe(false);
    Y.applyUpdate(server, both);
    expect(updateAddsNothing(server, both)).toBe(true);
    // Deleting text the server has never received: the update carries nothing but that deletion.
    const unseen = captureUpdate(client, (d) => d.getText('t').insert(0, 'new '));
    const deletesUnseen = captureUpdate(client, (d) => d.getText('t').delete(0, 3));
    expect(updateAddsNothing(server, deletesUnseen)).toBe(false);
    Y.applyUpdate(server, unseen);
    Y.applyUpdate(server, deletesUnseen);
    expect(updateAddsNothing(server, deletesUnseen)).toBe(true);
  });

  it('agrees with a snapshot of the whole document on random edits by several writers', () => {
    const random = mulberry32(20261122);
    const writers = [new Y.Doc(), new Y.Doc(), new Y.Doc()];
    const server = new Y.Doc();
    const updates: Uint8Array[] = [];
    for (const writer of writers) writer.on('update', (update: Uint8Array, origin: unknown) => origin !== 'sync' && updates.push(update));
    const verdicts = { contained: 0, new: 0 };
    for (let step = 0; step < 600; step += 1) {
      const writer = writers[Math.floor(random() * writers.length)]!;
      const text = writer.getText('t');
      if (text.length > 0 && random() < 0.35) {
        const at = Math.floor(random() * text.length);
        text.delete(at, 1 + Math.floor(random() * Math.min(5, text.length - at)));
      } else {
        text.insert(Math.floor(random() * (text.length + 1)), 'abc'.slice(0, 1 + Math.floor(random() * 3)));
      }
      // The server gets most updates as they are made and now and then a writer's whole state;
      // writers now and then catch up with each other.
      if (random() < 0.6) Y.applyUpdate(server, updates.at(-1)!);
      if (random() < 0.2) Y.applyUpdate(server, Y.encodeStateAsUpdate(writers[Math.floor(random() * writers.length)]!));
      if (random() < 0.1) {
        const other = writers[Math.floor(random() * writers.length)]!;
        Y.applyUpdate(writer, Y.encodeStateAsUpdate(other, Y.encodeStateVector(writer)), 'sync');
      }
      const candidates = [updates.at(-1)!, updates[Math.floor(random() * updates.length)]!, Y.encodeStateAsUpdate(writer, Y.encodeStateVector(server))];
      for (const update of candidates) {
        const contained = Y.snapshotContainsUpdate(Y.snapshot(server), update);
        expect(updateAddsNothing(server, update)).toBe(contained);
        verdicts[contained ? 'contained' : 'new'] += 1;
      }
    }
    // Both answers come up often, deletions included.
    expect(verdicts.contained).toBeGreaterThan(200);
    expect(verdicts.new).toBeGreaterThan(200);
  });

  it('refuses to judge an update that does not decode', () => {
    expect(() => updateAddsNothing(new Y.Doc(), new Uint8Array([1, 1, 9, 0, 0xff, 0xff]))).toThrow(/not a sound Yjs update/);
  });

  it('treats the two-byte empty update as empty', () => {
    expect(isEmptyUpdate(Y.encodeStateAsUpdate(new Y.Doc()))).toBe(true);
    expect(isEmptyUpdate(new Uint8Array([0, 0]))).toBe(true);
    expect(isEmptyUpdate(Y.encodeStateAsUpdate(typedDoc('x')))).toBe(false);
  });
});

describe('withoutContainedStructs', () => {
  it('keeps an update the document holds none of, bytes and ranges', () => {
    const client = typedDoc('hello');
    const server = new Y.Doc();
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client));
    const update = captureUpdate(client, (d) => d.getText('t').insert(5, '!'));
    const meta = updateMetaOf(update);
    const kept = withoutContainedStructs(server, update, meta);
    expect(kept.update).toBe(update);
    expect(kept.structs).toBe(meta.structs);
  });

  it('cuts the structs the document holds from a sync step that mixes them with new ones, keeping the deletions', () => {
    const client = typedDoc('hello');
    const server = new Y.Doc();
    Y.applyUpdate(server, Y.encodeStateAsUpdate(client));
    client.getText('t').insert(5, ' world');
    client.getText('t').delete(0, 1);
    // As a sync step answering a state the server has moved past: everything since nothing.
    const step = Y.encodeStateAsUpdate(client);
    const cut = withoutContainedStructs(server, step, updateMetaOf(step));
    expect(cut.structs).toBeUndefined();
    expect(structRanges([cut.update])).toEqual(new Map([[client.clientID, [[5, 11]]]]));
    expect(Y.decodeUpdate(cut.update).ds.clients.get(client.clientID)).toHaveLength(1);
    Y.applyUpdate(server, cut.update);
    expect(server.getText('t').toString()).toBe('ello world');
  });
});
