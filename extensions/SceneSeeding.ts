import type { Extension, onLoadDocumentPayload } from '@hocuspocus/server';
import * as Y from 'yjs';
import { alreadyStoredOrigin } from '../src/collab/origins.ts';
import type { SceneLoadValidator } from '../src/restCopy/loadValidation.ts';

export interface SceneSeedingConfiguration {
  validator: SceneLoadValidator;
}

/**
 * Checks each scene against its REST copy right after the append log has been replayed into it:
 * an empty scene is seeded from REST exactly once (the database decides, under the scene's lock),
 * a log that replays empty while REST has content is reported as corruption and handled by the
 * configured policy, and a scene with content is compared with REST (just after it is served)
 * and never overwritten.
 * The decisions and the SQL live in `src/restCopy/`; this class only applies the result.
 */
export class SceneSeeding implements Extension {
  extensionName = 'SceneSeeding';

  // Below AppendLogPersistence (1000): Hocuspocus runs onLoadDocument by descending priority, and
  // the check must see the document the log replayed to, or every scene would look empty.
  priority = 900;

  private readonly configuration: SceneSeedingConfiguration;

  constructor(configuration: SceneSeedingConfiguration) {
    this.configuration = { ...configuration };
  }

  async onLoadDocument({ document, documentName }: onLoadDocumentPayload): Promise<void> {
    const { validator } = this.configuration;
    if (!validator.mustCheckBeforeServing(document)) {
      // A scene with content is only compared with its REST copy, which changes nothing: the
      // editor gets its scene first and the report follows (it reads the REST copy and converts
      // the whole scene, which for a long scene would add its time to every load).
      setImmediate(() => void validator.compareWithRest(document, documentName));
      return;
    }
    // A SceneSeedingError propagates: Hocuspocus refuses the connection with its `reason`, and the
    // provider retries, rather than editing an empty scene that should have been seeded.
    const check = await validator.check(document, documentName);
    // Every update here is already in the log (the validator appended it, or it was read from the
    // log). Hocuspocus has not registered its update handler during loading, so onChange would not
    // see these anyway; the origin keeps that true should the hook order ever change.
    for (const update of check.updates) Y.applyUpdate(document, update, alreadyStoredOrigin({ reason: `load-check:${check.result}` }));
  }
}
