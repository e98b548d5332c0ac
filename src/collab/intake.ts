import * as decoding from 'lib0/decoding';

/**
 * Recognising a client's content message twice: once when its WebSocket frame arrives, and again
 * when Hocuspocus processes it (`beforeSync`), possibly much later, because Hocuspocus handles one
 * connection's messages strictly one after another.
 *
 * Both sightings see views on the same frame bytes (Hocuspocus decodes the frame in place), so the
 * pair (underlying buffer, byte offset) names the message. Entries of messages never processed
 * (their connection closed first) go away with the frame's buffer.
 */
export class PayloadMap<V> {
  private readonly byBuffer = new WeakMap<ArrayBufferLike, Map<number, V>>();

  set(payload: Uint8Array, value: V): void {
    let offsets = this.byBuffer.get(payload.buffer);
    if (!offsets) {
      offsets = new Map();
      this.byBuffer.set(payload.buffer, offsets);
    }
    offsets.set(payload.byteOffset, value);
  }

  has(payload: Uint8Array): boolean {
    return this.byBuffer.get(payload.buffer)?.has(payload.byteOffset) ?? false;
  }

  /** Returns and forgets the value recorded for this message. */
  take(payload: Uint8Array): V | undefined {
    const offsets = this.byBuffer.get(payload.buffer);
    if (!offsets) return undefined;
    const value = offsets.get(payload.byteOffset);
    offsets.delete(payload.byteOffset);
    return value;
  }
}

/** Hocuspocus message types (first varUint after the document name) that carry a sync message. */
const MESSAGE_SYNC = 0;
const MESSAGE_SYNC_REPLY = 4;
/** y-protocols sync message types that carry document content. */
export const SYNC_STEP_2 = 1;
export const SYNC_UPDATE = 2;

export interface ContentFrame {
  documentName: string;
  type: typeof SYNC_STEP_2 | typeof SYNC_UPDATE;
  /** A view on the frame's bytes, the same view Hocuspocus later hands to `beforeSync`. */
  payload: Uint8Array;
}

/** The content a client frame carries (SyncStep2 or Update), or null for anything else or garbage. */
export function readContentFrame(frame: Uint8Array): ContentFrame | null {
  try {
    const decoder = decoding.createDecoder(frame);
    const address = decoding.readVarString(decoder);
    const messageType = decoding.readVarUint(decoder);
    if (messageType !== MESSAGE_SYNC && messageType !== MESSAGE_SYNC_REPLY) return null;
    const type = decoding.readVarUint(decoder);
    if (type !== SYNC_STEP_2 && type !== SYNC_UPDATE) return null;
    const payload = decoding.readVarUint8Array(decoder);
    const separator = address.indexOf('\0');
    return { documentName: separator === -1 ? address : address.slice(0, separator), type, payload };
  } catch {
    // Not a well-formed frame: Hocuspocus rejects it when it gets to it; nothing to do early.
    return null;
  }
}
