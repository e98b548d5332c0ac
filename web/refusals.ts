/**
 * What the page does with a refusal the server sends. The reasons are the server's stable
 * prefixes: extensions/UpdateGuards.ts for updates, src/auth/errors.ts, extensions/AppendLogPersistence.ts
 * and src/restCopy/errors.ts for connections.
 */

/** The server will never store this content: the page must be reloaded. */
export function isUpdateRefusal(reason: string): boolean {
  return /^(update-too-large|malformed-update):/.test(reason);
}

/**
 * The server could not check access, read the scene or prepare it, because its database was
 * unavailable for a moment: worth asking again after a short wait.
 */
export function isTransientRefusal(reason: string): boolean {
  return /^(auth-unavailable|scene-load-failed|scene-seed-failed):/.test(reason);
}
