import type { Server as HttpServer } from 'node:http';

/**
 * Resolves once no HTTP request of `server` is in flight. The shutdown cannot wait on the HTTP
 * server's close for that: since the HTTP port also carries WebSockets, its close waits for those
 * sockets too, and they are closed only after the requests are done (a PATCH in flight applies to
 * a live document through Hocuspocus). Upgrade requests are not `request` events and never count.
 */
export function trackInFlightRequests(server: HttpServer): { idle(): Promise<void> } {
  let inFlight = 0;
  let waiting: (() => void)[] = [];
  server.on('request', (_request, response) => {
    inFlight += 1;
    // `close` fires after the response is sent and when the client goes away first.
    response.once('close', () => {
      inFlight -= 1;
      if (inFlight > 0) return;
      for (const resolve of waiting) resolve();
      waiting = [];
    });
  });
  return { idle: () => (inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve))) };
}
