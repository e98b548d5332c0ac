import { SCENE_SEED_FAILED } from '../collab/closeReasons.ts';

/**
 * Errors of seeding, validation and the content tools. Each has a stable `code`: the extension
 * turns `SceneSeedingError` into a refused connection, the job CLI turns `UnknownTargetError` into
 * exit code 2 and the others into 1, without parsing messages.
 */
export type ContentErrorCode = 'SCENE_SEED_FAILED' | 'UNKNOWN_TARGET' | 'CLEAR_REFUSED' | 'CLEAR_CONFLICT';

export class ContentError extends Error {
  readonly code: ContentErrorCode;

  constructor(code: ContentErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * The empty scene could not be seeded or checked (database error). Thrown from `onLoadDocument`
 * so the connection is refused and the provider retries: serving the empty document instead would
 * let editors type into it, after which the log is no longer empty and the REST content would
 * never be seeded.
 */
export class SceneSeedingError extends ContentError {
  /** What Hocuspocus sends to the provider as the refusal reason. */
  readonly reason = SCENE_SEED_FAILED;

  constructor(readonly sceneId: string, options?: { cause?: unknown }) {
    super('SCENE_SEED_FAILED', `Scene ${sceneId} could not be seeded or checked against its REST copy`, options);
  }
}

/** A scene or script id that does not exist (a tool's argument). */
export class UnknownTargetError extends ContentError {
  constructor(
    readonly kind: 'scene' | 'script' | 'scene or script',
    readonly id: string,
  ) {
    super('UNKNOWN_TARGET', `no ${kind} with id ${id}`);
  }
}

/** clear-yjs would leave a scene blank or cut the log out from under an open editor. */
export class ClearRefusedError extends ContentError {
  constructor(
    message: string,
    readonly sceneIds: string[],
  ) {
    super('CLEAR_REFUSED', message);
  }
}

/** The log changed between exporting and deleting; nothing was deleted. */
export class ClearConflictError extends ContentError {
  constructor(message: string) {
    super('CLEAR_CONFLICT', message);
  }
}
