import * as Y from 'yjs';
import type { SqlExecutor } from '../../src/db/sql.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import type { StoredUpdate } from '../../src/log/rows.ts';

/**
 * `count` keystrokes into screenplay paragraphs of the `default` fragment, one update each as an
 * editor sends them, with a new paragraph every 50 characters: content the converters accept.
 */
export function typedParagraphs(count: number): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const fragment = doc.getXmlFragment('default');
  for (let i = 0; i < count; i += 1) {
    doc.transact(() => {
      if (i % 50 === 0) {
        const paragraph = new Y.XmlElement('paragraph');
        paragraph.insert(0, [new Y.XmlText()]);
        fragment.insert(fragment.length, [paragraph]);
      }
      const text = (fragment.get(fragment.length - 1) as Y.XmlElement).get(0) as Y.XmlText;
      text.insert(text.length, 'abcdefghij'[i % 10]!);
    });
  }
  doc.destroy();
  return updates;
}

/** Appends the updates to the scene's log as rows, 1,000 per statement. */
export async function storeRows(sql: SqlExecutor, sceneId: string, updates: readonly Uint8Array[]): Promise<void> {
  const log = new SceneLog(sql);
  for (let i = 0; i < updates.length; i += 1000) {
    const results = await log.append(updates.slice(i, i + 1000).map((update) => ({ sceneId, update, createdBy: null })));
    for (const result of results) if (result instanceof Error) throw result;
  }
}

/** Log rows held in memory, as `SceneLog.load` returns them, for work that needs no database. */
export function rowsOf(updates: readonly Uint8Array[]): StoredUpdate[] {
  return updates.map((update, i) => ({
    versionId: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    seq: BigInt(i + 1),
    update,
    isCompacted: false,
    compactedCount: 1,
    createdAt: new Date(0),
  }));
}

/** An update that depends on one the log does not have: a gap. */
export function updateWithMissingDependency(): Uint8Array {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const text = doc.getText('elsewhere');
  text.insert(0, 'a');
  text.insert(1, 'b');
  doc.destroy();
  return updates[1]!;
}

/** A state whose `default` fragment holds a node no converter knows. */
export function unconvertibleState(): Uint8Array {
  const doc = new Y.Doc();
  const element = new Y.XmlElement('hologram');
  element.insert(0, [new Y.XmlText('beam me up')]);
  doc.getXmlFragment('default').insert(0, [element]);
  const state = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return state;
}
