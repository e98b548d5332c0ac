import { describe, expect, it } from 'vitest';
import type { LifecycleFacts } from '../../src/log/lifecycle.ts';
import { compactScene } from '../../src/log/compaction.ts';
import { countByLifecycle, LIFECYCLE_STATES, sceneLifecycle, type SceneLifecycleState } from '../../src/scenes/lifecycle.ts';
import { diagnoseYjsState, formatDiagnosis } from '../../jobs/diagnose.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createScript } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { JOB_DEFAULTS, retireMergedOriginals } from '../compaction/support.ts';
import { appendVersions, parsePrometheusText, request } from '../http/support.ts';

const block = (text: string) => ({ type: 'action', text });

describe('sceneLifecycle', () => {
  const facts = (over: Partial<LifecycleFacts>): LifecycleFacts => ({ hasUpdates: true, compacted: false, mergedRowsStored: false, restCopy: 'not_derived', ...over });
  it.each<[Partial<LifecycleFacts>, SceneLifecycleState]>([
    [{ hasUpdates: false }, 'CREATED'],
    // A head without rows (clear-yjs) whose copy a snapshot once derived is still only its REST copy.
    [{ hasUpdates: false, restCopy: 'current' }, 'CREATED'],
    [{ restCopy: 'not_derived' }, 'YJS_INITIAL'],
    [{ restCopy: 'current' }, 'YJS_SYNCED'],
    [{ restCopy: 'behind' }, 'YJS_ACTIVE'],
    [{ compacted: true, mergedRowsStored: true, restCopy: 'current' }, 'YJS_COMPACTED'],
    [{ compacted: true, mergedRowsStored: true, restCopy: 'behind' }, 'YJS_COMPACTED'],
    [{ compacted: true, mergedRowsStored: false, restCopy: 'behind' }, 'YJS_ARCHIVED'],
  ])('%o -> %s', (over, state) => {
    expect(sceneLifecycle(facts(over))).toBe(state);
  });

  it('counts every state, 0 for the empty ones', () => {
    const counts = countByLifecycle([
      { facts: facts({ restCopy: 'current' }), scenes: 2 },
      { facts: facts({ restCopy: 'current', compacted: true }), scenes: 1 },
      { facts: facts({ restCopy: 'behind', compacted: true }), scenes: 3 },
    ]);
    expect(counts).toEqual({ CREATED: 0, YJS_INITIAL: 0, YJS_SYNCED: 2, YJS_ACTIVE: 0, YJS_COMPACTED: 0, YJS_ARCHIVED: 4 });
  });
});

describeEachServer('scene lifecycle on real scenes', ({ app, db }) => {
  it('derives each state from the log, and shows it in the scenes route, diagnose and /metrics', async () => {
    const { prisma } = db();
    const { scriptId, sceneIds, userId } = await createScript(prisma, { scenes: 6, contentBlocks: [] });
    const [created, initial, synced, active, compacted, archived] = sceneIds as [string, string, string, string, string, string];
    const expected: Record<string, SceneLifecycleState> = {
      [created]: 'CREATED',
      [initial]: 'YJS_INITIAL',
      [synced]: 'YJS_SYNCED',
      [active]: 'YJS_ACTIVE',
      [compacted]: 'YJS_COMPACTED',
      [archived]: 'YJS_ARCHIVED',
    };
    for (const sceneId of [initial, synced, active, compacted, archived]) await appendVersions(app(), sceneId, [[block('one')], [block('one two')]]);
    for (const sceneId of [synced, active]) expect((await app().snapshots.snapshotScene(sceneId)).status).toBe('written');
    await appendVersions(app(), active, [[block('one two three')]]);
    const sql = db().database.sql;
    for (const sceneId of [compacted, archived]) {
      expect((await compactScene(sql, sceneId, { maxRows: JOB_DEFAULTS.compaction.maxRowsPerCompaction })).status).toBe('compacted');
    }
    expect(await retireMergedOriginals(sql, archived)).toBe(2);

    const facts = await app().sceneLog.lifecycle.factsOf(sceneIds);
    expect(Object.fromEntries(sceneIds.map((id) => [id, sceneLifecycle(facts.get(id)!)]))).toEqual(expected);

    const token = await tokenFor(userId);
    const list = await request(app(), 'GET', `/api/scripts/${scriptId}/scenes`, { token });
    expect(list.status).toBe(200);
    expect(Object.fromEntries(list.body.scenes.map((s: any) => [s.sceneUUID, s.metadata.lifecycle]))).toEqual(expected);
    const one = await request(app(), 'GET', `/api/scenes/${archived}`, { token });
    expect(one.body.metadata.lifecycle).toBe('YJS_ARCHIVED');

    // The census counts live scenes only: a deleted one leaves it.
    await prisma.scene.update({ where: { sceneId: created }, data: { deletedAt: new Date() } });
    const metrics = await fetch(`${app().httpUrl}/metrics`).then((r) => r.text());
    const byState = Object.fromEntries((parsePrometheusText(metrics).get('writersroom_scenes_by_state') ?? []).map((s) => [s.labels.state, s.value]));
    expect(byState).toEqual({ CREATED: 0, YJS_INITIAL: 1, YJS_SYNCED: 1, YJS_ACTIVE: 1, YJS_COMPACTED: 1, YJS_ARCHIVED: 1 });

    const diagnosis = await diagnoseYjsState({ prisma, sceneLog: app().sceneLog }, { scriptId });
    expect(diagnosis.lifecycle.byState).toEqual(byState);
    const { [created]: _deleted, ...live } = expected;
    expect(diagnosis.lifecycle.scenes).toEqual(live);
    const text = formatDiagnosis(diagnosis).join('\n');
    expect(text).toContain(`Scenes by lifecycle state: ${LIFECYCLE_STATES.map((s) => `${s} ${byState[s]}`).join(', ')}`);
    expect(text).toMatch(new RegExp(`${archived} .* YJS_ARCHIVED`));
  });
});
