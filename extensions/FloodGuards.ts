import type { Connection, connectedPayload, Extension, onConfigurePayload, WebSocketLike } from '@hocuspocus/server';
import { describeId } from '../src/auth/ids.ts';
import type { ConnectionContext } from '../src/collab/origins.ts';
import { SocketFloodGuard, type FloodLimits, type RefusedFrame } from '../src/guards/floodLimits.ts';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';

export interface FloodGuardsConfiguration {
  limits: FloodLimits;
  metrics: Metrics;
  logger: Logger;
  now: () => number;
}

type DocumentConnection = Connection<ConnectionContext>;

interface GuardedSocket {
  guard: SocketFloodGuard<DocumentConnection>;
  websocket: WebSocketLike;
  /** Hocuspocus's id of the socket, once a scene is served on it (for the logs). */
  socketId: string | undefined;
  /** Hocuspocus's own handler of the socket's frames, for the held awareness updates released later. */
  handleMessage: (frame: Uint8Array) => void;
  /** Set while held awareness updates wait for their allowance. */
  releaseTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Refuses floods of the messages the update guards do not see, as each frame arrives and before
 * Hocuspocus queues, decodes or relays it: reading its kind is two or three varints, where
 * Hocuspocus would decode an awareness update into a scratch document, run the hooks and relay it
 * to every editor of the scene. The decisions are `SocketFloodGuard`'s (`src/guards/floodLimits.ts`).
 *
 * What each refusal does, and why:
 * - Awareness (and queries for it) and SyncStep1 have an allowance per document connection. A
 *   message over its rate is dropped and counted (`collab_messages_refused_total`). An awareness
 *   update carries its sender's whole state, so the newest one dropped is held and handed to
 *   Hocuspocus when the allowance has room again, unless a newer one passed first: a burst's last
 *   caret position arrives late, never not at all. A connection that keeps sending more than twice
 *   its allowance for `FLOOD_CLOSE_AFTER_SECONDS` is a loop, not an editor: its socket is closed
 *   with 4429 and `awareness-flood` or `sync-flood` (`collab_sockets_refused_total`), so the
 *   provider reconnects after its delay and a runaway client gets one burst per reconnect. The
 *   time is generous because a stalled server reads an honest editor's caret moves all at once.
 * - An awareness update over `maxAwarenessBytes` closes that scene's connection with
 *   `awareness-too-large`, leaving the socket open: the same state would be refused again, so a
 *   reconnect would only loop. The editor page shows it and asks for a reload.
 * - More sent before authentication than Hocuspocus queues (bytes, messages, scenes awaiting
 *   authentication) closes the socket with an `unauthenticated-*` reason. Hocuspocus is configured
 *   with the same limits, and would close with its own `Reset Connection` and a console warning
 *   only; this count is never below its own, so the reason, the metric and the log line are ours.
 *
 * None of it touches another connection: a dropped frame is one nobody else would have received
 * yet, and only the flooding socket or scene connection is closed.
 *
 * Hocuspocus hands each socket's frames to its `ClientConnection.handleMessage`; no hook sees a
 * frame before it is queued behind the socket's earlier messages (`beforeHandleMessage` runs in
 * the queue, `beforeHandleAwareness` after the decode). So `onConfigure` wraps the Hocuspocus
 * instance's `handleConnection`, which makes one per socket, and replaces that instance's
 * `handleMessage`. It buys the flood scenario (`npm run bench -- --only=flood`: five editors
 * typing 50 keystrokes a second beside one viewer flooding awareness, five rounds): without the
 * guard the editors' edit->peer p99 went from 7-12 ms alone to 3.2-9.9 s flooded, and in two rounds
 * of five no keystroke reached a peer at all; with it, 5.3 ms alone and 7.6 ms flooded in the
 * median round (1.44x; rounds 0.84x to 2.31x); closing only after FLOOD_CLOSE_AFTER_SECONDS, 1.80x
 * (1.43x to 2.44x).
 */
export class FloodGuards implements Extension {
  extensionName = 'FloodGuards';

