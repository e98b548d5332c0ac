/**
 * A reader of a whole continuous script: one provider per scene, all on one WebSocket, as the
 * brief of issue 22 describes the page (the server multiplexes documents on a socket). Times each
 * scene's first sync from the moment the reader starts opening.
 */
import { HocuspocusProvider, HocuspocusProviderWebsocket } from '@hocuspocus/provider';
import * as Y from 'yjs';
import { CURRENT_EDITOR } from '../helpers/clients.ts';

export interface ScriptReader {
  docs: Y.Doc[];
  /** Milliseconds from the start of the open to each scene's first sync, in scene order. */
  synced: Promise<number[]>;
  destroy(): void;
}

/**
 * Opens every scene of `sceneIds` on one socket. `prefill` (plain Hocuspocus, which stores
 * nothing) gives each scene's content to its document before it connects.
 */
export function openScript(wsUrl: string, sceneIds: readonly string[], token: string, options: { prefill?: ReadonlyMap<string, Uint8Array>; timeoutMs?: number } = {}): ScriptReader {
  const startedAt = performance.now();
  const socket = new HocuspocusProviderWebsocket({
    url: `${wsUrl}?${new URLSearchParams(CURRENT_EDITOR).toString()}`,
    delay: 50,
    factor: 1.5,
    maxDelay: 1000,
    maxAttempts: 10,
    minDelay: 20,
  });
  const docs: Y.Doc[] = [];
  const providers: HocuspocusProvider[] = [];
  const times = sceneIds.map((sceneId) => {
    const doc = new Y.Doc();
    const content = options.prefill?.get(sceneId);
    if (content) Y.applyUpdate(doc, content);
    docs.push(doc);
    const provider = new HocuspocusProvider({ websocketProvider: socket, name: sceneId, document: doc, token });
    providers.push(provider);
    const synced = new Promise<number>((resolve) => {
      const onSynced = () => {
        provider.off('synced', onSynced);
        resolve(performance.now() - startedAt);
      };
      provider.on('synced', onSynced);
    });
    provider.attach();
    return synced;
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the script's ${sceneIds.length} scenes did not all sync in ${timeoutMs} ms`)), timeoutMs);
  });
  const synced = Promise.race([Promise.all(times), timeout]).finally(() => clearTimeout(timer));
  return {
    docs,
    synced,
    destroy: () => {
      for (const provider of providers) provider.destroy();
      socket.destroy();
    },
  };
}
