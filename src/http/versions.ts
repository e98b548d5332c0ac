import { Router } from 'express';
import { z } from 'zod';
import type { AccessControl } from '../auth/access.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { UserDirectory } from '../auth/users.ts';
import type { SceneLog } from '../log/sceneLog.ts';
import type { ListingPosition, VersionFilter } from '../log/versions.ts';
import type { SnapshotListingPosition, SnapshotService } from '../restCopy/snapshots.ts';
import { authorizeScene, principalOf, requireUser } from './auth.ts';
import { badRequest } from './errors.ts';
import { parseInput, sceneParams, uuidParam } from './validation.ts';

export interface VersionRoutesDeps {
  verifier: TokenVerifier;
  access: AccessControl;
  sceneLog: SceneLog;
  snapshots: SnapshotService;
  users: UserDirectory;
  /** A writer's session ends after this long without a row of theirs (`HISTORY_SESSION_GAP_SECONDS`). */
  sessionGapSeconds: number;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' });
const pageQuery = {
  cursor: z.string().min(1, 'must not be empty').optional(),
  limit: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
    .default(DEFAULT_PAGE_SIZE),
};
const windowQuery = {
  /** A writer: `users.user_id` (a lower-case UUID) or an email. */
  user: z.string().min(1, 'must not be empty').max(320, 'is too long').optional(),
  from: instant.optional(),
  to: instant.optional(),
};
const versionsQuery = z.strictObject({ ...pageQuery, ...windowQuery });
const snapshotsQuery = z.strictObject(pageQuery);

type ListingKind = 'versions' | 'sessions' | 'snapshots';

/**
 * A cursor is opaque to clients: base64url JSON naming the listing and the scene it belongs to, so
 * a cursor of another scene or listing is refused instead of paging from a wrong place.
 */
interface CursorBody {
  k: ListingKind;
  s: string;
  t: string;
  q?: string;
  c?: boolean;
  i?: string;
}

function encodeCursor(body: CursorBody): string {
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/**
 * The instant of a forged cursor must still be a timestamp the database can add to its epoch
 * (within 2^53 microseconds, about 285 years either way), and its seq an int8: a cursor is bad
 * input, never a 500.
 */
const MAX_CURSOR_MICROS = 2n ** 53n;
const cursorBody = z.strictObject({
  k: z.enum(['versions', 'sessions', 'snapshots']),
  s: z.string(),
  t: z.string().refine((text) => /^-?\d{1,16}$/.test(text) && BigInt(text) < MAX_CURSOR_MICROS && BigInt(text) > -MAX_CURSOR_MICROS),
  q: z.string().regex(/^\d{1,18}$/).optional(),
  c: z.boolean().optional(),
  i: uuidParam.optional(),
});

function decodeCursor(text: string, kind: ListingKind, sceneId: string): CursorBody {
  const problem = () => badRequest(`query.cursor: not a cursor of this scene's ${kind} listing; use next_cursor from a previous page`, 'INVALID_CURSOR');
  if (!/^[A-Za-z0-9_-]+$/.test(text) || text.length > 512) throw problem();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw problem();
  }
  const body = cursorBody.safeParse(parsed);
  if (!body.success || body.data.k !== kind || body.data.s !== sceneId) throw problem();
  if (kind === 'snapshots' ? body.data.i === undefined : body.data.q === undefined) throw problem();
  return body.data;
}

function listingPosition(cursor: CursorBody): ListingPosition {
  return { atMicros: BigInt(cursor.t), seq: BigInt(cursor.q!), ...(cursor.c === undefined ? {} : { compacted: cursor.c }) };
}

const iso = (date: Date) => date.toISOString();

/**
 * The audit listings of a scene (architecture document 13.3) and its editing sessions, for the
 * owner, collaborators (editors and viewers) and administrators:
 * `GET /api/scenes/:sceneId/versions`, `/sessions` and `/snapshots`, newest first, keyset-paged
 * with an opaque cursor. The log is read through `sceneLog.versions`, the snapshot rows through
 * the snapshot service, and the writers' emails in one query per page through the user directory.
 */
export function versionRoutes(deps: VersionRoutesDeps): Router {
  const { verifier, access, sceneLog, snapshots, users } = deps;
  const router = Router();
  const authenticated = requireUser(verifier);

  /** The window of a listing, with the writer filter resolved to a user id. */
  const windowOf = async (query: { user?: string | undefined; from?: string | undefined; to?: string | undefined }): Promise<VersionFilter> => {
    const from = query.from === undefined ? undefined : new Date(query.from);
    const to = query.to === undefined ? undefined : new Date(query.to);
    if (from && to && from > to) throw badRequest(`query.from (${query.from}) is after query.to (${query.to})`, 'INVALID_RANGE');
    let createdBy: string | undefined;
    if (query.user !== undefined) {
      const user = await users.find(query.user);
      if (!user) throw badRequest(`query.user: no user ${JSON.stringify(query.user)} (give a user id or an email)`, 'UNKNOWN_USER');
      createdBy = user.userId;
    }
    return { ...(createdBy ? { createdBy } : {}), ...(from ? { from } : {}), ...(to ? { to } : {}) };
  };

  router.get('/api/scenes/:sceneId/versions', authenticated, async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    await authorizeScene(access, principalOf(res), sceneId, 'read');
    const query = parseInput(versionsQuery, req.query, 'query');
    const after = query.cursor === undefined ? null : listingPosition(decodeCursor(query.cursor, 'versions', sceneId));
    const filter = await windowOf(query);
    // One row more than the page tells whether there is a next page without a count.
    const rows = await sceneLog.versions.page(sceneId, filter, after, query.limit + 1);
    const page = rows.slice(0, query.limit);
    const emails = await users.emailsOf(page.map((row) => row.createdBy));
    const last = page.at(-1);
    res.json({
      sceneUUID: sceneId,
      versions: page.map((row) => ({
        version_id: row.versionId,
        seq: Number(row.seq),
        created_at: iso(row.createdAt),
        created_by: row.createdBy,
        created_by_email: row.createdBy === null ? null : (emails.get(row.createdBy) ?? null),
        size_bytes: row.sizeBytes,
        compacted_count: row.compactedCount,
        is_compacted: row.isCompacted,
        merged: row.compactedBy !== null,
        compacted_by: row.compactedBy,
      })),
      next_cursor:
        rows.length > query.limit && last
          ? encodeCursor({ k: 'versions', s: sceneId, t: last.position.atMicros.toString(), q: last.position.seq.toString(), c: last.isCompacted })
          : null,
    });
  });

