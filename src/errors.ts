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

/**
 * A refusal of a domain module (src/history, src/scripts), with the HTTP status it means and a
 * stable code: the HTTP error handler turns any of them into `status` and `{error, code, ...details}`,
 * so a route throws them as they are.
 */
export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra fields for the JSON body (e.g. the first block a round trip changed). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
