import * as Y from 'yjs';
import { expect, it } from 'vitest';
import { applyRestBlocksToYDoc } from '../../src/screenplay/index.ts';
import { tokenFor } from '../helpers/auth.ts';
import { createScript, createUser } from '../helpers/fixtures.ts';
import { mulberry32 } from '../helpers/prng.ts';
import { describeEachServer } from '../helpers/server.ts';
import { request } from './support.ts';

const GAP_SECONDS = 300;
const ROWS = 240;
const T0 = Date.parse('2026-10-01T08:00:00Z');

interface Row {
  seq: number;
  writer: string | null;
  /** Microseconds since T0: several rows share a millisecond, some share an instant. */
  micros: number;
}

interface Session {
  user_id: string | null;
  first_seq: number;
  last_seq: number;
  rows: number;
}

/** The sessions by the definition in src/http/README.md, computed the plain way. */
function referenceSessions(rows: readonly Row[]): Session[] {
  const byWriter = new Map<string | null, Row[]>();
  for (const row of rows) byWriter.set(row.writer, [...(byWriter.get(row.writer) ?? []), row]);
  const sessions: Array<Session & { end: number }> = [];
  for (const [writer, own] of byWriter) {
    own.sort((a, b) => a.micros - b.micros || a.seq - b.seq);
    let current: (Session & { end: number }) | null = null;
    let previous: Row | null = null;
    for (const row of own) {
      if (current === null || row.micros - previous!.micros > GAP_SECONDS * 1e6) {
        current = { user_id: writer, first_seq: row.seq, last_seq: row.seq, rows: 0, end: row.micros };
        sessions.push(current);
      }
      current.rows += 1;
      current.first_seq = Math.min(current.first_seq, row.seq);
      current.last_seq = Math.max(current.last_seq, row.seq);
      current.end = Math.max(current.end, row.micros);
      previous = row;
    }
  }
  sessions.sort((a, b) => b.end - a.end || b.last_seq - a.last_seq);
  return sessions.map(({ end: _end, ...session }) => session);
}

describeEachServer('audit listings over a random log, page by page', ({ db, app }) => {
  it('concatenated pages equal the whole listing and the reference sessions, for several page sizes and windows', async () => {
    const prisma = db().prisma;
    const fixture = await createScript(prisma, { scenes: 1 });
    const sceneId = fixture.sceneIds[0]!;
    const writers = [fixture.userId, await createUser(prisma), await createUser(prisma), null];
    const random = mulberry32(20261203);

    // Random writers and times: mostly seconds apart, now and then an idle stretch longer than
    // the gap, sometimes the same microsecond (as concurrent commits can be).
    const rows: Row[] = [];
    const doc = new Y.Doc();
    let micros = 0;
    for (let index = 0; index < ROWS; index += 1) {
      const roll = random();
      micros += roll < 0.1 ? 0 : roll < 0.2 ? Math.floor(random() * 1000) : roll < 0.3 ? (GAP_SECONDS + 1 + Math.floor(random() * 600)) * 1e6 : Math.floor(random() * 90e6);
      const writer = writers[Math.floor(random() * writers.length)]!;
      const { update } = applyRestBlocksToYDoc(doc, [{ type: 'action', text: `Row ${index} ${random().toString(36).slice(2, 8)}` }]);
      const [appended] = await app().sceneLog.append([{ sceneId, update: update!, createdBy: writer }]);
      if (!appended || !('versionId' in appended)) throw new Error('append failed');
      rows.push({ seq: Number(appended.seq), writer, micros });
    }
    doc.destroy();
    // The test sets the instants itself, in one statement.
    await prisma.$executeRawUnsafe(
      `UPDATE scene_versions v SET created_at = timestamptz '${new Date(T0).toISOString()}' + t.micros * interval '1 microsecond'
       FROM unnest($1::bigint[], $2::bigint[]) AS t(seq, micros)
       WHERE v.scene_id = $3::uuid AND v.seq = t.seq`,
      rows.map((row) => row.seq),
      rows.map((row) => row.micros),
      sceneId,
    );
    const token = await tokenFor(fixture.userId);

    const pages = async (route: string, query: string, limit: number, key: string) => {
      const all: any[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < ROWS + 2; page += 1) {
        const path: string = `/api/scenes/${sceneId}/${route}?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await request(app(), 'GET', path, { token });
        expect(res.status, res.text).toBe(200);
        expect(res.body[key].length).toBeLessThanOrEqual(limit);
        all.push(...res.body[key]);
        cursor = res.body.next_cursor;
        if (cursor === null) return all;
      }
      throw new Error('the listing never ended');
    };

    const iso = (offset: number) => encodeURIComponent(new Date(T0 + offset / 1000).toISOString());
    const middle = rows[Math.floor(ROWS / 3)]!.micros;
    const late = rows[Math.floor((2 * ROWS) / 3)]!.micros;
    // Bounds on whole milliseconds (what an ISO date-time carries); `to` includes its whole millisecond.
    const from = middle - (middle % 1000);
    const to = late - (late % 1000);
    const windows: Array<{ query: string; keep: (row: Row) => boolean }> = [
      { query: '', keep: () => true },
      { query: `&from=${iso(from)}&to=${iso(to)}`, keep: (row) => row.micros >= from && row.micros <= to + 999 },
      { query: `&user=${writers[1]}`, keep: (row) => row.writer === writers[1] },
    ];
    for (const window of windows) {
      const kept = rows.filter(window.keep);
      const expectedVersions = [...kept].sort((a, b) => b.micros - a.micros || b.seq - a.seq).map((row) => row.seq);
      const expectedSessions = referenceSessions(kept);
      expect(expectedSessions.length).toBeGreaterThan(1);
      for (const limit of [1, 7, 200]) {
        const versions = await pages('versions', window.query, limit, 'versions');
        expect(versions.map((v) => v.seq), `versions ${window.query} limit ${limit}`).toEqual(expectedVersions);
        const sessions = await pages('sessions', window.query, limit, 'sessions');
        expect(
          sessions.map(({ user_id, first_seq, last_seq, rows: count }) => ({ user_id, first_seq, last_seq, rows: count })),
          `sessions ${window.query} limit ${limit}`,
        ).toEqual(expectedSessions);
      }
    }
  });
});
