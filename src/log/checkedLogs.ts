import { createHash } from 'node:crypto';

interface Checked {
  /** Length of the packed log that was checked, and how many updates it held. */
  bytes: number;
  rows: number;
  digest: Buffer;
}

/**
 * Remembers, per scene, the live log this process has already checked, so a scene opened again
 * checks only the updates appended since (a scene is reloaded whenever a writer opens it after
 * everyone had left it).
 *
 * What is remembered is a digest of the packed bytes (`SceneLog.loadUpdates`), never a row id: an
 * update counts as checked only when the bytes read now begin with exactly the bytes checked
 * before. New rows always follow the old ones (higher `seq`), so a log that only grew keeps its
 * prefix; a row changed, removed or compacted changes the prefix, and the whole log is checked
 * again. The oldest entries are dropped beyond `capacity` scenes.
 */
export class CheckedLogs {
  private readonly entries = new Map<string, Checked>();

  constructor(private readonly capacity = 10_000) {}

  /** How many of the leading updates in `packed` an earlier load checked, byte for byte. */
  checkedPrefix(sceneId: string, packed: Uint8Array): number {
    const entry = this.entries.get(sceneId);
    if (!entry || packed.byteLength < entry.bytes) return 0;
    return digest(packed.subarray(0, entry.bytes)).equals(entry.digest) ? entry.rows : 0;
  }

  /** Records that every one of the `rows` updates packed in `packed` passed the check. */
  remember(sceneId: string, packed: Uint8Array, rows: number): void {
    this.entries.delete(sceneId);
    this.entries.set(sceneId, { bytes: packed.byteLength, rows, digest: digest(packed) });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }

  forget(sceneId: string): void {
    this.entries.delete(sceneId);
  }
}

function digest(bytes: Uint8Array): Buffer {
  return createHash('sha256').update(bytes).digest();
}
