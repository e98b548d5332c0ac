import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Server as CollabServer } from '@hocuspocus/server';
import type { Logger } from '../logger.ts';
import type { UpgradeListener } from './heldPorts.ts';

export interface CollabUpgrades {
  /** A port's upgrade listener (`HeldPort.serve`). */
  upgrade: UpgradeListener;
  /** From now on every upgrade is refused (503): the server is stopping. */
  refuseNew(): void;
  /**
   * Destroys the sockets handed to Hocuspocus that are still open. Called once Hocuspocus has
   * closed its connections: what is left never authenticated a scene, or is still in the close
   * handshake, and would keep its port's close waiting.
   */
  destroyOpen(): void;
}

/**
 * The collaboration WebSocket's upgrades on one port: `PORT` takes them on every path (as a
 * Hocuspocus server does), the HTTP port under `path` only, so that one port (one reverse proxy,
 * one TLS port) can carry the page, the API and the editors' sockets.
 *
 * An upgrade is handed to the Hocuspocus server's own upgrade listener (the public `httpServer` of
 * `@hocuspocus/server`'s Server, which never listens itself: src/server/heldPorts.ts does): its
 * `onUpgrade` hooks, then crossws and ws with the same `websocketOptions` (`maxPayload`), then the
 * same Hocuspocus instance, so every extension, limit and close reason is the same on both ports.
 * An upgrade on another path is answered 404 and closed: a socket nobody answers would hang until
 * the client gives up.
 */
export function collabUpgrades(collab: CollabServer, options: { path: string | null; logger: Logger }): CollabUpgrades {
  const { path, logger } = options;
  const open = new Set<Duplex>();
  let refusing = false;
  return {
    upgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node takes its own error listener off an upgraded socket, and ws adds one only once the
      // onUpgrade hooks have run: a client resetting the connection in between must not be an
      // uncaught exception.
      socket.on('error', (error) => {
        logger.debug({ err: error }, 'upgraded socket failed');
        socket.destroy();
      });
      if (refusing) return refuseUpgrade(socket, 503, 'Service Unavailable', 'the server is stopping');
      if (path !== null && pathnameOf(request.url) !== path) {
        return refuseUpgrade(socket, 404, 'Not Found', `no WebSocket is served here; the collaboration WebSocket is at ${path}`);
      }
      open.add(socket);
      socket.once('close', () => open.delete(socket));
      collab.httpServer.emit('upgrade', request, socket, head);
    },
    refuseNew: () => {
      refusing = true;
    },
    destroyOpen: () => {
      for (const socket of open) socket.destroy();
    },
  };
}

/** The path of a request target (`/collab?schemaVersion=1` -> `/collab`). */
function pathnameOf(target: string | undefined): string {
  const query = (target ?? '').search(/[?#]/);
  return query === -1 ? (target ?? '') : target!.slice(0, query);
}

/** Answers and closes: destroyed once the answer is written, so a client that never closes its side holds nothing open. */
function refuseUpgrade(socket: Duplex, status: number, statusText: string, body: string): void {
  socket.end(`HTTP/1.1 ${status} ${statusText}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => socket.destroy());
}
