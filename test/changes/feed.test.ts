import { afterEach, expect, it } from 'vitest';
import { compactScene } from '../../src/log/compaction.ts';
import { purgeExpiredChanges } from '../../src/log/changes.ts';
import { runRetentionPass } from '../../src/log/retention.ts';
import { silentLogger } from '../../src/logger.ts';
import { tokenFor } from '../helpers/auth.ts';
import { connectClient, waitForAcked, waitForSynced, type TestClient } from '../helpers/clients.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { describeEachServer } from '../helpers/server.ts';
import { typeInto } from '../helpers/typing.ts';
import { request } from '../http/support.ts';

const BLOCKS = [
  { type: 'scene_heading', text: 'INT. KITCHEN - DAY' },
  { type: 'action', text: 'Steam rises.' },
];

interface FeedChange {
  cursor: string;
  scriptId: string;
  sceneId: string;
  seq: number;
  kinds: string[];
  createdBy: string | null;
  at: string;
}

describeEachServer('change feed: GET /api/changes and its stream', ({ db, app }) => {
  let clients: TestClient[] = [];
  afterEach(() => {
    for (const client of clients) client.destroy();
    clients = [];
  });

  const script = async () => {
    const fixture = await createScript(db().prisma, { scenes: 2, contentBlocks: BLOCKS });
    return { ...fixture, token: await tokenFor(fixture.userId) };
  };
  const feed = async (token: string, query: string) => {
    const res = await request(app(), 'GET', `/api/changes?${query}`, { token });
    expect(res.status, res.text).toBe(200);
    return res.body as { changes: FeedChange[]; cursor: string };
  };

  it('lists every kind of change in commit order, with the new seq and the author', async () => {
    const { scriptId, sceneIds, token, userId } = await script();
    const [sceneId, other] = sceneIds as [string, string];
    const start = (await feed(token, `script=${scriptId}`)).cursor;

    // seed (the first load) and edit (an editor typing through a real provider)
    const editor = connectClient(app().wsUrl, sceneId, { token });
    clients.push(editor);
    await waitForSynced(editor);
    typeInto(editor.doc, ' More.');
    await waitForAcked(editor);
    // patch
    const patched = await request(app(), 'PATCH', `/api/scenes/${other}/content`, { token, body: { blocks: [...BLOCKS, { type: 'action', text: 'Patched.' }] } });
    expect(patched.status, patched.text).toBe(200);
    // restore (history): the patched scene back to its first state
    const restored = await request(app(), 'POST', `/api/scenes/${other}/restore`, { token, body: { seq: 1 } });
    expect(restored.status, restored.text).toBe(200);
    // import (one scene from a Fountain file)
    const imported = await request(app(), 'POST', `/api/scenes/${other}/import`, {
      token,
      rawBody: 'EXT. ROOF - NIGHT\n\nWind.\n',
      contentType: 'text/x-fountain',
    });
    expect(imported.status, imported.text).toBe(200);
    // delete and restore the scene itself
    expect((await request(app(), 'DELETE', `/api/scripts/${scriptId}/scenes/${other}`, { token })).status).toBe(200);
    expect((await request(app(), 'POST', `/api/scripts/${scriptId}/scenes/${other}/restore`, { token })).status).toBe(200);

    // The feed lists a change once every transaction older than it has ended, on the whole
    // PostgreSQL server (other test files' transactions included): read until the last one is in.
    let changes: FeedChange[] = [];
    const kindsOf = (scene: string) => changes.filter((c) => c.sceneId === scene).flatMap((c) => c.kinds);
    await expect
      .poll(async () => {
        changes = (await feed(token, `script=${scriptId}&after=${start}`)).changes;
        return kindsOf(other).length;
      }, { timeout: 15_000 })
      .toBeGreaterThanOrEqual(6);
    expect(kindsOf(sceneId)[0]).toBe('seed');
    expect(kindsOf(sceneId)).toContain('edit');
    // The PATCH loaded the other scene first, so it was seeded before it was patched.
    expect(kindsOf(other)).toEqual(['seed', 'patch', 'restore', 'import', 'delete', 'restore']);
    for (const change of changes) expect(change.scriptId).toBe(scriptId);
    expect(changes.find((c) => c.kinds.includes('patch'))!.createdBy).toBe(userId);
    expect(changes.find((c) => c.kinds.includes('seed'))!.createdBy).toBeNull();
    // A scene's seqs only grow along the feed, and the delete carries the head it was deleted at.
    for (const scene of [sceneId, other]) {
      const seqs = changes.filter((c) => c.sceneId === scene).map((c) => c.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    const ofOther = changes.filter((c) => c.sceneId === other);
    expect(ofOther[4]!.seq).toBe(ofOther[3]!.seq);
    // Paging: the same changes one at a time, each page continuing from the last one's cursor.
    let cursor = start;
    const paged: string[] = [];
    for (;;) {
      const page = await feed(token, `script=${scriptId}&after=${cursor}&limit=1`);
      if (page.changes.length === 0) break;
      paged.push(page.changes[0]!.cursor);
      cursor = page.cursor;
    }
    expect(paged).toEqual(changes.map((c) => c.cursor));
  });

  it('shows a reader only the scripts they may read', async () => {
    const mine = await script();
    const strangerId = await createUser(db().prisma);
    const stranger = await tokenFor(strangerId);
    await request(app(), 'PATCH', `/api/scenes/${mine.sceneIds[0]}/content`, { token: mine.token, body: { blocks: BLOCKS.slice(0, 1) } });
    const all = await feed(stranger, '');
    expect(all.changes.filter((c) => c.scriptId === mine.scriptId)).toEqual([]);
    expect((await request(app(), 'GET', `/api/changes?script=${mine.scriptId}`, { token: stranger })).status).toBe(403);
    // A viewer reads it, without naming the script.
    await db().prisma.scriptCollaborator.create({ data: { scriptId: mine.scriptId, userId: strangerId, role: 'viewer' } });
    expect((await feed(stranger, '')).changes.some((c) => c.scriptId === mine.scriptId)).toBe(true);
    expect((await request(app(), 'GET', '/api/changes')).status).toBe(401);
  });

  it('long-polls: returns as soon as a change commits, and empty when the wait runs out', async () => {
    const { scriptId, sceneIds, token } = await script();
    const { cursor } = await feed(token, `script=${scriptId}`);
    const empty = Date.now();
    const nothing = await feed(token, `script=${scriptId}&after=${cursor}&wait=300ms`);
    expect(nothing.changes).toEqual([]);
    expect(nothing.cursor).toBe(cursor);
    expect(Date.now() - empty).toBeGreaterThanOrEqual(290);

    const waiting = feed(token, `script=${scriptId}&after=${cursor}&wait=30s`);
    const started = Date.now();
    const patched = await request(app(), 'PATCH', `/api/scenes/${sceneIds[0]}/content`, { token, body: { blocks: BLOCKS.slice(0, 1) } });
    expect(patched.status).toBe(200);
    const woken = await waiting;
    expect(woken.changes.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('refuses a broken cursor (400) and a wait over a minute (400)', async () => {
    const { token } = await script();
    for (const bad of ['garbage!', 'djE6eDox', Buffer.from('v1:1:-2').toString('base64url')]) {
      const res = await request(app(), 'GET', `/api/changes?after=${encodeURIComponent(bad)}`, { token });
      expect(res.status, bad).toBe(400);
      expect(res.body.code).toBe('INVALID_CURSOR');
    }
    expect((await request(app(), 'GET', '/api/changes?wait=61s', { token })).status).toBe(400);
  });

  it('streams changes as server-sent events and resumes after Last-Event-ID', async () => {
    const { scriptId, sceneIds, token } = await script();
    const { cursor } = await feed(token, `script=${scriptId}`);
    for (const text of ['One.', 'Two.', 'Three.']) {
      await request(app(), 'PATCH', `/api/scenes/${sceneIds[0]}/content`, { token, body: { blocks: [BLOCKS[0], { type: 'action', text }] } });
    }
    const read = async (headers: Record<string, string>, count: number) => {
      const abort = new AbortController();
      const res = await fetch(`${app().httpUrl}/api/changes/stream?script=${scriptId}&access_token=${token}`, { headers, signal: abort.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const reader = res.body!.getReader();
      const events: Array<{ id: string; data: FeedChange }> = [];
      let buffer = '';
      while (events.length < count) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += Buffer.from(value).toString('utf8');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (id && data) events.push({ id, data: JSON.parse(data) });
        }
      }
      abort.abort();
      return events;
    };
    // The seed (the PATCH loaded the scene) and three patches.
    const first = await read({ 'Last-Event-ID': cursor }, 4);
    expect(first.map((e) => e.data.kinds[0])).toEqual(['seed', 'patch', 'patch', 'patch']);
    const resumed = await read({ 'Last-Event-ID': first[1]!.id }, 2);
    expect(resumed.map((e) => e.id)).toEqual([first[2]!.id, first[3]!.id]);
    for (const event of first) expect(event.id).toBe(event.data.cursor);
  });

  it('keeps its cursors across compaction and the log retention', async () => {
    const { scriptId, sceneIds, token } = await script();
    const sceneId = sceneIds[0]!;
    const editor = connectClient(app().wsUrl, sceneId, { token });
    clients.push(editor);
    await waitForSynced(editor);
    for (let i = 0; i < 5; i += 1) {
      typeInto(editor.doc, ` ${i}`);
      await waitForAcked(editor);
    }
    const before = await feed(token, `script=${scriptId}`);
    const compacted = await compactScene(db().database.sql, sceneId, { maxRows: 1000, wait: true });
    expect(compacted.status).toBe('compacted');
    await runRetentionPass({ sql: db().database.sql, logger: silentLogger(), retentionMs: 0, batchSize: 100 });
    // Neither added a change nor moved one.
    const after = await feed(token, `script=${scriptId}`);
    expect(after.changes.map((c) => c.cursor)).toEqual(before.changes.map((c) => c.cursor));
    typeInto(editor.doc, ' after');
    await waitForAcked(editor);
    const next = await feed(token, `script=${scriptId}&after=${before.cursor}`);
    expect(next.changes.length).toBeGreaterThan(0);
    expect(next.changes[0]!.seq).toBeGreaterThan(before.changes.at(-1)!.seq);
  });

  // Last: it deletes every change row of this database.
  it('answers 410 with the oldest cursor once retention deleted changes after a cursor', async () => {
    const { scriptId, sceneIds, token } = await script();
    const { cursor } = await feed(token, `script=${scriptId}`);
    await request(app(), 'PATCH', `/api/scenes/${sceneIds[0]}/content`, { token, body: { blocks: BLOCKS.slice(0, 1) } });
    const purged = await purgeExpiredChanges(db().database.sql, { cutoff: new Date(Date.now() + 60_000), batchSize: 2 });
    expect(purged.deleted).toBeGreaterThan(0);
    const expired = await request(app(), 'GET', `/api/changes?after=${cursor}`, { token });
    expect(expired.status).toBe(410);
    expect(expired.body.code).toBe('CURSOR_EXPIRED');
    expect(expired.body.error).toContain('/api/scripts/:scriptId/scenes');
    // The cursor it gives continues the feed: the next change is there, and nothing is refused.
    await request(app(), 'PATCH', `/api/scenes/${sceneIds[0]}/content`, { token, body: { blocks: BLOCKS } });
    const resumed = await feed(token, `after=${expired.body.cursor}`);
    expect(resumed.changes.map((c) => c.kinds)).toEqual([['patch']]);
    // Without a cursor, the feed starts at the oldest kept change.
    expect((await feed(token, '')).changes.map((c) => c.cursor)).toEqual(resumed.changes.map((c) => c.cursor));
  });
});
