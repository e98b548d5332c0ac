import { AuthRefusal, refuse } from './errors.ts';

/** The provider parameter (a query parameter of the WebSocket URL) that carries the editor's schema version. */
export const SCHEMA_VERSION_PARAMETER = 'schemaVersion';

/**
 * What the gate does with a client that sends no version (`EDITOR_SCHEMA_GATE`): `strict` refuses
 * it, `lenient` takes it for an editor of the server's schema.
 */
export type UnversionedPolicy = 'strict' | 'lenient';

/**
 * Whether an editor that runs screenplay schema `sent` may open a scene on a server at `server`.
 *
 * An older editor is refused: ProseMirror drops nodes and attributes its schema does not know, and
 * y-prosemirror writes that loss back into the shared document, so an old editor would delete
 * content for everybody. Under `strict` a missing version is refused too: a client that cannot
 * say which schema it runs cannot show that it is safe. `lenient` lets it in as the current schema,
 * the trade-off being that an unversioned client built against an older schema is not caught. A
 * garbled version is refused under both: it is a bug in the client, not an omission. A newer
 * editor is let in, so a client can be deployed before the server; the server keeps node types it
 * does not know.
 *
 * The page always sends a number, so only an older number means "this page's bundle is out of
 * date: reload"; the other refusals are written for the developer of another client.
 */
export function decideEditorVersion(
  sent: string | null,
  server: number,
  unversioned: UnversionedPolicy,
): { version: number } | { refusal: AuthRefusal } {
  const whatToSend = `connect with ?${SCHEMA_VERSION_PARAMETER}=${server} in the WebSocket URL (SCREENPLAY_SCHEMA_VERSION from writersroom-collab/screenplay)`;
  if (sent === null || sent === '') {
    if (unversioned === 'lenient') return { version: server };
    return { refusal: refuse('outdated-editor', `the client sent no screenplay schema version: ${whatToSend}`) };
  }
  if (!/^[0-9]{1,9}$/.test(sent)) {
    return { refusal: refuse('outdated-editor', `"${SCHEMA_VERSION_PARAMETER}" must be a whole number, not ${JSON.stringify(sent.slice(0, 32))}: ${whatToSend}`) };
  }
  const version = Number(sent);
  if (version < server) {
    return { refusal: refuse('outdated-editor', `the editor runs screenplay schema ${version}, the server ${server}; reload the page to get the current editor`) };
  }
  return { version };
}
