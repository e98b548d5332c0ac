/**
 * Every reason the collaboration server gives an editor for refusing a connection or an update,
 * defined once: the auth errors, the update guards, the append log and seeding build their reasons
 * here, and the editor page (web/refusals.ts) decides what to do from the same codes.
 *
 * A reason is `<code>: <detail>`. The code is stable and the editor switches on it; the detail is
 * for a person. The strings reach clients byte for byte, and tests outside the project compare
 * them: change a detail only on purpose.
 *
 * The editor page bundles this module for the browser: it imports nothing, and must not.
 */

/**
 * Connections refused before a scene is served: the provider's `onAuthenticationFailed({ reason })`.
 * `closeCode` is for a caller that closes a socket over the refusal; `httpStatus` is what the HTTP
 * API answers for the same refusal.
 */
export const CONNECTION_REFUSALS = {
  'invalid-token': { closeCode: 4401, httpStatus: 401 },
  'token-expired': { closeCode: 4401, httpStatus: 401 },
  'unknown-user': { closeCode: 4401, httpStatus: 401 },
  'invalid-scene-id': { closeCode: 4400, httpStatus: 400 },
  'invalid-script-id': { closeCode: 4400, httpStatus: 400 },
  'unknown-scene': { closeCode: 4404, httpStatus: 404 },
  'unknown-script': { closeCode: 4404, httpStatus: 404 },
  'no-access': { closeCode: 4403, httpStatus: 403 },
  // The scene was deleted (soft: its owner or an editor may still restore it). Open connections to it
  // are ended with this reason within one recheck interval; the REST API answers 410.
  'scene-deleted': { closeCode: 4410, httpStatus: 410 },
  // An open connection whose role changed (an editor made a viewer, or the reverse): connect again
  // to be served with the new role.
  'access-changed': { closeCode: 4409, httpStatus: 409 },
  'outdated-editor': { closeCode: 4426, httpStatus: 426 },
  // A database error while deciding; the client may retry. Never a reason to grant access.
  'auth-unavailable': { closeCode: 4503, httpStatus: 503 },
  // Connection limits (extensions/ConnectionLimits.ts): more sockets from one address (closed as it
  // opens), more scenes open for one user on this instance or on one socket than allowed.
  'too-many-connections': { closeCode: 4429, httpStatus: 429 },
  'too-many-user-documents': { closeCode: 4429, httpStatus: 429 },
  'too-many-documents': { closeCode: 4429, httpStatus: 429 },
} as const satisfies Record<string, { closeCode: number; httpStatus: number }>;

export type ConnectionRefusalCode = keyof typeof CONNECTION_REFUSALS;

/**
 * A scene that could not be served, thrown from `onLoadDocument`: serving an empty or partial
 * document instead would let editors build on it. Both are transient; the editor page retries.
 */
export type SceneRefusalCode = 'scene-load-failed' | 'scene-seed-failed';
export const SCENE_LOAD_FAILED = reasonOf('scene-load-failed', 'the scene could not be read from the database; retry shortly');
export const SCENE_SEED_FAILED = reasonOf('scene-seed-failed', 'the scene could not be prepared from its saved content; retry shortly');

/** Updates the guards refuse, with the WebSocket close code each one carries. */
export const UPDATE_REFUSALS = {
  'update-too-large': { closeCode: 4413 },
  'malformed-update': { closeCode: 4400 },
  'rate-limited': { closeCode: 4429 },
} as const satisfies Record<string, { closeCode: number }>;

export type UpdateRefusalCode = keyof typeof UPDATE_REFUSALS;

/**
 * What the flood guards refuse (extensions/FloodGuards.ts), with the WebSocket close code each
 * carries: awareness or sync requests sent at more than twice their rate (the socket is closed),
 * an awareness update over the size limit (that scene's connection is closed), and more sent
 * before authentication than the server queues (the socket is closed).
 */
export const FLOOD_REFUSALS = {
  'awareness-flood': { closeCode: 4429 },
  'sync-flood': { closeCode: 4429 },
  'awareness-too-large': { closeCode: 4413 },
  'unauthenticated-queue-bytes': { closeCode: 4413 },
  'unauthenticated-queue-messages': { closeCode: 4429 },
  'unauthenticated-documents': { closeCode: 4429 },
} as const satisfies Record<string, { closeCode: number }>;

export type FloodRefusalCode = keyof typeof FLOOD_REFUSALS;

/**
 * An update that could not be stored: the socket is closed with this code and reason, the provider
 * reconnects and its sync step sends the update again.
 */
export const PERSISTENCE_UNAVAILABLE = { code: 4500, reason: reasonOf('persistence-unavailable', 'the update was not stored; reconnect and retry') } as const;

/**
 * What the server will never take, however often it is sent (content it will not store, an
 * awareness state it will not relay): the editor must be reloaded.
 */
export const FINAL_UPDATE_REFUSALS: readonly string[] = ['update-too-large', 'malformed-update', 'awareness-too-large'] satisfies (
  | UpdateRefusalCode
  | FloodRefusalCode
)[];

/**
 * An open connection ended because its token expired or its role changed: nothing the editor has is
 * lost (its unsaved changes stay in its document), it gets a fresh token and connects again, and
 * its sync step sends what the server did not store.
 */
export const REAUTHENTICATE_REFUSALS: readonly string[] = ['token-expired', 'access-changed'] satisfies ConnectionRefusalCode[];

/** The database was unavailable for a moment while the connection was checked or the scene read: ask again. */
export const TRANSIENT_REFUSALS: readonly string[] = ['auth-unavailable', 'scene-load-failed', 'scene-seed-failed'] satisfies CloseReasonCode[];

export type CloseReasonCode = ConnectionRefusalCode | SceneRefusalCode | UpdateRefusalCode | FloodRefusalCode | 'persistence-unavailable';

/** `<code>: <detail>`, the shape of every reason. */
export function reasonOf(code: CloseReasonCode, detail: string): string {
  return `${code}: ${detail}`;
}

/** The code before the first colon of a reason, or null when it has none (not one of ours). */
export function codeOf(reason: string): string | null {
  const colon = reason.indexOf(':');
  return colon === -1 ? null : reason.slice(0, colon);
}
