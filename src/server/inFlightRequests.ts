import type { RequestListener } from 'node:http';

export interface InFlightRequests {
  /** `listener`, counting each request from its call until its response closes. */
  track(listener: RequestListener): RequestListener;
  /** Resolves once no request counted by `track` is in flight. */
  idle(): Promise<void>;
}

/**
 * The HTTP API's requests in flight. The shutdown cannot wait on the HTTP port's close for that:
 * since the port also carries WebSockets, its close waits for those sockets too, and they are
 * closed only after the requests are done (a PATCH in flight applies to a live document through
 * Hocuspocus). Upgrade requests never reach a request listener and never count.
 */
export function inFlightRequests(): InFlightRequests {
  let inFlight = 0;
  let waiting: (() => void)[] = [];
  return {
    track: (listener) => (request, response) => {
      inFlight += 1;
      // `close` fires after the response is sent and when the client goes away first.
      response.once('close', () => {
        inFlight -= 1;
        if (inFlight > 0) return;
        for (const resolve of waiting) resolve();
        waiting = [];
      });
      listener(request, response);
    },
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve))),
  };
}
