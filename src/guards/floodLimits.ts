import * as decoding from 'lib0/decoding';
import { FLOOD_REFUSALS, reasonOf, type FloodRefusalCode } from '../collab/closeReasons.ts';
import { fullBucket, takeToken, tokenWait, type RateLimit, type TokenBucket } from './rateLimit.ts';

/**
 * Why the flood guards refuse a message or a socket. `code` is the numeric WebSocket close code
 * (Hocuspocus's CloseEvent shape, as `UpdateRefused`); `kind` is the stable name, the reason's code
 * and the label of the flood metrics.
 */
export class FloodRefused extends Error {
  readonly kind: FloodRefusalCode;
  readonly code: number;
  readonly reason: string;

  constructor(kind: FloodRefusalCode, detail: string) {
    const reason = reasonOf(kind, detail);
    super(reason);
    this.name = 'FloodRefused';
    this.kind = kind;
    this.code = FLOOD_REFUSALS[kind].closeCode;
    this.reason = reason;
  }
}

export type AllowanceDecision = 'pass' | 'drop' | 'close';

/**
 * One connection's allowance of one kind of message. Up to `capacity` pass at once and `perMinute`
 * sustained (a token bucket, `rateLimit.ts`); a message over that is dropped. Each dropped message
 * takes a token from a second bucket, refilled at the same rate, that holds `closeAfterMs` of the
 * allowance. It runs dry only when the connection keeps sending more than twice its allowance for
 * about that long: then it is not a busy editor but a loop, and its socket is closed.
 *
 * The second bucket is deep on purpose. The buckets see frames as the server reads them, so a
 * server that stalls (a long GC pause, a loaded machine) reads what an honest editor sent in that
 * time all at once: 42 caret moves typed during a 300 ms stall arrive as one burst. Such a burst is
 * dropped, not taken for a loop; a loop at 36,000 frames a second still drains a ten-second bucket of
 * 2,400 in under 70 ms.
 */
export class MessageAllowance {
  private passed: TokenBucket;
  private dropped: TokenBucket;
  private readonly droppedLimit: RateLimit;

  constructor(
    private readonly limit: RateLimit,
    closeAfterMs: number,
    now: number,
  ) {
    this.droppedLimit = { perMinute: limit.perMinute, capacity: Math.max(limit.capacity, Math.floor((limit.perMinute * closeAfterMs) / 60_000)) };
    this.passed = fullBucket(limit, now);
    this.dropped = fullBucket(this.droppedLimit, now);
  }

  take(now: number): AllowanceDecision {
    const passed = takeToken(this.passed, this.limit, now);
    this.passed = passed.bucket;
    if (passed.allowed) return 'pass';
    const dropped = takeToken(this.dropped, this.droppedLimit, now);
    this.dropped = dropped.bucket;
    return dropped.allowed ? 'drop' : 'close';
  }

  /** When the next message would pass (now, if one would). */
  nextPassAt(now: number): number {
    return now + tokenWait(this.passed, this.limit, now);
  }
}

/** Hocuspocus message types (server src/types.ts) and the y-protocols sync type the guards tell apart. */
const MESSAGE_SYNC = 0;
const MESSAGE_AWARENESS = 1;
const MESSAGE_QUERY_AWARENESS = 3;
const MESSAGE_SYNC_REPLY = 4;
const SYNC_STEP_1 = 0;

export type FrameKind = 'awareness' | 'query-awareness' | 'sync-step-1' | 'other';

export interface FrameHead {
  /** The frame's address: the document name, or `name\0sessionId` from a session-aware provider. */
  address: string;
  documentName: string;
  kind: FrameKind;
}

/**
 * The address and kind of a client frame, from its first two or three varints; null when they do
 * not decode (Hocuspocus refuses such a frame itself when it gets to it).
 */
