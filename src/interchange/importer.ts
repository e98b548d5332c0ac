// Import of a Fountain or FDX file as a new script: parsed and checked whole before anything is
// written (a malformed file creates nothing), created in one transaction by the script store, then
// every scene's REST copy seeded into its log once, through the one seeding path, before the
// import answers: the script is then live like any other, its history starting at the import.
import type { CorruptionPolicy } from '../restCopy/decisions.ts';
import type { SceneSeeder } from '../restCopy/seeding.ts';
import type { ScriptStore } from '../scripts/scriptStore.ts';
import type { ScreenplayDocument } from './document.ts';
import { mapWithConcurrency } from '../concurrency.ts';

export interface ImportLimits {
  /** Most scenes one file may hold (`IMPORT_MAX_SCENES`). */
  maxScenes: number;
}

/** A file with more scenes than `IMPORT_MAX_SCENES`. */
export class TooManyScenesError extends Error {
  readonly code = 'TOO_MANY_SCENES';
  constructor(
    readonly scenes: number,
    readonly maxScenes: number,
  ) {
    super(`The file holds ${scenes} scenes; at most ${maxScenes} are imported at once (IMPORT_MAX_SCENES)`);
    this.name = 'TooManyScenesError';
  }
}

/** A scene's heading for the `scenes` row: its scene_heading block's text on one line, else none. */
export function headingOfBlocks(blocks: ScreenplayDocument['scenes'][number]['blocks']): string | null {
  const first = blocks[0];
  if (!first || first.type !== 'scene_heading') return null;
  const heading = first.text.replace(/\s+/g, ' ').trim();
  return heading === '' ? null : heading;
}

export interface ScriptImporterConfiguration {
  store: ScriptStore;
  seeder: SceneSeeder;
  limits: ImportLimits;
  corruptionPolicy?: CorruptionPolicy;
  /** Scenes seeded at the same time. */
  seedConcurrency?: number;
}

export interface ImportedScript {
  scriptId: string;
  sceneIds: string[];
  document: ScreenplayDocument;
}

export class ScriptImporter {
  private readonly configuration: Required<ScriptImporterConfiguration>;

  constructor(configuration: ScriptImporterConfiguration) {
    this.configuration = { corruptionPolicy: 'log', seedConcurrency: 4, ...configuration };
  }

  /** Checks the limits, creates the script and its scenes (all or nothing), seeds every scene's log. */
  async importScript(ownerId: string, document: ScreenplayDocument, options: { title?: string } = {}): Promise<ImportedScript> {
    const { store, seeder, limits, corruptionPolicy, seedConcurrency } = this.configuration;
    if (document.scenes.length > limits.maxScenes) throw new TooManyScenesError(document.scenes.length, limits.maxScenes);
    const titlePage = Object.keys(document.titlePage).length > 0 ? document.titlePage : null;
    const { scriptId, sceneIds } = await store.createScriptWithScenes(
      {
        ownerId,
        title: options.title ?? (document.title.trim() || 'Untitled'),
        titlePage,
        scenes: document.scenes.map((scene) => ({ heading: headingOfBlocks(scene.blocks), blocks: scene.blocks })),
      },
      { snapshotSource: 'import' },
    );
    await mapWithConcurrency(sceneIds, seedConcurrency, (sceneId) => seeder.seedIfEmpty(sceneId, { corruptionPolicy, replayExistingLog: false, changeKind: 'import' }));
    return { scriptId, sceneIds, document };
  }
}
