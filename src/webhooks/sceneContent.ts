import { SceneNotFoundError } from '../errors.ts';
import type { SceneReader } from '../scenes/reader.ts';
import type { SceneContent } from './deliverer.ts';

/**
 * A delivery's content, read as the API reads a scene (the stored snapshot when current, a document
 * loaded on this instance, else a replay on the worker pool); null once the scene is purged.
 */
export function sceneContentFrom(reader: SceneReader): (sceneId: string) => Promise<SceneContent | null> {
  return async (sceneId) => {
    try {
      const view = await reader.scene(sceneId);
      return { seq: view.seq, blocks: view.blocks };
    } catch (error) {
      if (error instanceof SceneNotFoundError) return null;
      throw error;
    }
  };
}
