import type { NextFunction, Request, Response } from 'express';
import { AuthRefusal } from '../auth/errors.ts';
import { Refusal } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { InvalidRestBlocksError } from '../screenplay/errors.ts';

/** An error a route throws on purpose; the error handler turns it into `status` and `{error, code}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra fields for the JSON body (e.g. the list of problems with a request body). */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string, code = 'BAD_REQUEST') => new HttpError(400, code, message);
export const unauthorized = (message: string, code = 'UNAUTHORIZED') => new HttpError(401, code, message);
export const forbidden = (message: string, code = 'FORBIDDEN') => new HttpError(403, code, message);
export const notFound = (message: string, code = 'NOT_FOUND') => new HttpError(404, code, message);
export const conflict = (message: string, code = 'CONFLICT', details?: Record<string, unknown>) => new HttpError(409, code, message, details);
export const gone = (message: string, code = 'GONE') => new HttpError(410, code, message);
export const unavailable = (message: string, code = 'UNAVAILABLE') => new HttpError(503, code, message);

/** `"token-expired"` -> `"TOKEN_EXPIRED"`: the auth library's refusal codes in the HTTP API's style. */
export function httpCodeOfRefusal(refusal: AuthRefusal): string {
  return refusal.code.toUpperCase().replace(/-/g, '_');
}

/**
 * Maps everything a handler throws to a JSON body. Express's own body-parser errors carry `status`
 * and `type` (broken JSON, body too large); they are the client's fault and must never be a 500.
 */
export function errorHandler(logger: Logger) {
  return (error: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (error instanceof HttpError) {
      res.status(error.status).json({ error: error.message, code: error.code, ...error.details });
      return;
    }
    // Refusals of the auth library carry their own status: 401 token, 400 malformed id, 404
    // unknown target, 403 no access, 503 when access could not be checked.
    if (error instanceof AuthRefusal) {
      if (error.httpStatus >= 500) logger.warn({ err: error }, 'access check unavailable');
      res.status(error.httpStatus).json({ error: error.reason, code: httpCodeOfRefusal(error) });
      return;
    }
    // The domain modules' refusals carry their status: src/history's (a point before the retained
    // history, an unknown label), src/scripts' (an unknown collaborator email, a position out of range).
    if (error instanceof Refusal) {
      res.status(error.status).json({ error: error.message, code: error.code, ...error.details });
      return;
    }
    if (error instanceof InvalidRestBlocksError) {
      res.status(400).json({ error: error.message, code: error.code, issues: error.issues.slice(0, 50) });
      return;
    }
    const parserError = error as { status?: number; type?: string; message?: string };
    if (parserError?.type === 'entity.too.large') {
      res.status(413).json({ error: 'Request body is too large', code: 'PAYLOAD_TOO_LARGE' });
      return;
    }
    if (parserError?.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'Request body is not valid JSON', code: 'INVALID_JSON' });
      return;
    }
    if (typeof parserError?.status === 'number' && parserError.status >= 400 && parserError.status < 500) {
      res.status(parserError.status).json({ error: parserError.message ?? 'Bad request', code: 'BAD_REQUEST' });
      return;
    }
    logger.error({ err: error }, 'unhandled error in HTTP handler');
    res.status(500).json({ error: 'Internal server error', code: 'INTERNAL' });
  };
}