  // Its decisions are made on the socket, before any hook runs; its `connected` hook only records
  // which scenes the socket is served, so its place among the others does not matter.
  priority = 1250;

  private readonly configuration: FloodGuardsConfiguration;
  /** Per socket, by the request object Hocuspocus hands to every hook of that socket. */
  private readonly sockets = new WeakMap<object, GuardedSocket>();
  /** Document connections whose first dropped message was logged (a flood would log one line per frame). */
  private readonly reported = new WeakSet<DocumentConnection>();

  constructor(configuration: Omit<FloodGuardsConfiguration, 'now'> & { now?: () => number }) {
    this.configuration = { now: Date.now, ...configuration };
  }

  async onConfigure({ instance }: onConfigurePayload): Promise<void> {
    const handleConnection = instance.handleConnection.bind(instance);
    instance.handleConnection = (websocket, request, context) => {
      const client = handleConnection(websocket, request, context);
      const socket: GuardedSocket = {
        guard: new SocketFloodGuard(this.configuration.limits),
        websocket: websocket as WebSocketLike,
        socketId: undefined,
        handleMessage: client.handleMessage,
        releaseTimer: undefined,
      };
      this.sockets.set(request, socket);
      client.handleMessage = (frame: Uint8Array) => {
        if (this.admit(socket, frame)) socket.handleMessage(frame);
      };
      return client;
    };
  }

  async connected({ request, connection, socketId }: connectedPayload<ConnectionContext>): Promise<void> {
    const socket = this.sockets.get(request);
    if (!socket) return;
    socket.socketId = socketId;
    const address = connection.messageAddress;
    socket.guard.serve(address, connection, this.configuration.now());
    connection.onClose(() => socket.guard.closed(address, connection));
  }

  /** Whether Hocuspocus gets the frame; a refused frame is counted, and what it calls for is done. */
  private admit(socket: GuardedSocket, frame: Uint8Array): boolean {
    const verdict = socket.guard.decide(frame, this.configuration.now());
    switch (verdict.action) {
      case 'pass':
        return true;
      case 'ignore':
        return false;
      case 'drop':
      case 'hold': {
        this.configuration.metrics.messagesRefused.inc({ reason: verdict.refusal.kind });
        if (verdict.document && !this.reported.has(verdict.document)) {
          this.reported.add(verdict.document);
          this.log(socket, verdict, 'info', 'messages over their rate dropped (logged once per scene connection)');
        }
        if (verdict.action === 'hold') this.scheduleRelease(socket, verdict.at);
        return false;
      }
      case 'close-document': {
        this.configuration.metrics.messagesRefused.inc({ reason: verdict.refusal.kind });
        this.log(socket, verdict, 'warn', 'scene connection closed: message refused');
        verdict.document.close({ code: verdict.refusal.code, reason: verdict.refusal.reason });
        return false;
      }
      case 'close-socket': {
        this.configuration.metrics.socketsRefused.inc({ reason: verdict.refusal.kind });
        this.log(socket, verdict, 'warn', 'socket closed: flood');
        socket.websocket.close(verdict.refusal.code, verdict.refusal.reason);
        return false;
      }
    }
  }

  /** Hands the held awareness updates to Hocuspocus once their allowance has room (one timer per socket). */
  private scheduleRelease(socket: GuardedSocket, at: number): void {
    if (socket.releaseTimer) return;
    const release = () => {
      socket.releaseTimer = undefined;
      const now = this.configuration.now();
      for (const frame of socket.guard.release(now)) socket.handleMessage(frame);
      const next = socket.guard.nextReleaseAt(now);
      if (next !== null) this.scheduleRelease(socket, next);
    };
    socket.releaseTimer = setTimeout(release, Math.max(0, at - this.configuration.now()));
    socket.releaseTimer.unref();
  }

  private log(socket: GuardedSocket, verdict: RefusedFrame<DocumentConnection>, level: 'info' | 'warn', message: string): void {
    this.configuration.logger[level](
      { sceneId: describeId(verdict.documentName), socketId: socket.socketId, userId: verdict.document?.context?.userId, reason: verdict.refusal.reason },
      message,
    );
  }
}
