import { randomUUID } from 'node:crypto';
import * as Y from 'yjs';
import { expect, it } from 'vitest';
import { compactScene } from '../../src/log/compaction.ts';
import { applyRestBlocksToYDoc } from '../../src/screenplay/index.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { request } from './support.ts';

const T0 = Date.parse('2026-11-01T10:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);

describeEachServer('GET /api/scenes/:sceneId/versions, /sessions, /snapshots', ({ db, app }) => {
  /**
   * A scene whose log has five rows, written by two writers at chosen instants:
   * seq 1 A @0s, 2 A @10s, 3 B @20s, 4 A @30s, 5 B @1000s (after B's idle gap of 980 s > 300 s).
   */
  const sceneWithWriters = async () => {
    const prisma = db().prisma;
    const ownerEmail = `owner-${randomUUID()}@example.test`;
    const ownerId = await createUser(prisma, ownerEmail);
    const fixture = await createScript(prisma, { ownerId, scenes: 1 });
    const sceneId = fixture.sceneIds[0]!;
    const editorEmail = `Editor-${randomUUID()}@example.test`;
    const editorId = await createUser(prisma, editorEmail);
    const viewerId = await createUser(prisma);
    await prisma.scriptCollaborator.create({ data: { scriptId: fixture.scriptId, userId: editorId, role: 'editor' } });
    await prisma.scriptCollaborator.create({ data: { scriptId: fixture.scriptId, userId: viewerId, role: 'viewer' } });

    const writers = [ownerId, ownerId, editorId, ownerId, editorId];
    const instants = [0, 10, 20, 30, 1000];
    const doc = new Y.Doc();
    const blocks: unknown[] = [{ type: 'scene_heading', text: 'INT. HALL - NIGHT' }];
    for (const [index, createdBy] of writers.entries()) {
      blocks.push({ type: 'action', text: `Line ${index + 1}.` });
      const { update } = applyRestBlocksToYDoc(doc, blocks);
      const [appended] = await app().sceneLog.append([{ sceneId, update: update!, createdBy }]);
      if (!appended || !('versionId' in appended)) throw new Error('append failed');
      // The instants are the test's own: tests may set log columns through Prisma, the code may not.
      await prisma.sceneVersion.update({ where: { versionId: appended.versionId }, data: { createdAt: at(instants[index]!) } });
    }
    doc.destroy();
    return {
      sceneId,
      scriptId: fixture.scriptId,
      ownerId,
      ownerEmail,
      editorId,
      editorEmail,
      owner: await tokenFor(ownerId),
      editor: await tokenFor(editorId),
      viewer: await tokenFor(viewerId),
    };
  };

  it('lists the rows newest first with their writers, sizes and counts, a page at a time', async () => {
    const s = await sceneWithWriters();
    const all = await request(app(), 'GET', `/api/scenes/${s.sceneId}/versions`, { token: s.owner });
    expect(all.status).toBe(200);
    expect(all.body.next_cursor).toBeNull();
    expect(all.body.versions.map((v: { seq: number }) => v.seq)).toEqual([5, 4, 3, 2, 1]);
    const stored = await db().prisma.sceneVersion.findMany({ where: { sceneId: s.sceneId } });
    for (const version of all.body.versions) {
      const row = stored.find((r) => r.versionId === version.version_id)!;
      expect(version).toEqual({
        version_id: row.versionId,
        seq: Number(row.seq),
        created_at: row.createdAt.toISOString(),
        created_by: row.createdBy,
        created_by_email: row.createdBy === s.ownerId ? s.ownerEmail : s.editorEmail,
        size_bytes: row.yjsUpdate.byteLength,
        compacted_count: 1,
        is_compacted: false,
        merged: false,
        compacted_by: null,
      });
    }

    // Pages of two: every row once, in the same order, and the last page says so.
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
      const page = await request(app(), 'GET', `/api/scenes/${s.sceneId}/versions${query}`, { token: s.viewer });
      expect(page.status).toBe(200);
      expect(page.body.versions.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.versions.map((v: { seq: number }) => v.seq));
      cursor = page.body.next_cursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(seen).toEqual([5, 4, 3, 2, 1]);
    expect(pages).toBe(3);
  });

  it('pages rows written in the same millisecond without skipping or repeating one', async () => {
    const s = await sceneWithWriters();
    // Microseconds apart: a cursor that kept milliseconds would lose one of them.
    const rows = await db().prisma.sceneVersion.findMany({ where: { sceneId: s.sceneId }, orderBy: { seq: 'asc' } });
    for (const [index, row] of rows.entries()) {
      await db().prisma.$executeRawUnsafe(
        `UPDATE scene_versions SET created_at = timestamptz '2026-11-02T10:00:00Z' + ${index} * interval '1 microsecond' WHERE version_id = $1::uuid`,
        row.versionId,
      );
    }
    const seen: number[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 10; pages += 1) {
      const query: string = cursor === null ? '?limit=1' : `?limit=1&cursor=${encodeURIComponent(cursor)}`;
      const page = await request(app(), 'GET', `/api/scenes/${s.sceneId}/versions${query}`, { token: s.owner });
      expect(page.status).toBe(200);
      seen.push(...page.body.versions.map((v: { seq: number }) => v.seq));
      cursor = page.body.next_cursor;
      if (cursor === null) break;
    }
    expect(seen).toEqual([5, 4, 3, 2, 1]);
  });

  it('filters by writer (id or email, any case) and by time, bounds inclusive', async () => {
    const s = await sceneWithWriters();
    const seqs = async (query: string) => {
      const res = await request(app(), 'GET', `/api/scenes/${s.sceneId}/versions?${query}`, { token: s.editor });
      expect(res.status, res.text).toBe(200);
      return res.body.versions.map((v: { seq: number }) => v.seq);
    };
    expect(await seqs(`user=${s.editorId}`)).toEqual([5, 3]);
    expect(await seqs(`user=${encodeURIComponent(s.editorEmail.toLowerCase())}`)).toEqual([5, 3]);
    expect(await seqs(`user=${encodeURIComponent(s.ownerEmail)}`)).toEqual([4, 2, 1]);
    expect(await seqs(`from=${encodeURIComponent(at(10).toISOString())}&to=${encodeURIComponent('2026-11-01T12:00:30+02:00')}`)).toEqual([4, 3, 2]);
    expect(await seqs(`from=${encodeURIComponent(at(10).toISOString())}&user=${s.ownerId}`)).toEqual([4, 2]);
  });

  it("groups rows into each writer's sessions: broken by the writer's idle gap, not by another writer's rows", async () => {
    const s = await sceneWithWriters();
    const res = await request(app(), 'GET', `/api/scenes/${s.sceneId}/sessions`, { token: s.viewer });
    expect(res.status).toBe(200);
    expect(res.body.gap_seconds).toBe(300);
    const stored = await db().prisma.sceneVersion.findMany({ where: { sceneId: s.sceneId } });
    const bytesOf = (...seqs: number[]) => stored.filter((r) => seqs.includes(Number(r.seq))).reduce((sum, r) => sum + r.yjsUpdate.byteLength, 0);
    expect(res.body.sessions).toEqual([
      { user_id: s.editorId, email: s.editorEmail, started_at: at(1000).toISOString(), ended_at: at(1000).toISOString(), rows: 1, updates: 1, bytes: bytesOf(5), first_seq: 5, last_seq: 5 },
      { user_id: s.ownerId, email: s.ownerEmail, started_at: at(0).toISOString(), ended_at: at(30).toISOString(), rows: 3, updates: 3, bytes: bytesOf(1, 2, 4), first_seq: 1, last_seq: 4 },
      { user_id: s.editorId, email: s.editorEmail, started_at: at(20).toISOString(), ended_at: at(20).toISOString(), rows: 1, updates: 1, bytes: bytesOf(3), first_seq: 3, last_seq: 3 },
    ]);
    expect(res.body.next_cursor).toBeNull();

    // A page at a time gives the same sessions.
    const first = await request(app(), 'GET', `/api/scenes/${s.sceneId}/sessions?limit=2`, { token: s.viewer });
    expect(first.body.sessions).toEqual(res.body.sessions.slice(0, 2));
    const second = await request(app(), 'GET', `/api/scenes/${s.sceneId}/sessions?limit=2&cursor=${first.body.next_cursor}`, { token: s.viewer });
    expect(second.body.sessions).toEqual(res.body.sessions.slice(2));
    expect(second.body.next_cursor).toBeNull();

    // The window selects rows before grouping, and the writer filter too.
    const window = await request(app(), 'GET', `/api/scenes/${s.sceneId}/sessions?from=${encodeURIComponent(at(10).toISOString())}&user=${s.ownerId}`, { token: s.viewer });
    expect(window.body.sessions).toMatchObject([{ user_id: s.ownerId, started_at: at(10).toISOString(), rows: 2, first_seq: 2, last_seq: 4 }]);
  });

  it('shows compacted and merged rows for what they are, and sessions only of originals', async () => {
    const s = await sceneWithWriters();
    const result = await compactScene(db().database.sql, s.sceneId, { maxRows: 1000, wait: true });
    expect(result.status).toBe('compacted');
    const res = await request(app(), 'GET', `/api/scenes/${s.sceneId}/versions?limit=10`, { token: s.owner });
    expect(res.status).toBe(200);
    const compacted = res.body.versions.filter((v: { is_compacted: boolean }) => v.is_compacted);
    expect(compacted).toHaveLength(1);
    expect(compacted[0]).toMatchObject({ seq: 5, compacted_count: 5, merged: false, created_by: null, created_by_email: null });
    const merged = res.body.versions.filter((v: { merged: boolean }) => v.merged);
    expect(merged.map((v: { seq: number }) => v.seq).sort()).toEqual([1, 2, 3, 4, 5]);
    for (const row of merged) expect(row.compacted_by).toBe(compacted[0].version_id);
    // The compacted row is the newest (compaction ran now): first in the listing.
    expect(res.body.versions[0].version_id).toBe(compacted[0].version_id);
    const sessions = await request(app(), 'GET', `/api/scenes/${s.sceneId}/sessions`, { token: s.owner });
    expect(sessions.body.sessions.map((x: { rows: number }) => x.rows)).toEqual([1, 3, 1]);
  });

  it('lists snapshot metadata newest first, a page at a time', async () => {
    const s = await sceneWithWriters();
    const first = await app().snapshots.snapshotScene(s.sceneId, { createdBy: s.ownerId, trigger: 'manual' });
    expect(first.status).toBe('written');
    const doc = new Y.Doc();
    const { update } = applyRestBlocksToYDoc(doc, [{ type: 'action', text: 'Later.' }]);
    await app().sceneLog.append([{ sceneId: s.sceneId, update: update!, createdBy: null }]);
    doc.destroy();
    const second = await app().snapshots.snapshotScene(s.sceneId);
    expect(second.status).toBe('written');

    const res = await request(app(), 'GET', `/api/scenes/${s.sceneId}/snapshots?limit=1`, { token: s.viewer });
    expect(res.status).toBe(200);
    expect(res.body.snapshots).toHaveLength(1);
    expect(res.body.snapshots[0]).toMatchObject({
      snapshot_id: second.status === 'written' ? second.snapshotId : null,
      snapshot_source: 'yjs',
      created_by: null,
      created_by_email: null,
      yjs_latest_seq: 6,
    });
    const next = await request(app(), 'GET', `/api/scenes/${s.sceneId}/snapshots?limit=1&cursor=${res.body.next_cursor}`, { token: s.viewer });
    expect(next.status).toBe(200);
    expect(next.body.snapshots).toHaveLength(1);
    expect(next.body.snapshots[0]).toMatchObject({
      snapshot_id: first.status === 'written' ? first.snapshotId : null,
      snapshot_source: 'manual',
      created_by: s.ownerId,
      created_by_email: s.ownerEmail,
      yjs_latest_seq: 5,
      yjs_version_count: 5,
    });
    expect(next.body.snapshots[0].snapshot_size_bytes).toBeGreaterThan(0);
    expect(next.body.next_cursor).toBeNull();
  });

  it('lets owners, collaborators and administrators read; refuses strangers, unknown scenes and missing tokens', async () => {
    const s = await sceneWithWriters();
    const stranger = await tokenFor(await createUser(db().prisma));
    const admin = await tokenFor(await createUser(db().prisma), { admin: true });
    for (const route of ['versions', 'sessions', 'snapshots']) {
      for (const token of [s.owner, s.editor, s.viewer, admin]) {
        expect((await request(app(), 'GET', `/api/scenes/${s.sceneId}/${route}`, { token })).status).toBe(200);
      }
      const refused = await request(app(), 'GET', `/api/scenes/${s.sceneId}/${route}`, { token: stranger });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('NO_ACCESS');
      const unknown = await request(app(), 'GET', `/api/scenes/${randomUUID()}/${route}`, { token: s.owner });
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe('UNKNOWN_SCENE');
      expect((await request(app(), 'GET', `/api/scenes/${s.sceneId}/${route}`)).status).toBe(401);
    }
  });

  it('refuses bad input with a clear 400', async () => {
    const s = await sceneWithWriters();
    const other = await sceneWithWriters();
    const foreign = (await request(app(), 'GET', `/api/scenes/${other.sceneId}/versions?limit=1`, { token: other.owner })).body.next_cursor;
    const sessionsCursor = (await request(app(), 'GET', `/api/scenes/${s.sceneId}/sessions?limit=1`, { token: s.owner })).body.next_cursor;
    expect(foreign).toEqual(expect.any(String));
    expect(sessionsCursor).toEqual(expect.any(String));
    const base = `/api/scenes/${s.sceneId}`;
    const cases: Array<[string, string, RegExp]> = [
      ['/api/scenes/not-a-uuid/versions', 'BAD_REQUEST', /path\.sceneId/],
      [`/api/scenes/${s.sceneId.toUpperCase()}/sessions`, 'BAD_REQUEST', /path\.sceneId/],
      [`${base}/versions?cursor=%%%`, 'INVALID_CURSOR', /cursor/],
      [`${base}/versions?cursor=bm90LWpzb24`, 'INVALID_CURSOR', /cursor/],
      [`${base}/versions?cursor=${Buffer.from('{"k":"versions"}').toString('base64url')}`, 'INVALID_CURSOR', /cursor/],
      [`${base}/versions?cursor=${foreign}`, 'INVALID_CURSOR', /this scene's versions listing/],
      [`${base}/versions?cursor=${sessionsCursor}`, 'INVALID_CURSOR', /versions listing/],
      [`${base}/snapshots?cursor=${sessionsCursor}`, 'INVALID_CURSOR', /snapshots listing/],
      ...[
        { k: 'versions', s: s.sceneId, t: '9999999999999999', q: '1' },
        { k: 'versions', s: s.sceneId, t: '1', q: '9999999999999999999' },
        { k: 'sessions', s: s.sceneId, t: '-99999999999999999', q: '1' },
        { k: 'versions', s: s.sceneId, t: '1.5', q: '1' },
        { k: 'versions', s: s.sceneId, t: '1' },
        { k: 'snapshots', s: s.sceneId, t: '1', i: 'not-a-uuid' },
        { k: 'versions', s: s.sceneId, t: '1', q: '1', extra: true },
      ].map((body): [string, string, RegExp] => [
        `${base}/${body.k}?cursor=${Buffer.from(JSON.stringify(body)).toString('base64url')}`,
        'INVALID_CURSOR',
        /next_cursor/,
      ]),
      [`${base}/versions?limit=0`, 'BAD_REQUEST', /query\.limit/],
      [`${base}/versions?limit=1000`, 'BAD_REQUEST', /query\.limit/],
      [`${base}/versions?limit=ten`, 'BAD_REQUEST', /query\.limit/],
      [`${base}/versions?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z`, 'INVALID_RANGE', /after/],
      [`${base}/sessions?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z`, 'INVALID_RANGE', /after/],
      [`${base}/versions?from=yesterday`, 'BAD_REQUEST', /query\.from: must be an ISO 8601/],
      [`${base}/sessions?to=2026-11-01T10:00:00`, 'BAD_REQUEST', /query\.to: must be an ISO 8601/],
      [`${base}/versions?user=nobody@example.test`, 'UNKNOWN_USER', /nobody@example\.test/],
      [`${base}/sessions?user=${randomUUID()}`, 'UNKNOWN_USER', /no user/],
      [`${base}/versions?author=x`, 'BAD_REQUEST', /author/],
      [`${base}/snapshots?user=${s.ownerId}`, 'BAD_REQUEST', /user/],
      [`${base}/versions?limit=1&limit=2`, 'BAD_REQUEST', /query\.limit/],
    ];
    for (const [path, code, message] of cases) {
      const res = await request(app(), 'GET', path, { token: s.owner });
      expect(res.status, path).toBe(400);
      expect(res.body.code, path).toBe(code);
      expect(res.body.error, path).toMatch(message);
    }
  });
});

describeEachServer('GET /api/scenes/:sceneId/sessions with HISTORY_SESSION_GAP_SECONDS', { env: { HISTORY_SESSION_GAP_SECONDS: '15' } }, ({ db, app }) => {
  it("breaks a writer's session at an idle gap longer than the configured one", async () => {
    const prisma = db().prisma;
    const fixture = await createScript(prisma, { scenes: 1 });
    const sceneId = fixture.sceneIds[0]!;
    const doc = new Y.Doc();
    // One writer at 0 s, 10 s, 30 s: the 20 s pause is longer than 15 s, the 10 s one is not.
    for (const [index, seconds] of [0, 10, 30].entries()) {
      const { update } = applyRestBlocksToYDoc(doc, [{ type: 'action', text: `Take ${index}` }]);
      const [appended] = await app().sceneLog.append([{ sceneId, update: update!, createdBy: fixture.userId }]);
      if (!appended || !('versionId' in appended)) throw new Error('append failed');
      await prisma.sceneVersion.update({ where: { versionId: appended.versionId }, data: { createdAt: at(seconds) } });
    }
    doc.destroy();
    const res = await request(app(), 'GET', `/api/scenes/${sceneId}/sessions`, { token: await tokenFor(fixture.userId) });
    expect(res.status).toBe(200);
    expect(res.body.gap_seconds).toBe(15);
    expect(res.body.sessions.map((s: { first_seq: number; last_seq: number }) => [s.first_seq, s.last_seq])).toEqual([
      [3, 3],
      [1, 2],
    ]);
  });
});