export function readFrameHead(frame: Uint8Array): FrameHead | null {
  try {
    const decoder = decoding.createDecoder(frame);
    const address = decoding.readVarString(decoder);
    const messageType = decoding.readVarUint(decoder);
    const separator = address.indexOf('\0');
    const documentName = separator === -1 ? address : address.slice(0, separator);
    let kind: FrameKind = 'other';
    if (messageType === MESSAGE_AWARENESS) kind = 'awareness';
    else if (messageType === MESSAGE_QUERY_AWARENESS) kind = 'query-awareness';
    else if ((messageType === MESSAGE_SYNC || messageType === MESSAGE_SYNC_REPLY) && decoding.readVarUint(decoder) === SYNC_STEP_1) kind = 'sync-step-1';
    return { address, documentName, kind };
  } catch {
    return null;
  }
}

export interface FloodLimits {
  /** Awareness and awareness queries of one document connection. */
  awareness: RateLimit;
  /**
   * How long a connection may keep sending awareness or sync requests at more than twice their
   * rate before its socket is closed (`MessageAllowance`).
   */
  closeAfterMs: number;
  /** Largest awareness frame a client may send, in bytes. */
  maxAwarenessBytes: number;
  /** SyncStep1 messages (each makes the server compute and send a diff) of one document connection. */
  syncStep1: RateLimit;
  /**
   * What one socket may send for scenes it has not been served yet: the values Hocuspocus is
   * configured with too (`maxUnauthenticatedQueueSize`, `maxUnauthenticatedQueueMessages`,
   * `maxPendingDocuments`).
   */
  unauthenticated: { maxBytes: number; maxMessages: number; maxDocuments: number };
}

/** What a refused frame was: the scene it was addressed to, and its document connection if served. */
export interface RefusedFrame<D> {
  documentName: string;
  document: D | null;
  refusal: FloodRefused;
}

/** What to do with one frame. */
export type FrameVerdict<D> =
  | { action: 'pass' }
  /** Not handed to Hocuspocus; counted under the refusal's kind. */
  | ({ action: 'drop' } & RefusedFrame<D>)
  /**
   * Dropped like `drop`, but it is the newest awareness state of its connection: the guard keeps it
   * and `release` hands it back at `at`, when the allowance has room again, unless a newer one
   * passes first. So the last caret position of a burst is never lost, only late.
   */
  | ({ action: 'hold'; at: number } & RefusedFrame<D>)
  /** Not handed to Hocuspocus; that document connection is closed with the refusal. */
  | ({ action: 'close-document'; document: D } & RefusedFrame<D>)
  /** Not handed to Hocuspocus; the socket is closed with the refusal. */
  | ({ action: 'close-socket' } & RefusedFrame<D>)
  /** The socket is being closed: nothing more it sends is handled. */
  | { action: 'ignore' };

/** One scene's traffic on one socket, from its first frame until its document connection closes. */
interface SceneOnSocket<D> {
  /** The document connection serving it; null while it waits to be authenticated and loaded. */
  document: D | null;
  awareness: MessageAllowance;
  syncStep1: MessageAllowance;
  /** The newest awareness update dropped over the rate since the last one passed (`hold`). */
  held: Uint8Array | null;
  /** What arrived for it while it waited: what Hocuspocus queues for it. */
  queuedBytes: number;
  queuedMessages: number;
}

/**
 * The flood decisions on one socket's frames, made as each frame arrives, before Hocuspocus queues
 * it, decodes it or relays it to anyone: two or three varints and a token bucket.
 *
 * Each scene the socket addresses has its allowances from its first frame on, so what a client
 * sends while it authenticates counts too: Hocuspocus queues those frames and hands them all to the
 * scene's connection at once when it is served, where a burst held back that way would be relayed
 * in one go.
 *
 * Frames for a scene that is not served yet are also counted as Hocuspocus's queue, and a socket
 * that sends more than Hocuspocus would queue is closed here, with a reason of ours, before
 * Hocuspocus sees the frame. The count is never below Hocuspocus's (it includes the authentication
 * frame, the moment between authentication and being served, and the frames of a scene that was
 * refused, which Hocuspocus forgets at the refusal), so with the same limits this decision is
 * always reached first.
 *
 * `D` is the document connection (Hocuspocus's `Connection`); nothing here touches it.
 */
