import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { request } from '../http/support.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('SCENE_DELETE_RETENTION_DAYS', () => {
  it('defaults to 30 days, takes fractions, and refuses what is not a positive number', () => {
    expect(loadConfig({ NODE_ENV: 'test' }).scenes.deleteRetentionMs).toBe(30 * DAY_MS);
    expect(loadConfig({ NODE_ENV: 'test', SCENE_DELETE_RETENTION_DAYS: '0.5' }).scenes.deleteRetentionMs).toBe(DAY_MS / 2);
    for (const value of ['0', '-1', 'soon']) {
      expect(() => loadConfig({ NODE_ENV: 'test', SCENE_DELETE_RETENTION_DAYS: value }), value).toThrow(ConfigError);
    }
  });
});

describeEachServer('SCENE_DELETE_RETENTION_DAYS reaches the routes and the scheduled retention job', { env: { SCENE_DELETE_RETENTION_DAYS: '2' } }, ({ db, app }) => {
  let token: string;
  beforeAll(async () => {
    token = await tokenFor(await createUser(db().prisma));
  });

  it('restores within 2 days, refuses after, and the server\'s retention job purges only what is older', async () => {
    const scriptId = (await request(app(), 'POST', '/api/scripts', { token, body: { title: 'Two days' } })).body.scriptUUID as string;
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await request(app(), 'POST', `/api/scripts/${scriptId}/scenes`, { token })).body.scene.sceneUUID);
    const deleted = await request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${ids[0]}`, { token });
    expect(Date.parse(deleted.body.restorable_until) - Date.parse(deleted.body.scene.deleted_at)).toBe(2 * DAY_MS);
    await request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${ids[1]}`, { token });
    await db().prisma.$executeRaw`UPDATE scenes SET deleted_at = now() - interval '3 days' WHERE scene_id = ${ids[0]}::uuid`;
    await db().prisma.$executeRaw`UPDATE scenes SET deleted_at = now() - interval '1 day' WHERE scene_id = ${ids[1]}::uuid`;
    expect((await request(app(), 'GET', `/api/scripts/${scriptId}/deleted-scenes`, { token })).body.retention_days).toBe(2);

    const late = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes/${ids[0]}/restore`, { token });
    expect([late.status, late.body.code]).toEqual([410, 'SCENE_NOT_RESTORABLE']);
    const summary = (await app().scheduler.runNow('retention')) as { deletedScenesPurged: number };
    expect(summary.deletedScenesPurged).toBe(1);
    expect(await db().prisma.scene.count({ where: { sceneId: { in: ids } } })).toBe(2);
    const inTime = await request(app(), 'POST', `/api/scripts/${scriptId}/scenes/${ids[1]}/restore`, { token });
    expect(inTime.status).toBe(200);
    expect(inTime.body.scenes.map((scene: { sceneUUID: string }) => scene.sceneUUID)).toEqual([ids[2], ids[1]]);
  });
});
