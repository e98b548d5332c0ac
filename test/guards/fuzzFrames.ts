import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import * as Y from 'yjs';
import { frames, MSG, SYNC } from './frames.ts';

/**
 * Makes fuzz frames from a seeded PRNG: random bytes, valid frames with flipped bytes, truncated
 * frames, huge length prefixes, wrong document names, awareness garbage, mutated update payloads in
 * well-formed frames, oversize updates and the occasional frame over the socket limit.
 */
export class FrameFuzzer {
  private readonly corpus: Uint8Array[] = [];
  private readonly updates: Uint8Array[];

  constructor(
    private readonly random: () => number,
    private readonly options: { sceneIds: string[]; tokens: string[]; maxUpdateBytes: number; maxFrameBytes: number },
  ) {
    this.updates = screenplayUpdates(random);
    const [scene] = options.sceneIds;
    for (const name of options.sceneIds) {
      for (const update of this.updates.slice(0, 40)) {
        this.corpus.push(frames.sync(name, SYNC.Update, update), frames.sync(name, SYNC.Step2, update));
      }
      this.corpus.push(
        frames.sync(name, SYNC.Step1, Y.encodeStateVector(new Y.Doc())),
        frames.sync(name, SYNC.Step2, this.updates.at(-1)!, MSG.SyncReply),
        frames.awarenessState(name, 1234, 1, JSON.stringify({ user: { name: 'fuzz' } })),
        frames.queryAwareness(name),
        frames.stateless(name, 'hello'),
        frames.raw(name, MSG.Close, new Uint8Array()),
        ...options.tokens.map((token) => frames.auth(name, token)),
      );
    }
    this.corpus.push(frames.auth(scene!, 'not-a-token'));
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A well-formed UUID that names no scene. */
  uuid(): string {
    const hex = Buffer.from(this.bytes(16)).toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  bytes(length: number): Uint8Array {
    return Uint8Array.from({ length }, () => this.int(256));
  }

  /** A document name that is wrong in one of the ways a client can get it wrong. */
  wrongName(): string {
    const scene = this.pick(this.options.sceneIds);
    return this.pick([
      () => scene.toUpperCase(),
      () => this.uuid(),
      () => `${scene}\0${this.int(1000)}`,
      () => '',
      () => 'INT. HOUSE - NIGHT',
      () => scene.slice(0, 20),
      () => `${scene} `,
      () => 'x'.repeat(2000 + this.int(2000)),
      () => String.fromCharCode(...this.bytes(12)),
    ])();
  }

  /** An update payload: a real one, mutated. */
  mutatedUpdate(): Uint8Array {
    const update = this.pick(this.updates).slice();
    switch (this.int(4)) {
      case 0:
        for (let flips = 1 + this.int(3); flips > 0; flips -= 1) update[this.int(update.length)] = this.int(256);
        return update;
      case 1:
        return update.slice(0, this.int(update.length));
      case 2: {
        const at = this.int(update.length);
        return Uint8Array.from([...update.slice(0, at), ...this.bytes(1 + this.int(6)), ...update.slice(at)]);
      }
      default:
        return Uint8Array.from([...update.slice(0, this.int(update.length)), ...this.pick(this.updates).slice(this.int(8))]);
    }
  }

  /**
   * The next frame. `wire` is anything at all, so most sockets die early of a frame whose name
   * cannot be read (Hocuspocus then closes the socket); `content` keeps the framing valid most of
   * the time, so the frames get past the socket layer to the hooks.
   */
  next(profile: 'wire' | 'content' = 'wire', target?: string): Uint8Array | string {
    if (profile === 'content') {
      // Mostly the document this socket is logged in to: frames for others only queue up.
      const scene = target && this.random() < 0.95 ? target : this.pick(this.options.sceneIds);
      const roll = this.int(1000);
      if (roll < 600) return frames.sync(scene, this.pick([SYNC.Update, SYNC.Update, SYNC.Step2]), this.mutatedUpdate(), this.pick([MSG.Sync, MSG.Sync, MSG.SyncReply]));
      if (roll < 640) return frames.sync(scene, this.pick([SYNC.Step1, 3, 99]), this.mutatedUpdate());
      if (roll < 760) return this.awarenessGarbage(scene);
      if (roll < 800) return frames.sync(scene, SYNC.Update, this.oversizeUpdate());
      if (roll < 860) {
        const name = this.wrongName();
        return this.int(2) ? frames.auth(name, this.pick(this.options.tokens)) : frames.sync(name, SYNC.Update, this.pick(this.updates));
      }
      if (roll < 900) return frames.raw(scene, this.pick([6, 9, 10, 11, 42, 127, 200]), this.bytes(this.int(40)));
      if (roll < 940) return this.flippedPayload(this.pick(this.corpus));
      if (roll < 960) return frames.stateless(scene, String.fromCharCode(...this.bytes(this.int(40))));
      if (roll < 990) return this.pick(this.corpus);
      // The rest may well end the socket.
      return this.next('wire');
    }
    const scene = this.pick(this.options.sceneIds);
    const roll = this.int(1000);
    if (roll < 120) return this.bytes(this.int(80));
    if (roll < 330) {
      const frame = this.pick(this.corpus).slice();
      for (let flips = 1 + this.int(4); flips > 0; flips -= 1) frame[this.int(frame.length)] = this.int(256);
      return frame;
    }
    if (roll < 430) {
      const frame = this.pick(this.corpus);
      return frame.slice(0, this.int(frame.length));
    }
    if (roll < 480) return this.hugeLength(scene);
    if (roll < 560) {
      const name = this.wrongName();
      return this.int(2) ? frames.auth(name, this.pick(this.options.tokens)) : frames.sync(name, SYNC.Update, this.pick(this.updates));
    }
    if (roll < 660) return this.awarenessGarbage(scene);
    if (roll < 930) return frames.sync(scene, this.pick([SYNC.Update, SYNC.Update, SYNC.Step2, SYNC.Step1, 3, 99]), this.mutatedUpdate(), this.pick([MSG.Sync, MSG.Sync, MSG.SyncReply]));
    if (roll < 950) return frames.sync(scene, SYNC.Update, this.oversizeUpdate());
    if (roll < 951) return frames.sync(scene, SYNC.Update, this.bytes(this.options.maxFrameBytes + 10));
    if (roll < 960) return String.fromCharCode(...this.bytes(20));
    if (roll < 980) return frames.raw(scene, this.pick([6, 9, 10, 11, 42, 127, 200]), this.bytes(this.int(40)));
    return this.pick(this.corpus);
  }

  /** A valid frame with bytes flipped after its document name, so it still reaches a document. */
  private flippedPayload(frame: Uint8Array): Uint8Array {
    const copy = frame.slice();
    const nameEnd = 1 + 36;
    if (copy.length <= nameEnd) return copy;
    for (let flips = 1 + this.int(3); flips > 0; flips -= 1) copy[nameEnd + this.int(copy.length - nameEnd)] = this.int(256);
    return copy;
  }

  /** A length prefix that claims far more bytes than follow, in the name or in the payload. */
  private hugeLength(scene: string): Uint8Array {
    const encoder = encoding.createEncoder();
    if (this.int(2)) {
      encoding.writeVarUint(encoder, 2 ** (20 + this.int(30)));
      encoding.writeUint8Array(encoder, this.bytes(this.int(30)));
    } else {
      encoding.writeVarString(encoder, scene);
      encoding.writeVarUint(encoder, this.pick([MSG.Sync, MSG.Awareness, MSG.Stateless]));
      encoding.writeVarUint(encoder, SYNC.Update);
      encoding.writeVarUint(encoder, this.pick([2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, 65_536]));
      encoding.writeUint8Array(encoder, this.bytes(this.int(40)));
    }
    return encoding.toUint8Array(encoder);
  }

  private awarenessGarbage(scene: string): Uint8Array {
    switch (this.int(4)) {
      case 0:
        return frames.awareness(scene, this.bytes(this.int(60)));
      case 1:
        return frames.awarenessState(scene, this.int(2 ** 30), this.int(2 ** 30), String.fromCharCode(...this.bytes(10)));
      case 2:
        return frames.awarenessState(scene, this.int(2 ** 30), this.int(5), this.pick(['null', '{}', '[]', '"x"', '{"user":{"name":' + '"a"'.repeat(3) + '}}']));
      default: {
        const encoder = encoding.createEncoder();
        encoding.writeVarUint(encoder, 1 + this.int(1000));
        encoding.writeUint8Array(encoder, this.bytes(this.int(30)));
        return frames.awareness(scene, encoding.toUint8Array(encoder));
      }
    }
  }

  private oversizeUpdate(): Uint8Array {
    const doc = new Y.Doc();
    doc.getText('paste').insert(0, 'y'.repeat(this.options.maxUpdateBytes + 1 + this.int(1000)));
    return Y.encodeStateAsUpdate(doc);
  }
}

/** Real updates of a small screenplay typed by one client, merged ones among them. */
function screenplayUpdates(random: () => number): Uint8Array[] {
  const doc = new Y.Doc();
  const updates: Uint8Array[] = [];
  doc.on('update', (update: Uint8Array) => updates.push(update));
  const fragment = doc.getXmlFragment('default');
  for (const [type, text] of [
    ['sceneHeading', 'INT. DINER - NIGHT'],
    ['action', 'Rain on the window.'],
    ['character', 'MARGE'],
    ['dialogue', 'Coffee?'],
  ] as const) {
    const element = new Y.XmlElement(type);
    element.setAttribute('blockId', `b${updates.length}`);
    element.insert(0, [new Y.XmlText()]);
    fragment.insert(fragment.length, [element]);
    const node = element.get(0) as Y.XmlText;
    for (const ch of text) node.insert(Math.floor(random() * (node.length + 1)), ch, random() < 0.1 ? { bold: true } : undefined);
    if (node.length > 4) node.delete(1, 2);
  }
  updates.push(Y.encodeStateAsUpdate(doc), Y.mergeUpdates(updates.slice(0, 10)));
  return updates;
}

/**
 * How the server will read a frame, as far as storage is concerned: the document name (without a
 * session suffix) and, for a sync message carrying content, its payload. Null for anything else.
 */
export function contentOf(frame: Uint8Array | string): { documentName: string; payload: Uint8Array } | null {
  if (typeof frame === 'string') frame = new TextEncoder().encode(frame);
  try {
    const decoder = decoding.createDecoder(frame);
    const rawKey = decoding.readVarString(decoder);
    const documentName = rawKey.split('\0')[0]!;
    const messageType = decoding.readVarUint(decoder);
    if (messageType !== MSG.Sync && messageType !== MSG.SyncReply) return null;
    const syncType = decoding.readVarUint(decoder);
    if (syncType !== SYNC.Step2 && syncType !== SYNC.Update) return null;
    return { documentName, payload: decoding.readVarUint8Array(decoder) };
  } catch {
    return null;
  }
}