export class SocketFloodGuard<D> {
  private readonly scenes = new Map<string, SceneOnSocket<D>>();
  /** Scenes with frames queued, and the frames' total: Hocuspocus's pending documents and queue. */
  private waiting = 0;
  private queuedBytes = 0;
  private queuedMessages = 0;
  private closing = false;
  /** Made once per socket: a flood drops thousands of frames, and an error's stack costs microseconds. */
  private floodRefusals: { awareness: FloodRefused; syncStep1: FloodRefused } | null = null;

  constructor(private readonly limits: FloodLimits) {}

  /** The scene at `address` is served on this socket from now on (Hocuspocus drained its queue). */
  serve(address: string, document: D, now: number): void {
    const scene = this.scenes.get(address) ?? this.newScene(now);
    this.dequeue(scene);
    scene.document = document;
    this.scenes.set(address, scene);
  }

  /**
   * That document connection closed. What the socket sends for the scene from now on waits again,
   * under fresh allowances: being served again takes a whole authentication.
   */
  closed(address: string, document: D): void {
    const scene = this.scenes.get(address);
    if (scene?.document !== document) return;
    this.dequeue(scene);
    this.scenes.delete(address);
  }

  decide(frame: Uint8Array, now: number): FrameVerdict<D> {
    if (this.closing) return { action: 'ignore' };
    const head = readFrameHead(frame);
    if (!head) return { action: 'pass' };
    const own = this.scenes.get(head.address);
    // Hocuspocus routes by the full address, then by the plain name (providers without sessions).
    const served = own?.document ? own : this.scenes.get(head.documentName)?.document ? this.scenes.get(head.documentName)! : null;
    if (served) return this.decideMessage(served, head, frame, now);
    return this.decideWaiting(own ?? null, head, frame, now);
  }

  /**
   * The held awareness updates whose allowance has room again, taken from it: the caller hands
   * them to Hocuspocus as if they arrived now.
   */
  release(now: number): Uint8Array[] {
    const released: Uint8Array[] = [];
    if (this.closing) return released;
    for (const scene of this.scenes.values()) {
      if (!scene.held || scene.awareness.nextPassAt(now) > now || scene.awareness.take(now) !== 'pass') continue;
      released.push(scene.held);
      scene.held = null;
    }
    return released;
  }

  /** When `release` will next have something to give back; null when nothing is held. */
  nextReleaseAt(now: number): number | null {
    let next: number | null = null;
    if (this.closing) return next;
    for (const scene of this.scenes.values()) {
      if (scene.held) next = Math.min(next ?? Infinity, scene.awareness.nextPassAt(now));
    }
    return next;
  }

  /** The allowances and the size limit of a frame for a scene, served or waiting. */
  private decideMessage(scene: SceneOnSocket<D>, head: FrameHead, frame: Uint8Array, now: number): FrameVerdict<D> {
    const { maxAwarenessBytes } = this.limits;
    const bytes = frame.byteLength;
    const refused = (refusal: FloodRefused) => ({ documentName: head.documentName, document: scene.document, refusal });
    if (head.kind === 'awareness' && bytes > maxAwarenessBytes) {
      const refusal = new FloodRefused('awareness-too-large', `the awareness update is ${bytes} bytes; the limit is ${maxAwarenessBytes}`);
      // A waiting scene has no connection to close yet: the update is dropped.
      return scene.document ? { action: 'close-document', ...refused(refusal), document: scene.document } : { action: 'drop', ...refused(refusal) };
    }
    switch (head.kind) {
      // An awareness update and a query for everyone's awareness (answered with all of it) share one
      // allowance. Each update carries its sender's whole state, so only the newest one dropped is
      // worth keeping (a waiting scene's is not: Hocuspocus's queue would take it).
      case 'awareness': {
        const verdict = this.allowance(scene.awareness, now, () => refused(this.refusalsOfRate().awareness));
        if (verdict.action === 'pass') scene.held = null;
        if (verdict.action !== 'drop' || !scene.document) return verdict;
        scene.held = frame;
        return { ...verdict, action: 'hold', at: scene.awareness.nextPassAt(now) };
      }
      case 'query-awareness':
        return this.allowance(scene.awareness, now, () => refused(this.refusalsOfRate().awareness));
      case 'sync-step-1':
        return this.allowance(scene.syncStep1, now, () => refused(this.refusalsOfRate().syncStep1));
      case 'other':
        return { action: 'pass' };
    }
  }

