import { describe, expect, it } from 'vitest';
import { encodeRestBlocksAsUpdate } from '../../src/screenplay/index.ts';
import { connectClient, waitFor, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createScript } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { counterValue } from '../helpers/metrics.ts';
import { blocksOf, canonical } from '../helpers/documents.ts';
import { deleteAllUpdate, deleteOnlyUpdate, otherRootUpdate, SCENE_BLOCKS } from './support.ts';

const CRAFTED_LOGS = [
  { name: 'an update that only deletes', updates: () => [deleteOnlyUpdate()] },
  { name: 'a valid update to another root type', updates: () => [otherRootUpdate()] },
  {
    name: 'the seed and a delete of everything',
    updates: () => [encodeRestBlocksAsUpdate(SCENE_BLOCKS), deleteAllUpdate(encodeRestBlocksAsUpdate(SCENE_BLOCKS))],
  },
];

describe.each(['log', 'reseed'] as const)('CORRUPTION_POLICY=%s', (policy) => {
  describeEachServer('corruption detection on load', { env: { CORRUPTION_POLICY: policy } }, ({ db, app }) => {
    /** Opens the scene with a real provider, returns its document's blocks, and leaves again. */
    const open = async (sceneId: string, token: string): Promise<{ client: TestClient; blocks: string }> => {
      const client = connectClient(app().wsUrl, sceneId, { token });
      await waitForSynced(client);
      return { client, blocks: blocksOf(client.doc) };
    };
    const close = async (client: TestClient) => {
      client.destroy();
      await waitFor(() => app().collab.hocuspocus.getDocumentsCount() === 0, 'scene unloads');
    };

    it.each(CRAFTED_LOGS)('a log holding $name', async ({ updates }) => {
      const fixture = await createScript(db().prisma, { contentBlocks: SCENE_BLOCKS });
      const sceneId = fixture.sceneIds[0]!;
      const token = await tokenFor(fixture.userId);
      const crafted = updates();
      await app().sceneLog.append(crafted.map((update) => ({ sceneId, update, createdBy: null })));
      const before = await db().prisma.sceneVersion.findMany({ where: { sceneId }, orderBy: { seq: 'asc' } });
      const detected = await counterValue(app().metrics.corruptionDetected);

      const { client, blocks } = await open(sceneId, token);
      expect(await counterValue(app().metrics.corruptionDetected)).toBe(detected + 1);
      const after = await db().prisma.sceneVersion.findMany({ where: { sceneId }, orderBy: { seq: 'asc' } });
      // Nothing is ever deleted or rewritten.
      expect(after.slice(0, before.length).map((r) => r.versionId)).toEqual(before.map((r) => r.versionId));

      if (policy === 'log') {
        expect(blocks).toBe('[]');
        expect(after).toHaveLength(crafted.length);
      } else {
        // Served with its REST content, appended as a new version by the system.
        expect(blocks).toBe(canonical(SCENE_BLOCKS));
        expect(after).toHaveLength(crafted.length + 1);
        expect(after.at(-1)!.createdBy).toBeNull();
      }
      await close(client);

      // A second load finds the same state: under `log` it is reported again, under `reseed` the
      // repaired scene loads with content and nothing more is appended.
      const second = await open(sceneId, token);
      expect(second.blocks).toBe(policy === 'log' ? '[]' : canonical(SCENE_BLOCKS));
      expect(await db().prisma.sceneVersion.count({ where: { sceneId } })).toBe(after.length);
      expect(await counterValue(app().metrics.corruptionDetected)).toBe(detected + (policy === 'log' ? 2 : 1));
      await close(second.client);
    });
  });
});
