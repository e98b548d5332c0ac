import { Server, type Extension } from '@hocuspocus/server';

export interface CollabServerOptions {
  /** Extensions in the order they must run; see `buildExtensions` in src/server/extensions.ts. */
  extensions: Extension[];
  /** A WebSocket frame larger than this is refused by the socket layer before any hook runs. */
  maxFrameBytes: number;
  /**
   * What Hocuspocus queues for a socket's scenes until they are authenticated (bytes, messages,
   * scenes). extensions/FloodGuards.ts refuses at the same limits first, with a reason of its own.
   */
  unauthenticated: { maxBytes: number; maxMessages: number; maxDocuments: number };
  /** Hocuspocus's store debounce (`REST_COPY_DEBOUNCE_MS`, `REST_COPY_MAX_DEBOUNCE_MS`): when extensions/RestCopyFollower.ts runs. */
  storeDebounce: { debounceMs: number; maxDebounceMs: number };
}

/**
 * The Hocuspocus WebSocket server. It does not read the environment, handles no signals and never
 * listens: the app's ports hand it their upgrades (src/server/heldPorts.ts, collabUpgrades.ts).
 */
export function createCollabServer(options: CollabServerOptions): Server {
  return new Server({
    name: 'writersroom-collab',
    quiet: true,
    stopOnSignals: false,
    extensions: options.extensions,
    websocketOptions: { maxPayload: options.maxFrameBytes },
    maxUnauthenticatedQueueSize: options.unauthenticated.maxBytes,
    maxUnauthenticatedQueueMessages: options.unauthenticated.maxMessages,
    maxPendingDocuments: options.unauthenticated.maxDocuments,
    // The log is the store; only the REST copy follower writes on the debounce, and a pending
    // store runs at once when the last connection leaves, so a document unloads right after it.
    unloadImmediately: true,
    debounce: options.storeDebounce.debounceMs,
    maxDebounce: options.storeDebounce.maxDebounceMs,
  });
}