  private refusalsOfRate(): { awareness: FloodRefused; syncStep1: FloodRefused } {
    const { awareness, syncStep1 } = this.limits;
    this.floodRefusals ??= {
      awareness: new FloodRefused('awareness-flood', `awareness sent at over twice the limit of ${awareness.perMinute} a minute`),
      syncStep1: new FloodRefused('sync-flood', `sync requests at over twice the limit of ${syncStep1.perMinute} a minute`),
    };
    return this.floodRefusals;
  }

  private allowance(allowance: MessageAllowance, now: number, refused: () => RefusedFrame<D>): FrameVerdict<D> {
    const decision = allowance.take(now);
    if (decision === 'pass') return { action: 'pass' };
    if (decision === 'drop') return { action: 'drop', ...refused() };
    return this.closeSocket(refused());
  }

  /** A frame for a scene not served yet: Hocuspocus's queue limits, then the scene's allowances. */
  private decideWaiting(known: SceneOnSocket<D> | null, head: FrameHead, frame: Uint8Array, now: number): FrameVerdict<D> {
    const { maxBytes, maxMessages, maxDocuments } = this.limits.unauthenticated;
    const bytes = frame.byteLength;
    const refused = (refusal: FloodRefused) => this.closeSocket({ documentName: head.documentName, document: null, refusal });
    const scene = known ?? this.newScene(now);
    if (scene.queuedMessages === 0 && this.waiting >= maxDocuments) {
      return refused(new FloodRefused('unauthenticated-documents', `more than ${maxDocuments} scenes awaiting authentication`));
    }
    if (this.queuedBytes + bytes > maxBytes) {
      return refused(new FloodRefused('unauthenticated-queue-bytes', `more than ${maxBytes} bytes sent before authentication`));
    }
    if (this.queuedMessages + 1 > maxMessages) {
      return refused(new FloodRefused('unauthenticated-queue-messages', `more than ${maxMessages} messages sent before authentication`));
    }
    const verdict = this.decideMessage(scene, head, frame, now);
    // What is not handed to Hocuspocus is not in its queue (and a scene whose first frame was
    // refused is not remembered: only a scene with frames queued is).
    if (verdict.action !== 'pass') return verdict;
    if (!known) this.scenes.set(head.address, scene);
    if (scene.queuedMessages === 0) this.waiting += 1;
    scene.queuedBytes += bytes;
    scene.queuedMessages += 1;
    this.queuedBytes += bytes;
    this.queuedMessages += 1;
    return verdict;
  }

  private newScene(now: number): SceneOnSocket<D> {
    return {
      document: null,
      awareness: new MessageAllowance(this.limits.awareness, this.limits.closeAfterMs, now),
      syncStep1: new MessageAllowance(this.limits.syncStep1, this.limits.closeAfterMs, now),
      held: null,
      queuedBytes: 0,
      queuedMessages: 0,
    };
  }

  private dequeue(scene: SceneOnSocket<D>): void {
    if (scene.queuedMessages === 0) return;
    this.waiting -= 1;
    this.queuedBytes -= scene.queuedBytes;
    this.queuedMessages -= scene.queuedMessages;
    scene.queuedBytes = 0;
    scene.queuedMessages = 0;
  }

  private closeSocket(refused: RefusedFrame<D>): FrameVerdict<D> {
    this.closing = true;
    return { action: 'close-socket', ...refused };
  }
}
