// Many updates as one value: `length (4 bytes, big-endian) || bytes` for each, in order. The
// database packs a scene's live log this way (`SceneLog.loadUpdates`, `SceneLog.loadPacked`),
// which reads several times faster than one row per update, and replays travel to a worker thread
// in the same form (src/workers): one buffer instead of thousands of small arrays.

export function packUpdates(updates: readonly Uint8Array[]): Uint8Array {
  const packed = new Uint8Array(updates.reduce((sum, update) => sum + 4 + update.byteLength, 0));
  const view = new DataView(packed.buffer);
  let offset = 0;
  for (const update of updates) {
    view.setUint32(offset, update.byteLength);
    packed.set(update, offset + 4);
    offset += 4 + update.byteLength;
  }
  return packed;
}

/** Splits `length (4 bytes, big-endian) || bytes` records into views on the packed value. */
export function unpackUpdates(packed: Uint8Array): Uint8Array[] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const updates: Uint8Array[] = [];
  let offset = 0;
  while (offset < packed.byteLength) {
    const length = view.getUint32(offset);
    offset += 4;
    if (offset + length > packed.byteLength) throw new Error('packed updates are truncated');
    updates.push(packed.subarray(offset, offset + length));
    offset += length;
  }
  return updates;
}
