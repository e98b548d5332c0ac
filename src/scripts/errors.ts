// The refusals of src/scripts (scripts, their scenes and collaborators), each with the HTTP status
// it means and a stable code. The HTTP error handler turns any `ScriptError` into `status` and
// `{error, code}`, as it does for src/history's refusals.
import { Refusal } from '../errors.ts';

/** Something src/scripts refuses; `status` is what it means to an HTTP client. */
export class ScriptError extends Refusal {}

/** A title, title page, heading or position that breaks the rules of src/scripts/fields.ts (for callers that skip the routes' validation, such as an import). */
export class InvalidScriptFieldsError extends ScriptError {
  constructor(message: string) {
    super(400, 'INVALID_SCRIPT_FIELDS', message);
  }
}

/** Initial scene content that is not valid REST blocks, or would not survive REST -> Yjs -> REST unchanged; it is never stored. */
export class InvalidSceneContentError extends ScriptError {
  constructor(
    readonly sceneIndex: number | null,
    readonly problemCode: string,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(400, problemCode === 'INVALID_REST_BLOCKS' ? 'INVALID_REST_BLOCKS' : 'UNCONVERTIBLE_REST_BLOCKS', message, details);
  }
}

/** The script does not exist (it was deleted between the access check and the write). */
export class ScriptNotFoundError extends ScriptError {
  constructor(readonly scriptId: string) {
    super(404, 'UNKNOWN_SCRIPT', `Script ${scriptId} does not exist`);
  }
}

/** No scene of that id in that script (deleted or not). */
export class SceneNotInScriptError extends ScriptError {
  constructor(
    readonly scriptId: string,
    readonly sceneId: string,
  ) {
    super(404, 'UNKNOWN_SCENE', `Script ${scriptId} has no scene ${sceneId}`);
  }
}

/** The scene is deleted: it cannot be moved or renamed until it is restored. */
export class SceneDeletedError extends ScriptError {
  constructor(readonly sceneId: string) {
    super(410, 'SCENE_DELETED', `Scene ${sceneId} was deleted; restore it first (POST .../restore)`);
  }
}

/** A restore of a scene that is not deleted. */
export class SceneNotDeletedError extends ScriptError {
  constructor(readonly sceneId: string) {
    super(409, 'SCENE_NOT_DELETED', `Scene ${sceneId} is not deleted`);
  }
}

/** A restore after the retention period (`SCENE_DELETE_RETENTION_DAYS`): the retention job purges the scene. */
export class SceneNotRestorableError extends ScriptError {
  constructor(
    readonly sceneId: string,
    deletedAt: Date,
  ) {
    super(410, 'SCENE_NOT_RESTORABLE', `Scene ${sceneId} was deleted at ${deletedAt.toISOString()}, longer ago than the retention period; it is purged and cannot be restored`);
  }
}

/** A position outside 0..max for the script's live scenes. */
export class PositionOutOfRangeError extends ScriptError {
  constructor(position: number, max: number) {
    super(400, 'POSITION_OUT_OF_RANGE', `position ${position} is out of range: this script takes 0..${max} here`);
  }
}

/** No user has that email. Users are created by sign-up (outside this API), never by adding a collaborator. */
export class UnknownUserEmailError extends ScriptError {
  constructor(readonly email: string) {
    super(404, 'UNKNOWN_USER_EMAIL', `No user has the email ${JSON.stringify(email)}; users are created by signing up, not here`);
  }
}

/** The owner is the owner, never also a collaborator. */
export class OwnerIsNotACollaboratorError extends ScriptError {
  constructor() {
    super(409, 'OWNER_NOT_A_COLLABORATOR', 'The owner of the script cannot be added as a collaborator; the owner already has every right');
  }
}

/** That user is not a collaborator of the script. */
export class CollaboratorNotFoundError extends ScriptError {
  constructor(email: string) {
    super(404, 'UNKNOWN_COLLABORATOR', `${JSON.stringify(email)} is not a collaborator of this script`);
  }
}
