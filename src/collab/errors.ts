import { SCENE_LOAD_FAILED } from './closeReasons.ts';

/**
 * The scene's log could not be read: the connection is refused (Hocuspocus sends `reason` to the
 * provider) rather than served an empty or partial document, and a PATCH that opened the scene
 * answers 503. Thrown from the append log's `onLoadDocument`; the HTTP API catches it too.
 */
export class SceneLoadError extends Error {
  readonly code = 'SCENE_LOAD_FAILED';
  readonly reason = SCENE_LOAD_FAILED;

  constructor(sceneId: string, options: { cause?: unknown }) {
    super(`Scene ${sceneId} could not be loaded from the log`, options);
    this.name = 'SceneLoadError';
  }
}
