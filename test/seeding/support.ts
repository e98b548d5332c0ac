import * as Y from 'yjs';

/** A scene in both REST shapes the seeds use (plain blocks, the dialogue `character` form, metadata). */
export const SCENE_BLOCKS = [
  { type: 'scene_heading', text: 'INT. DINER - NIGHT', id: 'b1' },
  { type: 'action', text: 'Rain against the glass.\nNeon hums.', metadata: { revised: true } },
  { type: 'character', text: 'MAYA' },
  { type: 'dialogue', text: 'We were never here.', character: 'MAYA', marks: [{ type: 'italic', from: 3, to: 7 }] },
  { type: 'transition', text: 'CUT TO:' },
];

export const OTHER_BLOCKS = [
  { type: 'scene_heading', text: 'EXT. PIER - DAWN' },
  { type: 'action', text: 'Gulls.' },
];

/** An update that only deletes: items the log never received, so it replays to nothing. */
export function deleteOnlyUpdate(): Uint8Array {
  const doc = new Y.Doc();
  const fragment = doc.getXmlFragment('default');
  const paragraph = new Y.XmlElement('paragraph');
  paragraph.insert(0, [new Y.XmlText('lost text')]);
  fragment.insert(0, [paragraph]);
  const before = Y.encodeStateVector(doc);
  fragment.delete(0, fragment.length);
  return Y.encodeStateAsUpdate(doc, before);
}

/** A valid update to another root type (the seeds' old `content` array): the fragment stays empty. */
export function otherRootUpdate(): Uint8Array {
  const doc = new Y.Doc();
  doc.getArray('content').push([{ type: 'action', text: 'Written to the wrong root' }]);
  return Y.encodeStateAsUpdate(doc);
}

/** The update that deletes everything in `state`'s `default` fragment (a user clearing a scene). */
export function deleteAllUpdate(state: Uint8Array): Uint8Array {
  const doc = new Y.Doc();
  Y.applyUpdate(doc, state);
  const before = Y.encodeStateVector(doc);
  const fragment = doc.getXmlFragment('default');
  fragment.delete(0, fragment.length);
  return Y.encodeStateAsUpdate(doc, before);
}