  router.get('/api/scenes/:sceneId/sessions', authenticated, async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    await authorizeScene(access, principalOf(res), sceneId, 'read');
    const query = parseInput(versionsQuery, req.query, 'query');
    const after = query.cursor === undefined ? null : listingPosition(decodeCursor(query.cursor, 'sessions', sceneId));
    const filter = await windowOf(query);
    const sessions = await sceneLog.versions.sessions(sceneId, filter, deps.sessionGapSeconds, after, query.limit + 1);
    const page = sessions.slice(0, query.limit);
    const emails = await users.emailsOf(page.map((session) => session.createdBy));
    const last = page.at(-1);
    res.json({
      sceneUUID: sceneId,
      gap_seconds: deps.sessionGapSeconds,
      sessions: page.map((session) => ({
        user_id: session.createdBy,
        email: session.createdBy === null ? null : (emails.get(session.createdBy) ?? null),
        started_at: iso(session.startedAt),
        ended_at: iso(session.endedAt),
        rows: session.rows,
        updates: session.updates,
        bytes: session.bytes,
        first_seq: Number(session.firstSeq),
        last_seq: Number(session.lastSeq),
      })),
      next_cursor:
        sessions.length > query.limit && last
          ? encodeCursor({ k: 'sessions', s: sceneId, t: last.position.atMicros.toString(), q: last.position.seq.toString() })
          : null,
    });
  });

  router.get('/api/scenes/:sceneId/snapshots', authenticated, async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    await authorizeScene(access, principalOf(res), sceneId, 'read');
    const query = parseInput(snapshotsQuery, req.query, 'query');
    let after: SnapshotListingPosition | null = null;
    if (query.cursor !== undefined) {
      const cursor = decodeCursor(query.cursor, 'snapshots', sceneId);
      after = { atMicros: BigInt(cursor.t), snapshotId: cursor.i! };
    }
    const records = await snapshots.snapshotHistory(sceneId, after, query.limit + 1);
    const page = records.slice(0, query.limit);
    const emails = await users.emailsOf(page.map((record) => record.createdBy));
    const last = page.at(-1);
    res.json({
      sceneUUID: sceneId,
      snapshots: page.map((record) => ({
        snapshot_id: record.snapshotId,
        created_at: iso(record.createdAt),
        snapshot_source: record.source,
        created_by: record.createdBy,
        created_by_email: record.createdBy === null ? null : (emails.get(record.createdBy) ?? null),
        yjs_version_count: record.yjsVersionCount,
        yjs_latest_version_id: record.latestVersionId,
        yjs_latest_seq: record.latestSeq === null ? null : Number(record.latestSeq),
        yjs_checksum: record.checksum,
        generation_time_ms: record.generationTimeMs,
        snapshot_size_bytes: record.sizeBytes,
      })),
      next_cursor:
        records.length > query.limit && last
          ? encodeCursor({ k: 'snapshots', s: sceneId, t: last.position.atMicros.toString(), i: last.position.snapshotId })
          : null,
    });
  });

  return router;
}
