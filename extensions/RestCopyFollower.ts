import type { Extension, onStoreDocumentPayload } from '@hocuspocus/server';
import type { LiveSnapshotWriter } from '../src/restCopy/liveSnapshots.ts';

export interface RestCopyFollowerConfiguration {
  writer: LiveSnapshotWriter;
}

/**
 * Keeps a scene's REST copy (`scenes.content_blocks`) following the live document: on
 * Hocuspocus's debounced store (`debounce`/`maxDebounce` of the server, `REST_COPY_DEBOUNCE_MS`,
 * `REST_COPY_MAX_DEBOUNCE_MS`) it writes the snapshot of the state the document provably is, the
 * way `@hocuspocus/extension-database` stores a document. The log stays the store: nothing here
 * is needed for durability, and the snapshot job remains the safety net for anything missed.
 *
 * Hocuspocus runs a document's stores one at a time (its save mutex) and at most once per
 * debounce while it changes; when the last editor leaves it runs a pending store at once and
 * unloads the scene after it. A server shutting down skips the store (`stop`).
 * The proof, the conversion (worker pool) and the guarded write are `src/restCopy/liveSnapshots.ts`.
 */
export class RestCopyFollower implements Extension {
  extensionName = 'RestCopyFollower';

  // The only store hook: its place among the others does not matter. Updates from Redis never
  // reach it (Hocuspocus skips store hooks for them); the instance whose editor made them does.
  priority = 100;

  private readonly configuration: RestCopyFollowerConfiguration;

  constructor(configuration: RestCopyFollowerConfiguration) {
    this.configuration = { ...configuration };
  }

  private stopped = false;

  /**
   * A server that shuts down does not write the REST copies of the scenes it unloads: with many
   * scenes being edited that would hold a deploy's restart for a conversion per scene, and the
   * copies are derived (the next store after the restart, or the snapshot job, writes them; until
   * then the readers see from `snapshot_seq` that a copy is behind the log and do not serve it as
   * current).
   */
  stop(): void {
    this.stopped = true;
  }

  async onStoreDocument({ document, documentName }: onStoreDocumentPayload): Promise<void> {
    if (this.stopped) return;
    // Never throws: a failed store would keep the document in memory until the next change.
    await this.configuration.writer.snapshotDocument(documentName, document);
  }
}
