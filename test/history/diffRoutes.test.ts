// GET /api/scenes/:sceneId/diff over real HTTP on both databases: seqs, instants and labels as
// points, the default `to`, compaction and retention in between, and every refusal.
import { expect, it } from 'vitest';
import { applyBlockDiff, applyTextRanges } from '../../src/history/diff.ts';
import { runCompactionPass } from '../../src/log/compactionPass.ts';
import { silentLogger } from '../../src/logger.ts';
import { canonicalizeBlocks } from '../../src/screenplay/index.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { JOB_DEFAULTS, logRows, retireMergedOriginals } from '../compaction/support.ts';
import { appendVersions, request } from '../http/support.ts';

const V1 = [
  { type: 'scene_heading', text: 'INT. DINER - NIGHT' },
  { type: 'action', text: 'Rain against the glass.' },
];
const V2 = [
  { type: 'scene_heading', text: 'INT. DINER - DAWN' },
  { type: 'action', text: 'Rain against the glass.' },
  { type: 'character', text: 'MAYA' },
  { type: 'dialogue', text: 'We were never here.', marks: [{ type: 'italic', from: 3, to: 8 }] },
];
const V3 = [
  { type: 'scene_heading', text: 'INT. DINER - DAWN' },
  { type: 'character', text: 'MAYA' },
  { type: 'dialogue', text: 'We were 🎬 here.', marks: [{ type: 'italic', from: 3, to: 8 }] },
];

