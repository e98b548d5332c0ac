import { beforeAll, expect, it } from 'vitest';
import { SCREENPLAY_SCHEMA_VERSION } from '../../src/screenplay/schema.ts';
import { tokenFor } from '../helpers/auth.ts';
import { waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { captureExpectedConsoleErrors } from '../helpers/console.ts';
import { createScript } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';
import { openScene } from './support.ts';

/**
 * EDITOR_SCHEMA_GATE with real providers. Strict (the default) is covered with every other refusal
 * in connections.test.ts; here: what strict tells an unversioned client, and what lenient lets in.
 */
for (const gate of ['strict', 'lenient'] as const) {
  describeEachServer(`EDITOR_SCHEMA_GATE=${gate}`, { kinds: ['postgres'], env: gate === 'strict' ? {} : { EDITOR_SCHEMA_GATE: gate } }, ({ db, app }) => {
    captureExpectedConsoleErrors();
    let owner: string;
    let sceneId: string;
    beforeAll(async () => {
      const fixture = await createScript(db().prisma);
      owner = fixture.userId;
      sceneId = fixture.sceneIds[0]!;
    });
    const open = async (parameters: Record<string, string>): Promise<{ client: TestClient; outcome: string }> => {
      const opened = openScene(app().collabUrl, sceneId, await tokenFor(owner), { parameters });
      const outcome = await opened.outcome;
      return { client: opened.client, outcome: outcome.ok ? `ok ${outcome.scope}` : outcome.reason };
    };
    const outcomeOf = async (parameters: Record<string, string>) => {
      const { client, outcome } = await open(parameters);
      client.destroy();
      return outcome;
    };

    if (gate === 'strict') {
      it('refuses a client that sends no version, telling its developer what to send', async () => {
        expect(await outcomeOf({})).toBe(
          `outdated-editor: the client sent no screenplay schema version: connect with ?schemaVersion=${SCREENPLAY_SCHEMA_VERSION} in the WebSocket URL (SCREENPLAY_SCHEMA_VERSION from writersroom-collab/screenplay)`,
        );
      });
    } else {
      it('lets a client that sends no version in, as the current schema, and stores its edits', async () => {
        const { client, outcome } = await open({});
        try {
          expect(outcome).toBe('ok read-write');
          await waitForSynced(client);
          typeInto(client.doc, 'unversioned');
          await waitForAcked(client);
          expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBeGreaterThan(0);
        } finally {
          client.destroy();
        }
      });
    }

    it('refuses an older version (reload the page) and a garbled one either way, and lets the current one in', async () => {
      expect(await outcomeOf({ schemaVersion: String(SCREENPLAY_SCHEMA_VERSION - 1) })).toMatch(/^outdated-editor: the editor runs screenplay schema \d+, the server \d+; reload the page/);
      expect(await outcomeOf({ schemaVersion: 'v1' })).toMatch(/^outdated-editor: "schemaVersion" must be a whole number/);
      expect(await outcomeOf({ schemaVersion: String(SCREENPLAY_SCHEMA_VERSION) })).toBe('ok read-write');
    });
  });
}
