import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AccessControl } from '../auth/access.ts';
import type { Principal, TokenVerifier } from '../auth/tokens.ts';
import { decodeCursor, encodeCursor, MalformedCursorError } from '../changes/cursor.ts';
import type { ChangeFeed } from '../changes/feed.ts';
import { ChangesExpiredError, type ChangePosition, type SceneChange } from '../log/changes.ts';
import type { Logger } from '../logger.ts';
import { authorizeScript, principalOf, requireUser } from './auth.ts';
import { badRequest, HttpError } from './errors.ts';
import { parseInput, uuidParam } from './validation.ts';

export interface ChangeRoutesDeps {
  verifier: TokenVerifier;
  access: AccessControl;
  feed: ChangeFeed;
  logger: Logger;
  /** Between two comments on an idle event stream, so proxies keep it open (default 15 s). */
  heartbeatMs?: number;
}

/** A long poll waits at most this long: past it, proxies and load balancers start cutting idle requests. */
export const MAX_WAIT_MS = 60_000;

/** `30s`, `500ms` or a number of seconds; at most a minute. */
const waitParam = z
  .string()
  .regex(/^\d{1,6}(ms|s)?$/, 'must be a duration such as 30s or 500ms')
  .transform((value) => (value.endsWith('ms') ? Number(value.slice(0, -2)) : Number(value.replace(/s$/, '')) * 1000))
  .refine((ms) => ms <= MAX_WAIT_MS, `must be at most ${MAX_WAIT_MS / 1000}s`);

const changesQuery = z.strictObject({
  after: z.string().optional(),
  script: uuidParam.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  wait: waitParam.optional(),
});

const streamQuery = z.strictObject({
  after: z.string().optional(),
  script: uuidParam.optional(),
  /** EventSource cannot send headers: a browser passes its token here. */
  access_token: z.string().optional(),
});

/** One change as the feed and the event stream show it (the webhooks' payload uses the same names). */
export function changeJson(change: SceneChange) {
  return {
    cursor: encodeCursor(change.position),
    scriptId: change.scriptId,
    sceneId: change.sceneId,
    seq: Number(change.seq),
    kinds: change.kinds,
    createdBy: change.createdBy,
    at: change.at.toISOString(),
  };
}

/** The answer to a cursor older than the feed keeps: how to start again without missing anything. */
export function cursorExpired(error: ChangesExpiredError): HttpError {
  return new HttpError(
    410,
    'CURSOR_EXPIRED',
    'The cursor is older than the change feed keeps (CHANGE_FEED_RETENTION_DAYS): read the scenes again (GET /api/scripts/:scriptId/scenes), then continue the feed from `cursor`',
    { cursor: encodeCursor(error.oldest) },
  );
}

export function parseCursor(cursor: string | undefined): ChangePosition | null {
  if (cursor === undefined || cursor === '') return null;
  try {
    return decodeCursor(cursor);
  } catch (error) {
    if (error instanceof MalformedCursorError) throw badRequest('The cursor is not one this change feed gave out', 'INVALID_CURSOR');
    throw error;
  }
}

/**
 * `GET /api/changes` (a page, or a long poll with `wait`) and `GET /api/changes/stream` (server-sent
 * events, resumable with `Last-Event-ID`): the scene changes of the scripts the caller may read,
 * in commit order.
 */
export function changeRoutes(deps: ChangeRoutesDeps): Router {
  const { verifier, access, feed } = deps;
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const router = Router();
  const authenticated = requireUser(verifier);

  const scriptOf = async (principal: Principal, scriptId: string | undefined): Promise<string | null> => {
    if (scriptId === undefined) return null;
    await authorizeScript(access, principal, scriptId);
    return scriptId;
  };

  router.get('/api/changes', authenticated, async (req, res) => {
    const query = parseInput(changesQuery, req.query, 'query');
    const after = parseCursor(query.after);
    const principal = principalOf(res);
    const scriptId = await scriptOf(principal, query.script);
    // A client that goes away ends its wait.
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    try {
      const page = await feed.read({ principal, after, scriptId, limit: query.limit, waitMs: query.wait ?? 0, signal: gone.signal });
      res.json({ changes: page.changes.map(changeJson), cursor: encodeCursor(page.next) });
    } catch (error) {
      if (error instanceof ChangesExpiredError) throw cursorExpired(error);
      throw error;
    }
  });

  // The token may come in the query (EventSource sends no headers); it is checked as a header's is.
  const streamAuth = (req: Request, res: Response, next: (error?: unknown) => void) => {
    const token = typeof req.query.access_token === 'string' ? req.query.access_token : undefined;
    if (token !== undefined && req.get('authorization') === undefined) req.headers.authorization = `Bearer ${token}`;
    return authenticated(req, res, next);
  };

  router.get('/api/changes/stream', streamAuth, async (req, res) => {
    const query = parseInput(streamQuery, req.query, 'query');
    let after = parseCursor(req.get('last-event-id') ?? query.after);
    const principal = principalOf(res);
    const scriptId = await scriptOf(principal, query.script);
    // Checked before the stream starts, so an expired or broken cursor is still a status code.
    try {
      await feed.read({ principal, after, scriptId, limit: 1, waitMs: 0 });
    } catch (error) {
      if (error instanceof ChangesExpiredError) throw cursorExpired(error);
      throw error;
    }
    res.status(200).set({ 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    res.flushHeaders();
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    let lastWrite = Date.now();
    res.write('retry: 2000\n\n');
    while (!closed.signal.aborted && feed.open) {
      try {
        const page = await feed.read({ principal, after, scriptId, limit: 500, waitMs: heartbeatMs, signal: closed.signal });
        for (const change of page.changes) {
          const json = changeJson(change);
          res.write(`id: ${json.cursor}\nevent: change\ndata: ${JSON.stringify(json)}\n\n`);
        }
        after = page.next;
        if (page.changes.length > 0) lastWrite = Date.now();
        else if (Date.now() - lastWrite >= heartbeatMs) {
          res.write(': heartbeat\n\n');
          lastWrite = Date.now();
        }
      } catch (error) {
        if (closed.signal.aborted) break;
        // Retention overtook a stream that fell far behind: tell it, then end; the client resumes with a 410.
        if (error instanceof ChangesExpiredError) res.write(`event: expired\ndata: ${JSON.stringify({ cursor: encodeCursor(error.oldest) })}\n\n`);
        else deps.logger.warn({ err: error }, 'change stream ended by an error; the client reconnects with Last-Event-ID');
        break;
      }
    }
    res.end();
  });

  return router;
}
