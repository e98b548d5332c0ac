// GET /api/scenes/:sceneId/blame over real HTTP, with two users typing through real
// HocuspocusProviders, the project's compaction pass and retention in between; and the blame
// replay paged small against the real log, page boundaries falling anywhere.
import { afterEach, expect, it } from 'vitest';
import { UserDirectory } from '../../src/auth/users.ts';
import { SceneBlamer } from '../../src/history/blame.ts';
import { LogAuthorship } from '../../src/log/authorship.ts';
import { runCompactionPass } from '../../src/log/compactionPass.ts';
import { purgeMergedRows } from '../../src/log/retention.ts';
import { applyRestBlocksToYDoc } from '../../src/screenplay/index.ts';
import { YjsWorkerPool } from '../../src/workers/pool.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitFor, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { silentLogger } from '../../src/logger.ts';
import { describeEachServer } from '../helpers/server.ts';
import { ageRows, JOB_DEFAULTS, logRows, retireMergedOriginals } from '../compaction/support.ts';
import { request } from '../http/support.ts';

const DAY = 24 * 60 * 60 * 1000;
const HEADING = { type: 'scene_heading', text: 'INT. DINER - NIGHT' };
const ACTION = { type: 'action', text: 'Rain against the glass.' };
const ACTION_EDITED = { type: 'action', text: 'Rain hammers the glass.' };
const MAYA = { type: 'character', text: 'MAYA' };
const LINE = { type: 'dialogue', text: 'We were never here.' };

