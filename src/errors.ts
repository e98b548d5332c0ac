// Errors that more than one floor throws or catches. This module imports nothing, so the log (the
// lowest floor) can throw what the REST copy, the reader, the routes and the jobs catch.

/** The scene has no `scenes` row: it never existed, or it was deleted. */
export class SceneNotFoundError extends Error {
  readonly code = 'SCENE_NOT_FOUND';
  /** `context` says what did not happen because of it, e.g. that an update was not stored. */
  constructor(
    readonly sceneId: string,
    context?: string,
  ) {
    super(context ? `Scene ${sceneId} does not exist ${context}` : `Scene ${sceneId} does not exist`);
    this.name = 'SceneNotFoundError';
  }
}
