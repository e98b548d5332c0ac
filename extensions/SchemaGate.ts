import type { Extension, onConnectPayload } from '@hocuspocus/server';
import { decideEditorVersion, SCHEMA_VERSION_PARAMETER, type UnversionedPolicy } from '../src/auth/editorVersion.ts';
import type { ConnectionContext } from '../src/collab/origins.ts';
import type { Logger } from '../src/logger.ts';
import type { Metrics } from '../src/metrics.ts';

export interface SchemaGateConfiguration {
  /** The server's screenplay schema version (`SCREENPLAY_SCHEMA_VERSION`). */
  serverSchemaVersion: number;
  /** A client that sends no version: refused (`strict`) or taken for the current schema (`lenient`); `EDITOR_SCHEMA_GATE`. */
  unversioned: UnversionedPolicy;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Refuses an editor older than the server's screenplay schema before it can open a scene: an old
 * editor silently deletes the node types it does not know. The provider says which version it runs
 * in the `schemaVersion` parameter; the refusal reaches it as `onAuthenticationFailed` with a
 * reason starting `outdated-editor:`.
 */
export class SchemaGate implements Extension {
  extensionName = 'SchemaGate';

  // onConnect runs before onAuthenticate; the highest priority makes this the first check of all,
  // so an outdated editor is told to reload before any token is verified or any row is read.
  priority = 1300;

  private readonly configuration: SchemaGateConfiguration;

  constructor(configuration: SchemaGateConfiguration) {
    this.configuration = { ...configuration };
  }

  async onConnect({ requestParameters, socketId }: onConnectPayload<ConnectionContext>): Promise<ConnectionContext> {
    const { serverSchemaVersion, unversioned, logger, metrics } = this.configuration;
    const decision = decideEditorVersion(requestParameters.get(SCHEMA_VERSION_PARAMETER), serverSchemaVersion, unversioned);
    if ('refusal' in decision) {
      metrics.connectionsRefused.inc({ reason: decision.refusal.code });
      logger.info({ socketId, reason: decision.refusal.reason }, 'connection refused');
      throw decision.refusal;
    }
    return { schemaVersion: decision.version };
  }
}
