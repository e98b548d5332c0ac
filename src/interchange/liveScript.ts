// A script as a ScreenplayDocument from its live state, for export: each scene from the document
// loaded on this instance when it is exactly the log, else from a replay of the log. Never from the
// REST copy: the copy trails the log by up to the follower's debounce, and an export is what the
// writers see now. A scene whose log is still empty (created, never opened) is seeded first,
// through the one seeding path, so it too is read from its log.
import { mapWithConcurrency } from '../concurrency.ts';
import type * as Y from 'yjs';
import type { SceneLog } from '../log/sceneLog.ts';
import type { CorruptionPolicy } from '../restCopy/decisions.ts';
import type { SceneSeeder } from '../restCopy/seeding.ts';
import { deriveFromLiveDocument, deriveFromLog } from '../scenes/sceneState.ts';
import type { CanonicalRestBlock } from '../screenplay/index.ts';
import type { ScriptStore } from '../scripts/scriptStore.ts';
import type { YjsWork } from '../workers/pool.ts';
import { inlineYjsWork } from '../workers/pool.ts';
import type { ScreenplayDocument } from './document.ts';

export interface LiveScriptReaderConfiguration {
  store: ScriptStore;
  sceneLog: SceneLog;
  seeder: SceneSeeder;
  /** The scene's document if it is loaded on this instance (Hocuspocus's `documents`). */
  liveDocument: (sceneId: string) => Y.Doc | undefined;
  work?: YjsWork;
  corruptionPolicy?: CorruptionPolicy;
  /** Scenes read at the same time; each replay is CPU work for the pool. */
  concurrency?: number;
}

/** The script or scene is gone (deleted between the access check and the read). */
export class ExportSourceMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExportSourceMissingError';
  }
}

export class LiveScriptReader {
  private readonly configuration: Required<LiveScriptReaderConfiguration>;

  constructor(configuration: LiveScriptReaderConfiguration) {
    this.configuration = { work: inlineYjsWork, corruptionPolicy: 'log', concurrency: 4, ...configuration };
  }

  /** The whole script: title, title page and every live scene by position. */
  async script(scriptId: string): Promise<ScreenplayDocument> {
    const { store, concurrency } = this.configuration;
    const [script, order] = await Promise.all([store.script(scriptId), store.sceneOrder(scriptId)]);
    if (!script) throw new ExportSourceMissingError(`Script ${scriptId} does not exist`);
    const blocks = await mapWithConcurrency(order, concurrency, (entry) => this.sceneBlocks(entry.sceneId));
    return {
      title: script.title,
      titlePage: script.titlePage ?? {},
      scenes: order.map((entry, index) => ({ sceneId: entry.sceneId, blocks: blocks[index] })),
    };
  }

  /** One scene alone, titled after its script, without the title page. */
  async scene(scriptId: string, sceneId: string): Promise<ScreenplayDocument> {
    const script = await this.configuration.store.script(scriptId);
    if (!script) throw new ExportSourceMissingError(`Script ${scriptId} does not exist`);
    return { title: script.title, titlePage: {}, scenes: [{ sceneId, blocks: await this.sceneBlocks(sceneId) }] };
  }

  private async sceneBlocks(sceneId: string): Promise<CanonicalRestBlock[]> {
    const { sceneLog, liveDocument, work, seeder, corruptionPolicy } = this.configuration;
    const live = liveDocument(sceneId);
    if (live) {
      const derived = await deriveFromLiveDocument(sceneLog, sceneId, live, work);
      if (derived) return derived.blocks;
    }
    const derived = await deriveFromLog(sceneLog, sceneId, work);
    if (derived) return derived.blocks;
    const seeded = await seeder.seedIfEmpty(sceneId, { corruptionPolicy, replayExistingLog: false });
    if (seeded.outcome === 'scene-not-found') throw new ExportSourceMissingError(`Scene ${sceneId} does not exist`);
    // An empty REST copy seeds nothing: the scene is empty.
    return (await deriveFromLog(sceneLog, sceneId, work))?.blocks ?? [];
  }
}
