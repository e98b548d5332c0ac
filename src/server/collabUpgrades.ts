import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Server as CollabServer } from '@hocuspocus/server';
import type { Logger } from '../logger.ts';

export interface CollabUpgrades {
  /** From now on every upgrade on the HTTP port is refused (503): the server is stopping. */
  refuseNew(): void;
  /**
   * Destroys the sockets this port handed to Hocuspocus that are still open. Called once
   * Hocuspocus has closed its connections: what is left never authenticated a scene, or is still
   * in the close handshake, and would keep the HTTP server's close waiting.
   */
  destroyOpen(): void;
}

/**
 * Serves the collaboration WebSocket on the HTTP port too, under `path`, so that one port (one
 * reverse proxy, one TLS port) carries the page, the API and the editors' sockets.
 *
 * An upgrade on `path` is handed to the Hocuspocus server's own upgrade listener (the public
 * `httpServer` of `@hocuspocus/server`'s Server): its `onUpgrade` hooks, then crossws and ws with the
 * same `websocketOptions` (`maxPayload`), then the same Hocuspocus instance, so every extension,
 * limit and close reason is exactly what `PORT` gives. Any other path is answered 404 and closed:
 * a socket nobody answers would hang until the client gives up.
 */
export function serveCollabUpgrades(httpServer: HttpServer, collab: CollabServer, path: string, logger: Logger): CollabUpgrades {
  const open = new Set<Duplex>();
  let refusing = false;
  httpServer.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node takes its own error listener off an upgraded socket, and ws adds one only once the
    // onUpgrade hooks have run: a client resetting the connection in between must not be an
    // uncaught exception.
    socket.on('error', (error) => {
      logger.debug({ err: error }, 'upgraded socket failed');
      socket.destroy();
    });
    if (refusing) return refuseUpgrade(socket, 503, 'Service Unavailable', 'the server is stopping');
    if (pathnameOf(request.url) !== path) {
      return refuseUpgrade(socket, 404, 'Not Found', `no WebSocket is served here; the collaboration WebSocket is at ${path}`);
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    collab.httpServer.emit('upgrade', request, socket, head);
  });
  return {
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
