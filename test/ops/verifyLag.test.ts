import { expect, it } from 'vitest';
import { migrateRestToYjs, migrationExitCode } from '../../jobs/migrateRestToYjs.ts';
import { SceneLog } from '../../src/log/sceneLog.ts';
import { silentLogger } from '../../src/logger.ts';
import { encodeRestBlocksAsUpdate } from '../../src/screenplay/index.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { OTHER_BLOCKS, SCENE_BLOCKS } from '../seeding/support.ts';

describeEachDatabase('migrate-rest-to-yjs --verify-only: lag is not mismatch', (db) => {
  it('reports a REST copy that is only behind the log as lagging (exit 0), one changed behind its back as mismatched', async () => {
    const deps = { prisma: db().prisma, sceneLog: new SceneLog(db().database.sql), logger: silentLogger() };
    const { scriptId, sceneIds } = await createScript(db().prisma, { sceneContents: [SCENE_BLOCKS, SCENE_BLOCKS] });
    await migrateRestToYjs(deps, { mode: 'migrate', scope: { kind: 'script', scriptId } });

    // An edit after the migration: the log moves on, the REST copy waits for the next snapshot.
    await deps.sceneLog.append([{ sceneId: sceneIds[0]!, update: encodeRestBlocksAsUpdate(OTHER_BLOCKS), createdBy: null }]);
    const lagging = await migrateRestToYjs(deps, { mode: 'verify-only', scope: { kind: 'script', scriptId } });
    expect(lagging.summary).toMatchObject({ verified: 1, lagging: 1, mismatched: 0 });
    expect(lagging.results[0]).toMatchObject({ sceneId: sceneIds[0], status: 'lagging', reason: 'REST_BEHIND_LOG' });
    expect(migrationExitCode(lagging.summary)).toBe(0);

    // The same REST copy written behind the snapshot's back is real divergence.
    await db().prisma.scene.update({ where: { sceneId: sceneIds[1]! }, data: { contentBlocks: OTHER_BLOCKS } });
    const mismatched = await migrateRestToYjs(deps, { mode: 'verify-only', scope: { kind: 'script', scriptId } });
    expect(mismatched.summary).toMatchObject({ lagging: 1, mismatched: 1 });
    expect(mismatched.results[1]).toMatchObject({ status: 'mismatch' });
    expect(migrationExitCode(mismatched.summary)).toBe(1);
  });
});