describeEachServer('GET /api/scenes/:sceneId/diff', ({ db, app }) => {
  const setup = async () => {
    const fixture = await createScript(db().prisma);
    const [viewerId, strangerId] = [await createUser(db().prisma), await createUser(db().prisma)];
    await db().prisma.scriptCollaborator.create({ data: { scriptId: fixture.scriptId, userId: viewerId, role: 'viewer' } });
    return { sceneId: fixture.sceneIds[0]!, owner: await tokenFor(fixture.userId), viewer: await tokenFor(viewerId), stranger: await tokenFor(strangerId) };
  };
  const diff = (sceneId: string, token: string, query: string) => request(app(), 'GET', `/api/scenes/${sceneId}/diff${query}`, { token });

  it('diffs two seqs, seq 0, the default "to" (now), an instant and a label; the diff applied to "from" gives "to"', async () => {
    const { sceneId, owner, viewer } = await setup();
    const [s1, s2] = await appendVersions(app(), sceneId, [V1, V2]);
    const afterV2 = new Date();
    expect((await request(app(), 'POST', `/api/scenes/${sceneId}/labels`, { token: owner, body: { name: 'Draft 2' } })).status).toBe(201);
    const [s3] = await appendVersions(app(), sceneId, [V3]);

    const oneToTwo = await diff(sceneId, viewer, `?from=${s1}&to=${s2}`);
    expect(oneToTwo.status).toBe(200);
    expect(oneToTwo.body.from).toEqual({ point: { seq: Number(s1) }, seq: Number(s1), label: null });
    expect(oneToTwo.body.to).toEqual({ point: { seq: Number(s2) }, seq: Number(s2), label: null });
    expect(oneToTwo.body.added.map((entry: { index: number }) => entry.index)).toEqual([2, 3]);
    expect(oneToTwo.body.removed).toEqual([]);
    expect(oneToTwo.body.unchanged).toBe(1);
    expect(oneToTwo.body.changed).toEqual([
      {
        from_index: 0,
        to_index: 0,
        before: V1[0],
        after: V2[0],
        fields: ['text'],
        text: [{ from: 13, to: 18, new_from: 13, new_to: 17, removed: 'NIGHT', inserted: 'DAWN' }],
      },
    ]);

    // `to` defaults to now; the label names the content it stored; an instant works the same way.
    const sinceLabel = await diff(sceneId, owner, '?from=Draft%202');
    expect(sinceLabel.status).toBe(200);
    expect(sinceLabel.body.from).toMatchObject({ point: { label: 'Draft 2' }, seq: Number(s2), label: { name: 'Draft 2' } });
    expect(sinceLabel.body.to).toMatchObject({ point: { seq: Number(s3) }, seq: Number(s3) });
    const sinceInstant = await diff(sceneId, owner, `?from=${encodeURIComponent(afterV2.toISOString())}`);
    expect(sinceInstant.body.changed).toEqual(sinceLabel.body.changed);
    expect(sinceInstant.body.removed).toEqual([{ index: 1, block: V2[1] }]);
    const line = sinceLabel.body.changed.find((change: { to_index: number }) => change.to_index === 2);
    expect(applyTextRanges(line.before.text, line.text)).toBe(V3[2]!.text);
    // 🎬 is two UTF-16 code units.
    expect(line.text).toEqual([{ from: 8, to: 13, new_from: 8, new_to: 10, removed: 'never', inserted: '🎬' }]);

    for (const [from, to, older, newer] of [
      [0, s3, [], V3],
      [s1, s3, V1, V3],
      [s3, s3, V3, V3],
    ] as const) {
      const response = await diff(sceneId, owner, `?from=${from}&to=${to}`);
      expect(response.status).toBe(200);
      expect(applyBlockDiff(canonicalizeBlocks(older), response.body)).toEqual(canonicalizeBlocks(newer));
    }
    expect((await diff(sceneId, owner, `?from=${s3}`)).body).toMatchObject({ added: [], removed: [], changed: [], unchanged: V3.length });
  });

  it('stays right across the compaction pass, and refuses a "from" retention deleted with 410', async () => {
    const { sceneId, owner } = await setup();
    const [s1, s2, s3] = await appendVersions(app(), sceneId, [V1, V2, V3]);
    const sql = db().database.sql;
    const before = (await diff(sceneId, owner, `?from=${s1}&to=${s2}`)).body;
    const pass = await runCompactionPass({ sql, logger: silentLogger(), thresholds: { ...JOB_DEFAULTS.compaction, hotLiveRows: 2 } });
    expect(pass.compactions).toBeGreaterThan(0);
    expect((await logRows(sql, sceneId)).some((row) => row.isCompacted)).toBe(true);
    // Compacted but retained: the same diff.
    expect((await diff(sceneId, owner, `?from=${s1}&to=${s2}`)).body).toEqual(before);

    expect(await retireMergedOriginals(sql, sceneId)).toBeGreaterThan(0);
    const gone = await diff(sceneId, owner, `?from=${s1}&to=${s2}`);
    expect(gone.status).toBe(410);
    expect(gone.body.code).toBe('HISTORY_NOT_RETAINED');
    // The compacted row's own seq (the head) is still exact: from it to now is empty.
    const head = await diff(sceneId, owner, `?from=${s3}`);
    expect(head.status).toBe(200);
    expect(head.body).toMatchObject({ added: [], removed: [], changed: [], unchanged: V3.length });
  });

  it('refuses bad input and strangers with a clear 4xx', async () => {
    const { sceneId, owner, stranger } = await setup();
    const [s1, s2] = await appendVersions(app(), sceneId, [V1, V2]);
    const cases: Array<[string, number, string]> = [
      ['', 400, 'BAD_REQUEST'],
      ['?to=1', 400, 'BAD_REQUEST'],
      ['?from=', 400, 'BAD_REQUEST'],
      [`?from=${s2}&to=${s1}`, 400, 'FROM_AFTER_TO'],
      ['?from=2025-02-01T00:00:00Z&to=2025-01-01T00:00:00Z', 400, 'FROM_AFTER_TO'],
      ['?from=99', 400, 'SEQ_AHEAD'],
      ['?from=1&to=99', 400, 'SEQ_AHEAD'],
      ['?from=no-such-label', 404, 'UNKNOWN_LABEL'],
      [`?from=${crypto.randomUUID()}`, 404, 'UNKNOWN_LABEL'],
      ['?from=1&from=2', 400, 'BAD_REQUEST'],
      ['?from=1&extra=2', 400, 'BAD_REQUEST'],
      [`?from=${'x'.repeat(201)}`, 400, 'BAD_REQUEST'],
    ];
    for (const [query, status, code] of cases) {
      const response = await diff(sceneId, owner, query);
      expect({ query, status: response.status, code: response.body?.code }).toEqual({ query, status, code });
      expect(typeof response.body.error).toBe('string');
    }
    // An instant before the scene's first update: nothing yet, and nothing deleted: all added.
    const fromStart = await diff(sceneId, owner, '?from=2000-01-01T00:00:00Z');
    expect(fromStart.status).toBe(200);
    expect(fromStart.body.added).toHaveLength(V2.length);

    const refused = await diff(sceneId, stranger, '?from=1');
    expect(refused.status).toBe(403);
    expect(typeof refused.body.code).toBe('string');
    const admin = await tokenFor(await createUser(db().prisma), { admin: true });
    expect((await diff(sceneId, admin, '?from=1')).status).toBe(200);
    expect((await request(app(), 'GET', `/api/scenes/${sceneId}/diff?from=1`)).status).toBe(401);
    expect((await diff('not-a-uuid', owner, '?from=1')).status).toBe(400);
    expect((await diff(crypto.randomUUID(), owner, '?from=1')).status).toBe(404);
  });
});
