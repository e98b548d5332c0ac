import type { Request } from 'express';
import { z } from 'zod';
import { isCanonicalUuid } from '../auth/ids.ts';
import { badRequest } from './errors.ts';

/**
 * Ids are compared as strings by Hocuspocus, so only the canonical lower-case UUID names a scene
 * (see `src/auth/ids.ts`); an upper-case or brace form is refused as malformed, not looked up.
 */
export const uuidParam = z.string().refine(isCanonicalUuid, { message: 'must be a lower-case UUID' });

/** The path of a route under `/api/scenes/:sceneId`. */
export const sceneParams = z.object({ sceneId: uuidParam });

/** The path of a route under `/api/scripts/:scriptId`. */
export const scriptParams = z.object({ scriptId: uuidParam });

/** Parses `value` or throws a 400 that lists every problem, each prefixed with where it is. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, where: string, code = 'BAD_REQUEST'): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const path = issue.path.length > 0 ? `${where}.${issue.path.join('.')}` : where;
    return `${path}: ${issue.message}`;
  });
  throw badRequest(problems.join('; '), code);
}

/**
 * The body of a route whose body is optional: none at all counts as `{}`, JSON is parsed, anything
 * else (a form, text) is a 400 rather than silently treated as empty. `Content-Length: 0` is no
 * body (what `fetch` sends for a POST without one).
 */
export function optionalJsonBody(req: Request): unknown {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody) return {};
  if (req.is('application/json') !== 'application/json') {
    throw badRequest('The body must be JSON (Content-Type: application/json)', 'UNSUPPORTED_CONTENT_TYPE');
  }
  return req.body;
}

/** The body of a route that needs one: it must be JSON (a form or text is a 400, never read as `{}`). */
export function jsonBody(req: Request): unknown {
  if (req.is('application/json') !== 'application/json') {
    throw badRequest('The body must be JSON (Content-Type: application/json)', 'UNSUPPORTED_CONTENT_TYPE');
  }
  return req.body;
}
