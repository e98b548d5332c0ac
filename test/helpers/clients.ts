import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as Y from 'yjs';
import { SCREENPLAY_SCHEMA_VERSION } from '../../src/screenplay/schema.ts';

/** The query parameters the current editor connects with (its schema version). */
export const CURRENT_EDITOR = { schemaVersion: String(SCREENPLAY_SCHEMA_VERSION) };

export interface TestClient {
  provider: HocuspocusProvider;
  socket: HocuspocusProviderWebsocket;
  doc: Y.Doc;
  /** Acknowledgements (SyncStatus true) received so far: each one means "on disk". */
  acks: () => number;
  destroy: () => void;
}

export interface ConnectOptions {
  /** A token, or a function the provider asks at every (re)connect and when the server wants a fresh one. */
  token: string | (() => string | Promise<string>);
  /** Query parameters of the WebSocket URL (`requestParameters`); default: the current editor's schema version. */
  parameters?: Record<string, string>;
  /** Reconnect forever with a short delay (crash tests); by default a few quick attempts. */
  persistent?: boolean;
  onAuthenticationFailed?: (reason: string) => void;
  /** The editor's document, when it already has one (an editor whose connection moves to another server keeps its document). */
  document?: Y.Doc;
}

/** A real HocuspocusProvider over a real WebSocket, like an editor in a browser. */
export function connectClient(url: string, sceneId: string, options: ConnectOptions): TestClient {
  const doc = options.document ?? new Y.Doc();
  const query = new URLSearchParams(options.parameters ?? CURRENT_EDITOR).toString();
  const socket = new HocuspocusProviderWebsocket({
    url: query ? `${url}?${query}` : url,
    delay: 50,
    factor: 1.5,
    maxDelay: options.persistent ? 500 : 1000,
    maxAttempts: options.persistent ? 0 : 10,
    minDelay: 20,
  });
  let acks = 0;
  const provider = new HocuspocusProvider({
    websocketProvider: socket,
    name: sceneId,
    document: doc,
    token: typeof options.token === 'function' ? async () => (options.token as () => string | Promise<string>)() : options.token,
    onAuthenticationFailed: ({ reason }) => options.onAuthenticationFailed?.(reason),
  });
  const decrement = provider.decrementUnsyncedChanges.bind(provider);
  provider.decrementUnsyncedChanges = () => {
    acks += 1;
    decrement();
  };
  provider.attach();
  return {
    provider,
    socket,
    doc,
    acks: () => acks,
    destroy: () => {
      provider.destroy();
      socket.destroy();
    },
  };
}

/** Polls until `check` returns true; fails with `message` after `timeoutMs` instead of hanging. */
export async function waitFor(check: () => boolean | Promise<boolean>, message: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function waitForSynced(client: TestClient, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => client.provider.isSynced, `client for ${client.provider.configuration.name} to sync`, timeoutMs);
}

/** Waits until the client has no unacknowledged change left. */
export function waitForAcked(client: TestClient, timeoutMs = 10_000): Promise<void> {
  return waitFor(() => client.provider.isSynced && !client.provider.hasUnsyncedChanges, 'all changes acknowledged', timeoutMs);
}
