import { expect, it } from 'vitest';
import { mountedRoutes, openApiDocument } from '../../src/http/openapi.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createScript } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { appendVersions, parsePrometheusText, request } from './support.ts';

const V1 = [
  { type: 'scene_heading', text: 'INT. HANGAR - NIGHT' },
  { type: 'action', text: 'Engines idle.' },
];

describeEachServer('health, metrics and OpenAPI', ({ db, app }) => {
  it('answers liveness and readiness without a token', async () => {
    const live = await request(app(), 'GET', '/api/health/live');
    expect(live.status).toBe(200);
    expect(live.body.status).toBe('ok');
    const ready = await request(app(), 'GET', '/api/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready', database: 'ok' });
  });

  it('reports persistence and divergence with real figures (section 7.3)', async () => {
    const empty = await request(app(), 'GET', '/api/health/persistence');
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({
      status: 'healthy',
      yjs_persistence: { operational: true, scenes_with_updates: 0 },
      snapshot_service: { operational: true, snapshots_behind_threshold: 0, scenes_behind_log: 0 },
      divergence_detection: { enabled: true, scenes_checked: 0, divergence_rate: 0, scenes_diverged: 0 },
      compaction: { last_run: null, scenes_compacted: 0, storage_saved_mb: null },
    });

    // Three scenes with logs: one snapshotted and intact, one snapshotted then tampered with, one never snapshotted.
    const fixture = await createScript(db().prisma, { scenes: 3 });
    const [intact, tampered, never] = fixture.sceneIds as [string, string, string];
    for (const sceneId of fixture.sceneIds) await appendVersions(app(), sceneId, [V1]);
    await app().snapshots.snapshotScene(intact);
    await app().snapshots.snapshotScene(tampered);
    await db().prisma.scene.update({ where: { sceneId: tampered }, data: { contentBlocks: [{ type: 'action', text: 'edited behind the log’s back' }] } });
    // A read that replays, so the load-time figure has a sample.
    expect((await request(app(), 'GET', `/api/scenes/${never}`, { token: await tokenFor(fixture.userId) })).status).toBe(200);
    await app().divergence.sweep();

    const res = await request(app(), 'GET', '/api/health/persistence');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('degraded');
    expect(res.body.yjs_persistence.scenes_with_updates).toBe(3);
    expect(res.body.yjs_persistence.avg_load_time_ms).toBeGreaterThan(0);
    expect(res.body.snapshot_service).toMatchObject({ scenes_behind_log: 1, never_snapshotted: 1, snapshots_behind_threshold: 1 });
    expect(res.body.snapshot_service.avg_snapshot_age_minutes).toBeGreaterThanOrEqual(0);
    expect(res.body.divergence_detection).toMatchObject({ scenes_checked: 3, scenes_diverged: 1 });
    expect(res.body.divergence_detection.divergence_rate).toBeCloseTo(1 / 3, 5);

    const divergence = await request(app(), 'GET', '/api/health/divergence-status');
    expect(divergence.status).toBe(200);
    expect(divergence.body).toMatchObject({
      enabled: true,
      status: 'critical',
      scenes_checked: 3,
      scenes_diverged: 1,
      scenes_lagging: 1,
      diverged: [{ scene_id: tampered, cause: 'rest_modified', recommended_action: 'auto_repair_prefer_yjs' }],
    });
    expect(divergence.body.divergence_rate_percent).toBeCloseTo(100 / 3, 2);

    // Repair (PREFER_YJS) brings the copy back; the next sweep sees no divergence.
    const repair = await app().divergence.autoRepair(tampered);
    expect(repair.repaired).toBe(true);
    await app().divergence.sweep();
    const after = await request(app(), 'GET', '/api/health/divergence-status');
    expect(after.body).toMatchObject({ status: 'ok', scenes_diverged: 0, divergence_rate: 0 });

    // Compaction figures come from the log: one scene's row merged into a compacted row.
    const [original] = await app().sceneLog.load(never);
    const compacted = await db().prisma.sceneVersion.create({
      data: { sceneId: never, seq: original!.seq, yjsUpdate: new Uint8Array(original!.update), isCompacted: true, compactedCount: 1 },
    });
    await db().prisma.sceneVersion.update({ where: { versionId: original!.versionId }, data: { compactedBy: compacted.versionId } });
    const compaction = (await request(app(), 'GET', '/api/health/persistence')).body.compaction;
    expect(compaction).toMatchObject({ scenes_compacted: 1, updates_merged: 1, rows_awaiting_retention: 1, storage_saved_mb: null });
    expect(Date.parse(compaction.last_run)).toBe(compacted.createdAt.getTime());
    expect(compaction.reclaimable_mb).toBeGreaterThanOrEqual(0);
  });

  it('serves /metrics as Prometheus text with the section 12.1 metrics carrying values', async () => {
    const fixture = await createScript(db().prisma, { scenes: 1 });
    await appendVersions(app(), fixture.sceneIds[0]!, [V1]);
    await app().divergence.sweep({ limit: 1000 });
    const res = await request(app(), 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const samples = parsePrometheusText(res.text);
    for (const name of [
      'divergence_rate',
      'snapshot_lag_minutes',
      'scene_load_time_seconds_count',
      'scene_load_time_seconds_bucket',
      'update_persist_errors_total',
      'yjs_updates_appended_total',
      'yjs_append_batch_size_count',
      'yjs_ack_latency_seconds_count',
      'yjs_quarantined_updates_total',
      'yjs_corruption_detected_total',
    ]) {
      expect(samples.get(name)?.length, name).toBeGreaterThan(0);
    }
    expect(samples.get('update_persist_errors_total')!.map((s) => s.labels.reason).sort()).toEqual(['database', 'scene_not_found']);
    // The scene just appended is behind its (missing) snapshot: the lag is refreshed for the scrape.
    expect(samples.get('snapshot_lag_minutes')![0]!.value).toBeGreaterThanOrEqual(0);
    expect(samples.get('scene_load_time_seconds_count')![0]!.value).toBeGreaterThan(0);
    expect(() => parsePrometheusText('not a metric line')).toThrow();
  });

  it('describes every mounted route in /api/openapi.json', async () => {
    const res = await request(app(), 'GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const routes = mountedRoutes(app().httpApp);
    expect(routes.length).toBeGreaterThanOrEqual(11);
    for (const { method, path } of routes) {
      expect(res.body.paths[path]?.[method], `${method.toUpperCase()} ${path}`).toBeDefined();
    }
    // And nothing is documented that is not mounted (the development token route only without a secret).
    const mounted = new Set(routes.map(({ method, path }) => `${method} ${path}`));
    for (const [path, operations] of Object.entries(openApiDocument.paths)) {
      for (const method of Object.keys(operations)) {
        if (path === '/api/dev/token') continue;
        expect(mounted.has(`${method} ${path}`), `${method} ${path}`).toBe(true);
      }
    }
  });
});
