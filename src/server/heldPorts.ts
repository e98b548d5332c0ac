import { createServer, type IncomingMessage, type RequestListener, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

export type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/** What a port hands its requests and upgrades to once the app is ready. */
export interface PortHandlers {
  request: RequestListener;
  upgrade: UpgradeListener;
}

/**
 * A port that is listening before the app behind it is ready. Requests and WebSocket upgrades that
 * arrive meanwhile are held, unanswered, and handed over in the order they came once `serve` is
 * called. So a restart is reachable from its first moments: the editors reconnecting after a
 * deploy find a port that takes their connection and answers it as soon as it can, instead of a
 * refused connection and a reconnection backoff of seconds. Readiness (`/api/health/ready`) is held
 * like any request, so a load balancer sees the port ready only when it is.
 */
export interface HeldPort {
  readonly server: HttpServer;
  readonly port: number;
  /** Hands over what was held, then everything that follows. Once only. */
  serve(handlers: PortHandlers): void;
  /** Stops taking connections; resolves when every connection the port took has closed. */
  close(): Promise<void>;
}

type Held = { kind: 'request'; args: Parameters<RequestListener> } | { kind: 'upgrade'; args: Parameters<UpgradeListener> };

/** Listens on `port` (0: any free port) and holds what arrives until `serve`. */
export async function holdPort(port: number, host: string): Promise<HeldPort> {
  let handlers: PortHandlers | null = null;
  let held: Held[] = [];
  const server = createServer((request, response) => {
    if (handlers) handlers.request(request, response);
    else held.push({ kind: 'request', args: [request, response] });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (handlers) return handlers.upgrade(request, socket, head);
    // Node takes its own error listener off a socket it hands to 'upgrade': a client that resets
    // the connection while it is held must not be an uncaught exception.
    const dropped = () => socket.destroy();
    socket.on('error', dropped);
    held.push({ kind: 'upgrade', args: [request, socket, head] });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  let closed: Promise<void> | null = null;
  return {
    server,
    port: (server.address() as AddressInfo).port,
    serve(next) {
      if (handlers) throw new Error('this port is served already');
      handlers = next;
      const waiting = held;
      held = [];
      for (const entry of waiting) {
        if (entry.kind === 'request') next.request(...entry.args);
        else if (!entry.args[1].destroyed) next.upgrade(...entry.args);
      }
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}

/** `PORT` (the collaboration WebSocket) and `HTTP_PORT` (the API, the page, `COLLAB_PATH`). */
export interface AppPorts {
  ws: HeldPort;
  http: HeldPort;
}

/** A port another process listens on already: the server cannot start (exit 1, this message). */
export class PortInUseError extends Error {
  readonly code = 'EADDRINUSE';

  constructor(variable: 'PORT' | 'HTTP_PORT', host: string, port: number, options: { cause: unknown }) {
    super(`${host}:${port} (${variable}) is in use by another process; stop it or set ${variable} to a free port`, options);
    this.name = 'PortInUseError';
  }
}

/** Both ports, listening and holding what arrives until the app serves them. */
export async function holdAppPorts(config: { host: string; port: number; httpPort: number }): Promise<AppPorts> {
  const hold = (variable: 'PORT' | 'HTTP_PORT', port: number) =>
    holdPort(port, config.host).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new PortInUseError(variable, config.host, port, { cause: error });
      throw error;
    });
  const ws = await hold('PORT', config.port);
  try {
    return { ws, http: await hold('HTTP_PORT', config.httpPort) };
  } catch (error) {
    await ws.close();
    throw error;
  }
}
