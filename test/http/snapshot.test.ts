import { expect, it } from 'vitest';
import { checksumBlocks } from '../../src/screenplay/index.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { canonical } from '../helpers/documents.ts';
import { appendVersions, request } from './support.ts';

const V1 = [
  { type: 'scene_heading', text: 'INT. KITCHEN - DAY' },
  { type: 'action', text: 'The kettle screams.' },
];
const V2 = [...V1, { type: 'dialogue', text: 'Someone get that.', character: 'ANNA' }];

describeEachServer('POST /api/scenes/:sceneId/snapshot', ({ db, app }) => {
  const sceneWithLog = async () => {
    const fixture = await createScript(db().prisma, { scenes: 1 });
    const sceneId = fixture.sceneIds[0]!;
    await appendVersions(app(), sceneId, [V1, V2]);
    return { ...fixture, sceneId, owner: await tokenFor(fixture.userId) };
  };

  it('writes the REST copy from Yjs with its metadata row, for the owner', async () => {
    const { sceneId, owner, userId } = await sceneWithLog();
    const res = await request(app(), 'POST', `/api/scenes/${sceneId}/snapshot`, { token: owner, body: {} });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ scene_id: sceneId, written: true, source: 'yjs', seq: 2, yjs_update_count: 2, validation: null });
    expect(res.body.snapshot_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.snapshot_size_bytes).toBeGreaterThan(0);
    expect(res.body.generation_time_ms).toBeGreaterThanOrEqual(0);

    const scene = await db().prisma.scene.findUniqueOrThrow({ where: { sceneId } });
    expect(canonical(scene.contentBlocks)).toBe(canonical(V2));
    expect(scene).toMatchObject({ snapshotSource: 'yjs', yjsDerived: true, snapshotSeq: 2n, yjsChecksum: checksumBlocks(V2) });
    expect(scene.snapshotAt).toBeInstanceOf(Date);
    const metadata = await db().prisma.sceneSnapshotMetadata.findUniqueOrThrow({ where: { snapshotId: res.body.snapshot_id } });
    const latest = await db().prisma.sceneVersion.findFirstOrThrow({ where: { sceneId, seq: 2n } });
    expect(metadata).toMatchObject({
      sceneId,
      snapshotSource: 'manual',
      createdBy: userId,
      yjsVersionCount: 2,
      yjsLatestVersionId: latest.versionId,
      yjsLatestSeq: 2n,
      yjsChecksum: checksumBlocks(V2),
      snapshotSizeBytes: res.body.snapshot_size_bytes,
    });
  });

  it('refuses a second snapshot within the interval unless forced, and never replaces a newer one', async () => {
    const { sceneId, owner } = await sceneWithLog();
    expect((await request(app(), 'POST', `/api/scenes/${sceneId}/snapshot`, { token: owner })).status).toBe(201);
    const recent = await request(app(), 'POST', `/api/scenes/${sceneId}/snapshot`, { token: owner, body: { force: false } });
    expect(recent.status).toBe(400);
    expect(recent.body.code).toBe('SNAPSHOT_TOO_RECENT');

    // Forced, but nothing new in the log: the guarded write leaves the copy alone.
    const same = await request(app(), 'POST', `/api/scenes/${sceneId}/snapshot`, { token: owner, body: { force: true } });
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ written: false, snapshot_id: null, seq: 2, current_snapshot_seq: 2 });

    await appendVersions(app(), sceneId, [[...V2, { type: 'transition', text: 'CUT TO:' }]]);
    const forced = await request(app(), 'POST', `/api/scenes/${sceneId}/snapshot`, { token: owner, body: { force: true } });
    expect(forced.status).toBe(201);
    expect(forced.body.seq).toBe(3);
    expect(await db().prisma.sceneSnapshotMetadata.count({ where: { sceneId } })).toBe(2);
  });

  it('returns the divergence report with validate', async () => {
    const { sceneId, owner } = await sceneWithLog();
    await db().prisma.scene.update({ where: { sceneId }, data: { contentBlocks: [{ type: 'action', text: 'stale REST content' }] } });
    const res = await request(app(), 'POST', `/api/scenes/${sceneId}/snapshot`, { token: owner, body: { validate: true } });
    expect(res.status).toBe(201);
    expect(res.body.validation).toMatchObject({ passed: true, diverged: false, checksum_match: true });
    expect(res.body.validation.report).toMatchObject({ scene_id: sceneId, diverged: false, cause: 'in_sync', yjs_block_count: 3, rest_block_count: 3, yjs_seq: 2 });
    expect(res.body.validation.previous).toMatchObject({ diverged: true, cause: 'snapshot_lag', severity: 'minor', recommended_action: 'create_snapshot', rest_block_count: 1 });
    expect(res.body.validation.previous.diff.entries.length).toBeGreaterThan(0);
  });

  it('allows administrators, refuses editors, viewers and strangers, and maps every bad request', async () => {
    const { sceneId, owner, scriptId } = await sceneWithLog();
    const editorId = await createUser(db().prisma);
    await db().prisma.scriptCollaborator.create({ data: { scriptId, userId: editorId, role: 'editor' } });
    const admin = await tokenFor(await createUser(db().prisma), { admin: true });
    const path = `/api/scenes/${sceneId}/snapshot`;

    expect((await request(app(), 'POST', path, { token: admin, body: { force: true } })).status).toBe(201);
    const editor = await request(app(), 'POST', path, { token: await tokenFor(editorId), body: { force: true } });
    expect(editor.status).toBe(403);
    expect(editor.body.code).toBe('OWNER_OR_ADMIN_REQUIRED');
    expect((await request(app(), 'POST', path, { token: await tokenFor(await createUser(db().prisma)), body: {} })).status).toBe(403);
    expect((await request(app(), 'POST', path, { body: {} })).status).toBe(401);
    expect((await request(app(), 'POST', path, { token: await tokenFor(editorId, { ttlSeconds: -1 }), body: {} })).status).toBe(401);
    expect((await request(app(), 'POST', '/api/scenes/nope/snapshot', { token: owner, body: {} })).status).toBe(400);
    expect((await request(app(), 'POST', '/api/scenes/00000000-0000-4000-8000-000000000000/snapshot', { token: owner, body: {} })).status).toBe(404);

    for (const [name, options] of [
      ['force not a boolean', { body: { force: 'yes' } }],
      ['unknown field', { body: { forse: true } }],
      ['array body', { body: [true] }],
      ['broken JSON', { rawBody: '{"force": tru', contentType: 'application/json' }],
      ['form body', { rawBody: 'force=true', contentType: 'application/x-www-form-urlencoded' }],
    ] as const) {
      const res = await request(app(), 'POST', path, { token: owner, ...options });
      expect(res.status, name).toBe(400);
      expect(typeof res.body.code, name).toBe('string');
    }
  });

  it('answers 409 for a scene without a Yjs log', async () => {
    const fixture = await createScript(db().prisma, { scenes: 1, contentBlocks: V1 });
    const res = await request(app(), 'POST', `/api/scenes/${fixture.sceneIds[0]}/snapshot`, { token: await tokenFor(fixture.userId) });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('NO_YJS_LOG');
  });
});
