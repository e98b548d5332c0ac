import type {
  Extension,
  afterLoadDocumentPayload,
  afterStoreDocumentPayload,
  afterUnloadDocumentPayload,
  beforeBroadcastStatelessPayload,
  beforeUnloadDocumentPayload,
  onAwarenessUpdatePayload,
  onChangePayload,
  onConfigurePayload,
} from '@hocuspocus/server';
import { RedisFanoutLink, type RedisFanoutLinkOptions } from '../src/redis/fanout.ts';

/** `REDIS_URL` and `REDIS_PREFIX`, the logger and metrics, and the link's timings (`src/redis/fanout.ts`). */
export type RedisFanoutConfiguration = RedisFanoutLinkOptions;

/**
 * Several instances behind one Redis: edits made on one reach the editors of the others, through
 * `@hocuspocus/extension-redis` (each change publishes a state vector; peers answer with what it
 * lacks, applied with the origin `{ source: 'redis' }`, which the append log never stores: the
 * instance whose client made the edit stored it before acknowledging it).
 *
 * Each hook hands its payload to the upstream extension of the session that carries the fan-out
 * now (`RedisFanoutLink`, which keeps the link up while Redis comes and goes), and does nothing
 * while Redis is away: editing and storing never wait for Redis.
 *
 * `onStoreDocument` is deliberately not delegated: upstream uses it to take a Redis lock around a
 * read-modify-write store, which this append log does not have (every instance appends only its own
 * clients' updates), and its "another instance is storing" answer would skip later store hooks.
 */
export class RedisFanout implements Extension {
  extensionName = 'RedisFanout';

  // As upstream's: above the append log (1000) in hooks both implement, so a document announces
  // itself on Redis as soon as it is loaded and before slower load hooks finish.
  priority = 1000;

  private readonly configuration: RedisFanoutConfiguration;
  private readonly link: RedisFanoutLink;

  constructor(configuration: RedisFanoutConfiguration) {
    this.configuration = { ...configuration };
    this.link = new RedisFanoutLink(this.configuration);
  }

  async onConfigure({ instance }: onConfigurePayload): Promise<void> {
    this.link.start(instance);
  }

  async afterLoadDocument({ documentName, document }: afterLoadDocumentPayload): Promise<void> {
    // Offline: the document joins when Redis comes back.
    await this.link.documentLoaded(documentName, document);
  }

  async onChange(payload: onChangePayload): Promise<void> {
    // Offline changes reach the peers when the session that comes next joins the document.
    await this.link.upstream()?.onChange(payload);
  }

  async onAwarenessUpdate(payload: onAwarenessUpdatePayload): Promise<void> {
    await this.link.upstream()?.onAwarenessUpdate(payload);
  }

  async beforeBroadcastStateless(payload: beforeBroadcastStatelessPayload): Promise<void> {
    try {
      await this.link.upstream()?.beforeBroadcastStateless(payload);
    } catch (error) {
      this.configuration.logger.debug({ err: error, sceneId: payload.documentName }, 'stateless broadcast not sent through Redis');
    }
  }

  async afterStoreDocument(payload: afterStoreDocumentPayload): Promise<void> {
    await this.link.upstream()?.afterStoreDocument(payload);
  }

  async beforeUnloadDocument(payload: beforeUnloadDocumentPayload): Promise<void> {
    // Gives sync messages in flight through Redis time to arrive; pointless without Redis.
    await this.link.upstream()?.beforeUnloadDocument(payload);
  }

  async afterUnloadDocument(payload: afterUnloadDocumentPayload): Promise<void> {
    // Loaded again meanwhile (a fast reconnect): the new document is the one to keep.
    if (payload.instance.documents.has(payload.documentName)) return;
    await this.link.documentUnloaded(payload);
  }

  async onDestroy(): Promise<void> {
    await this.link.stop();
  }
}
