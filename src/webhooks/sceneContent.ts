import { SceneNotFoundError } from '../errors.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import { SceneReader, type SceneReaderConfiguration } from '../scenes/reader.ts';
import { ScreenplayConversionError } from '../screenplay/index.ts';
import type { YjsWork } from '../workers/pool.ts';
import type { SceneContent } from './deliverer.ts';

/** A scene's state as the last delivery read it, and what it showed. */
interface KeptState {
  state: Uint8Array;
  seq: bigint;
  blocks: unknown[];
  readAt: number;
}

export interface WebhookContentConfiguration {
  sceneLog: SceneLog;
  /** Scenes without a Yjs log, and states that do not convert: their REST copy, as the API serves it. */
  reader: SceneReader;
  work: Pick<YjsWork, 'advance'>;
  /** Scenes whose state is kept between deliveries; the least recently read goes first. */
  maxScenes?: number;
  /**
   * A state not read for this long is read again from the whole log. It must stay below the two
   * minutes a scene has to be left alone before `clear-yjs` deletes its log (jobs/clearYjs.ts,
   * `ACTIVE_WINDOW_MS`): a state kept across a clearing would show content the log no longer has.
   */
  keepMs?: number;
  now?: () => number;
}

/**
 * The content a webhook delivery carries, read without touching the editors' thread: a scene's
 * Yjs state is kept between deliveries (as bytes, not a document), and each read only fetches the
 * rows committed after it and has the worker pool apply them and convert the result. A scene that
 * is typed into all the time thus costs each delivery its last few seconds of rows, not its whole
 * log, and never the loaded document's encoding and proof on the serving loop (tens of
 * milliseconds for a long scene, on every delivery).
 *
 * `seq` is exact, as for a replay: the head is read before the rows, so every row up to
 * `max(head, newest row)` is in the state.
 */
export class WebhookSceneContent {
  private readonly configuration: Required<Omit<WebhookContentConfiguration, 'now'>> & { now: () => number };
  private readonly kept = new Map<string, KeptState>();

  constructor(configuration: WebhookContentConfiguration) {
    this.configuration = { maxScenes: 256, keepMs: 60_000, now: Date.now, ...configuration };
  }

  /** The scene's current content; null once the scene is purged. */
  async read(sceneId: string): Promise<SceneContent | null> {
    const { sceneLog, work, now, keepMs } = this.configuration;
    const kept = this.kept.get(sceneId);
    const base = kept && now() - kept.readAt <= keepMs ? kept : null;
    this.kept.delete(sceneId);
    const head = await sceneLog.head(sceneId);
    const rows = base ? await sceneLog.loadPackedAfter(sceneId, base.seq) : await sceneLog.loadPacked(sceneId);
    if (rows.latest === null) {
      if (base && (head === null || head <= base.seq)) return this.keep(sceneId, { ...base, readAt: now() });
      return this.fromReader(sceneId);
    }
    let advanced;
    try {
      advanced = await work.advance(base?.state ?? null, rows.packed);
    } catch (error) {
      if (error instanceof ScreenplayConversionError) return this.fromReader(sceneId);
      throw error;
    }
    const seq = head !== null && head > rows.latest.seq ? head : rows.latest.seq;
    return this.keep(sceneId, { state: advanced.state, seq, blocks: advanced.blocks, readAt: now() });
  }

  private keep(sceneId: string, state: KeptState): SceneContent {
    this.kept.set(sceneId, state);
    for (const oldest of this.kept.keys()) {
      if (this.kept.size <= this.configuration.maxScenes) break;
      this.kept.delete(oldest);
    }
    return { seq: state.seq, blocks: state.blocks };
  }

  /** As the API reads the scene (the REST copy of a scene without a log); null for a purged scene. */
  private async fromReader(sceneId: string): Promise<SceneContent | null> {
    try {
      const view = await this.configuration.reader.scene(sceneId);
      return { seq: view.seq, blocks: view.blocks };
    } catch (error) {
      if (error instanceof SceneNotFoundError) return null;
      throw error;
    }
  }
}

/** The content reader of a process that delivers webhooks (the server, or the jobs worker). */
export function webhookSceneContent(deps: Pick<SceneReaderConfiguration, 'prisma' | 'sceneLog' | 'metrics' | 'logger' | 'freshness' | 'work'>): WebhookSceneContent {
  // The reader serves what has no Yjs state to keep; never from a loaded document.
  const reader = new SceneReader({ ...deps, liveDocument: () => undefined });
  return new WebhookSceneContent({ sceneLog: deps.sceneLog, work: deps.work, reader });
}
