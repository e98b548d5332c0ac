import { AuthRefusal, refuse } from './errors.ts';

/** The provider parameter (a query parameter of the WebSocket URL) that carries the editor's schema version. */
export const SCHEMA_VERSION_PARAMETER = 'schemaVersion';

/**
 * Whether an editor that runs screenplay schema `sent` may open a scene on a server at `server`.
 *
 * An older editor is refused: ProseMirror drops nodes and attributes its schema does not know, and
 * y-prosemirror writes that loss back into the shared document, so an old editor would delete
 * content for everybody. A missing or garbled version is treated as the oldest possible: an editor
 * that cannot say which schema it runs cannot show that it is safe. A newer editor is let in, so a
 * client can be deployed before the server; the server keeps node types it does not know.
 */
export function decideEditorVersion(sent: string | null, server: number): { version: number } | { refusal: AuthRefusal } {
  const reload = 'reload the page to get the current editor';
  if (sent === null || sent === '') {
    return { refusal: refuse('outdated-editor', `the editor did not send its screenplay schema version ("${SCHEMA_VERSION_PARAMETER}"); ${reload}`) };
  }
  if (!/^[0-9]{1,9}$/.test(sent)) {
    return { refusal: refuse('outdated-editor', `"${SCHEMA_VERSION_PARAMETER}" must be a whole number, not ${JSON.stringify(sent.slice(0, 32))}; ${reload}`) };
  }
  const version = Number(sent);
  if (version < server) {
    return { refusal: refuse('outdated-editor', `the editor runs screenplay schema ${version}, the server ${server}; ${reload}`) };
  }
  return { version };
}
