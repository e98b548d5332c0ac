import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AccessControl, SceneAccess, ScriptAccess } from '../auth/access.ts';
import { refuse } from '../auth/errors.ts';
import type { Principal, TokenVerifier } from '../auth/tokens.ts';
import type { UserDirectory } from '../auth/users.ts';
import { forbidden, unauthorized } from './errors.ts';

const BEARER = /^Bearer[ \t]+([A-Za-z0-9\-_.~+/]+=*)[ \t]*$/i;

/**
 * `Authorization: Bearer <jwt>`, verified by the same verifier (and cache) the WebSocket server
 * uses. A missing, malformed, expired or badly signed token is a 401; what the user may do is
 * decided per route, after the route's own input is known to be well formed.
 */
export function requireUser(verifier: TokenVerifier): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization');
    if (header === undefined || header.trim() === '') {
      throw unauthorized('An "Authorization: Bearer <token>" header is required', 'MISSING_TOKEN');
    }
    const match = BEARER.exec(header);
    if (!match) throw unauthorized('The Authorization header must be "Bearer <token>"', 'INVALID_TOKEN');
    const verified = await verifier.verify(match[1]!);
    const principal: Principal = { userId: verified.userId, isAdmin: verified.isAdmin };
    res.locals.principal = principal;
    next();
  };
}

/** The user `requireUser` authenticated. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal as Principal | undefined;
  if (!principal) throw unauthorized('Not authenticated', 'MISSING_TOKEN');
  return principal;
}

export type SceneAction = 'read' | 'write' | 'snapshot';

/**
 * What each action needs: reading needs any role in the script (owner, editor, viewer; or an
 * administrator), writing content needs a writable role, snapshots the owner or an administrator
 * (section 7.2). Unknown scenes are 404 and strangers 403, decided by the auth library.
 */
export async function authorizeScene(access: AccessControl, principal: Principal, sceneId: string, action: SceneAction): Promise<SceneAccess> {
  const grant = await access.sceneAccess(principal, sceneId);
  if (action === 'write' && !grant.canWrite) {
    throw forbidden(`A ${grant.role} of this script may read the scene but not change it`, 'READ_ONLY');
  }
  if (action === 'snapshot' && grant.role !== 'owner' && !principal.isAdmin) {
    throw forbidden('Only the script owner or an administrator may create snapshots', 'OWNER_OR_ADMIN_REQUIRED');
  }
  return grant;
}

export async function authorizeScript(access: AccessControl, principal: Principal, scriptId: string): Promise<ScriptAccess> {
  return access.scriptAccess(principal, scriptId);
}

/** A token can outlive its user: creating or listing for a user that does not exist is refused as everywhere else (401 UNKNOWN_USER). */
export async function requireKnownUser(users: UserDirectory, principal: Principal): Promise<void> {
  if ((await users.find(principal.userId)) === null) throw refuse('unknown-user', 'the token names a user that does not exist');
}
