import { Socket } from 'node:net';

/** TCP sockets holding their writes until the current event-loop turn ends. */
const held = new WeakSet<Socket>();

/**
 * Holds what the server writes to this WebSocket's connection until the current turn of the event
 * loop ends, then sends it in one write.
 *
 * A group commit releases many acknowledgements at once: every update of the batch resolves in
 * the same turn, and Hocuspocus answers each with its own frame. Written one by one, that is one
 * system call and usually one TCP segment per frame (about a fifth of the server's CPU at full
 * load); held, a connection's frames of the turn leave together. Nothing waits beyond the turn:
 * the socket is released in `setImmediate`, before the event loop next waits for I/O.
 *
 * The TCP socket is the `ws` WebSocket's private `_socket`: neither `ws` nor Hocuspocus (nor
 * crossws, which hands Hocuspocus the WebSocket) offers a way to hold a connection's writes. For
 * anything else this does nothing. What it buys (README, Performance): one system call per
 * acknowledgement was a fifth of this server's CPU, and across 100 scenes with 100 clients the
 * server carried 73-78% of the floor's updates/s in the full runs before, 92-106% after.
 */
export function coalesceWritesThisTurn(webSocket: unknown): void {
  const socket = tcpSocketOf(webSocket);
  if (!socket || held.has(socket) || socket.destroyed) return;
  held.add(socket);
  socket.cork();
  setImmediate(() => {
    held.delete(socket);
    socket.uncork();
  });
}

function tcpSocketOf(webSocket: unknown): Socket | null {
  if (typeof webSocket !== 'object' || webSocket === null) return null;
  const socket: unknown = (webSocket as { _socket?: unknown })._socket;
  return socket instanceof Socket ? socket : null;
}