describeEachServer('GET /api/scenes/:sceneId/blame', { env: { WORKER_THREADS: '1' } }, ({ db, app }) => {
  let clients: TestClient[] = [];
  afterEach(() => {
    for (const client of clients) client.destroy();
    clients = [];
  });

  const setup = async () => {
    const ownerEmail = `owner-${crypto.randomUUID()}@example.test`;
    const editorEmail = `editor-${crypto.randomUUID()}@example.test`;
    const ownerId = await createUser(db().prisma, ownerEmail);
    const editorId = await createUser(db().prisma, editorEmail);
    const viewerId = await createUser(db().prisma);
    const strangerId = await createUser(db().prisma);
    const fixture = await createScript(db().prisma, { ownerId });
    await db().prisma.scriptCollaborator.createMany({
      data: [
        { scriptId: fixture.scriptId, userId: editorId, role: 'editor' },
        { scriptId: fixture.scriptId, userId: viewerId, role: 'viewer' },
      ],
    });
    return {
      sceneId: fixture.sceneIds[0]!,
      owner: { id: ownerId, email: ownerEmail, token: await tokenFor(ownerId) },
      editor: { id: editorId, email: editorEmail, token: await tokenFor(editorId) },
      viewer: await tokenFor(viewerId),
      stranger: await tokenFor(strangerId),
    };
  };

  const connect = async (sceneId: string, token: string) => {
    const client = connectClient(app().wsUrl, sceneId, { token });
    clients.push(client);
    await waitForSynced(client);
    return client;
  };
  /** The client's document becomes `blocks` (a minimal change, as the editor makes it), acknowledged: on disk. */
  const write = async (client: TestClient, blocks: unknown[]) => {
    applyRestBlocksToYDoc(client.doc, blocks);
    await waitForAcked(client);
  };
  const fragmentText = (client: TestClient) => client.doc.getXmlFragment('default').toString();
  const blame = (sceneId: string, token: string, query = '') => request(app(), 'GET', `/api/scenes/${sceneId}/blame${query}`, { token });
  const writers = (body: { blocks: Array<{ block: { text: string }; last_change: { by: string; user: { email: string } | null } | null }> }) =>
    body.blocks.map(({ block, last_change }) => [block.text, last_change === null ? null : (last_change.user?.email ?? last_change.by)]);

  it('names the last writer of each block, two users over real WebSockets, through compaction and retention', async () => {
    const { sceneId, owner, editor, viewer } = await setup();
    const ownerClient = await connect(sceneId, owner.token);
    await write(ownerClient, [HEADING, ACTION]);
    const editorClient = await connect(sceneId, editor.token);
    await waitFor(() => editorClient.doc.getXmlFragment('default').length === 2, 'the editor sees the owner\'s blocks');
    await write(editorClient, [HEADING, ACTION_EDITED, MAYA, LINE]);
    await waitFor(() => ownerClient.doc.getXmlFragment('default').length === 4, 'the owner sees the editor\'s blocks');

    const first = await blame(sceneId, viewer);
    expect(first.status).toBe(200);
    expect(writers(first.body)).toEqual([
      [HEADING.text, owner.email],
      [ACTION_EDITED.text, editor.email],
      [MAYA.text, editor.email],
      [LINE.text, editor.email],
    ]);
    expect(first.body.resolution).toEqual({ complete: true, before_seq: null });
    const rows = await logRows(db().database.sql, sceneId);
    expect(first.body.seq).toBe(Number(rows.at(-1)!.seq));
    expect(first.body.cost.rows).toBe(rows.length);
    const heading = first.body.blocks[0].last_change;
    expect(heading.user).toEqual({ user_id: owner.id, email: owner.email });
    expect(heading.by).toBe('user');
    // The heading's row is one the owner wrote, and its time is that row's.
    const [headingRow] = await db().database.sql.query<{ created_by: string; created_at: Date }>(
      'test_blame_row_writer',
      'SELECT created_by, created_at FROM scene_versions WHERE scene_id = $1::uuid AND seq = $2::bigint AND NOT is_compacted',
      [sceneId, heading.seq],
    );
    expect(headingRow!.created_by).toBe(owner.id);
    expect(heading.created_at).toBe(headingRow!.created_at.toISOString());

    // The project's compaction pass merges every row; the originals are still retained, so blame
    // still has every writer.
    const sql = db().database.sql;
    const pass = await runCompactionPass({ sql, logger: silentLogger(), thresholds: { ...JOB_DEFAULTS.compaction, hotLiveRows: 2 } });
    expect(pass.compactions).toBeGreaterThan(0);
    const compacted = await blame(sceneId, owner.token);
    expect(writers(compacted.body)).toEqual(writers(first.body));
    expect(compacted.body.resolution).toEqual({ complete: true, before_seq: null });

    // Retention deletes the merged originals: what they said is now one compacted row.
    expect(await retireMergedOriginals(sql, sceneId)).toBeGreaterThan(0);
    const compactedSeq = (await logRows(sql, sceneId)).find((row) => row.isCompacted)!.seq;
    const purged = await blame(sceneId, owner.token);
    expect(purged.status).toBe(200);
    expect(purged.body.resolution).toEqual({ complete: false, before_seq: Number(compactedSeq), reason: 'compacted' });
    expect(writers(purged.body)).toEqual([
      [HEADING.text, 'compacted'],
      [ACTION_EDITED.text, 'compacted'],
      [MAYA.text, 'compacted'],
      [LINE.text, 'compacted'],
    ]);
    expect(purged.body.blocks[0].last_change).toMatchObject({ seq: Number(compactedSeq), user: null });

    // A change after the compacted row is a single writer's again.
    await write(ownerClient, [HEADING, ACTION_EDITED, MAYA, { ...LINE, text: 'We were always here.' }]);
    const after = await blame(sceneId, editor.token);
    expect(writers(after.body)).toEqual([
      [HEADING.text, 'compacted'],
      [ACTION_EDITED.text, 'compacted'],
      [MAYA.text, 'compacted'],
      ['We were always here.', owner.email],
    ]);
    expect(after.body.resolution.before_seq).toBe(Number(compactedSeq));
    expect(app().work).toBeInstanceOf(YjsWorkerPool);
  });

  it('pages the log: any page size gives the same blame, deleted blocks are forgotten, a removed block leaves its neighbours alone', async () => {
    const { sceneId, owner, editor } = await setup();
    const ownerClient = await connect(sceneId, owner.token);
    const editorClient = await connect(sceneId, editor.token);
    // Turns taken in order, each acknowledged before the next: a log of single-writer rows.
    const turns: Array<[TestClient, unknown[]]> = [
      [ownerClient, [HEADING]],
      [editorClient, [HEADING, ACTION]],
      [ownerClient, [HEADING, ACTION, MAYA]],
      [editorClient, [HEADING, ACTION, MAYA, LINE]],
      [ownerClient, [HEADING, ACTION_EDITED, MAYA, LINE]],
      [editorClient, [HEADING, ACTION_EDITED, LINE]],
      [ownerClient, [{ ...HEADING, text: 'INT. DINER - DAWN' }, ACTION_EDITED, LINE]],
    ];
    for (const [client, blocks] of turns) {
      await write(client, blocks);
      await waitFor(() => fragmentText(ownerClient) === fragmentText(editorClient), 'both see the turn');
    }

    const served = await blame(sceneId, owner.token);
    expect(writers(served.body)).toEqual([
      ['INT. DINER - DAWN', owner.email],
      [ACTION_EDITED.text, owner.email],
      [LINE.text, editor.email],
    ]);
    const rowCount = (await logRows(db().database.sql, sceneId)).length;
    expect(served.body.cost).toEqual({ rows: rowCount, pages: 1 });

    const users = new UserDirectory(db().prisma);
    for (const pageRows of [1, 2, 3, rowCount - 1, rowCount]) {
      const blamer = new SceneBlamer({ authorship: new LogAuthorship(db().database.sql), users, pageRows });
      const paged = await blamer.blame(sceneId);
      expect(paged!.cost).toEqual({ rows: rowCount, pages: Math.ceil(rowCount / pageRows) });
      expect(paged!.blocks.map(({ block, lastChange }) => [block.text, lastChange?.email ?? lastChange?.by ?? null])).toEqual(writers(served.body));
      expect(paged!.blocks.map(({ lastChange }) => Number(lastChange!.seq))).toEqual(served.body.blocks.map((b: { last_change: { seq: number } }) => b.last_change.seq));
    }
  });

  it('starts again when retention deletes rows between two pages, and answers from what is left', async () => {
    const { sceneId, owner, editor } = await setup();
    const ownerClient = await connect(sceneId, owner.token);
    await write(ownerClient, [HEADING, ACTION]);
    const editorClient = await connect(sceneId, editor.token);
    await waitFor(() => fragmentText(editorClient) === fragmentText(ownerClient), 'the editor sees the owner\'s blocks');
    await write(editorClient, [HEADING, ACTION_EDITED]);
    await write(editorClient, [HEADING, ACTION_EDITED, MAYA]);
    const sql = db().database.sql;
    await runCompactionPass({ sql, logger: silentLogger(), thresholds: { ...JOB_DEFAULTS.compaction, hotLiveRows: 2 } });
    await ageRows(sql, sceneId, 31 * DAY);

    const authorship = new LogAuthorship(sql);
    let bases = 0;
    let pages = 0;
    const racing: typeof authorship = Object.assign(Object.create(authorship) as LogAuthorship, {
      base: async (id: string) => {
        bases += 1;
        return authorship.base(id);
      },
      page: async (...args: Parameters<LogAuthorship['page']>) => {
        const rows = await authorship.page(...args);
        pages += 1;
        // Retention runs right after the first page was read: the next page finds a hole.
        if (pages === 1) expect((await purgeMergedRows(sql, sceneId, { cutoff: new Date(Date.now() - 30 * DAY), batchSize: 1000 })).deletedRows).toBeGreaterThan(0);
        return rows;
      },
    });
    const blamed = await new SceneBlamer({ authorship: racing, users: new UserDirectory(db().prisma), pageRows: 1 }).blame(sceneId);
    expect(bases).toBe(2);
    expect(blamed!.resolution.complete).toBe(false);
    expect(blamed!.blocks.map(({ block, lastChange }) => [block.text, lastChange?.by])).toEqual([
      [HEADING.text, 'compacted'],
      [ACTION_EDITED.text, 'compacted'],
      [MAYA.text, 'compacted'],
    ]);
  });

  it('refuses bad input and strangers with a clear 4xx; an empty log answers with the REST copy and says no row names a writer', async () => {
    const { sceneId, owner, stranger } = await setup();
    const empty = await blame(sceneId, owner.token);
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({ seq: null, blocks: [], resolution: { complete: false, before_seq: null, reason: 'no_yjs_log' } });

    const seeded = await createScript(db().prisma, { ownerId: owner.id, contentBlocks: [HEADING] });
    const restOnly = await blame(seeded.sceneIds[0]!, owner.token);
    expect(restOnly.body.blocks).toEqual([{ index: 0, block: HEADING, last_change: null }]);

    expect((await blame(sceneId, stranger)).status).toBe(403);
    const admin = await tokenFor(await createUser(db().prisma), { admin: true });
    expect((await blame(sceneId, admin)).status).toBe(200);
    expect((await request(app(), 'GET', `/api/scenes/${sceneId}/blame`)).status).toBe(401);
    const badId = await blame('not-a-uuid', owner.token);
    expect(badId.status).toBe(400);
    expect(badId.body.code).toBe('BAD_REQUEST');
    expect((await blame(sceneId.toUpperCase(), owner.token)).status).toBe(400);
    expect((await blame(crypto.randomUUID(), owner.token)).status).toBe(404);
    const unknownField = await blame(sceneId, owner.token, '?at=2025-01-01T00:00:00Z');
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error).toMatch(/at/);
  });
});
