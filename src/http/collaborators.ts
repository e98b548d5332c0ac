import { Router } from 'express';
import { z } from 'zod';
import type { AccessControl } from '../auth/access.ts';
import type { Principal, TokenVerifier } from '../auth/tokens.ts';
import type { UserDirectory } from '../auth/users.ts';
import { UnknownUserEmailError } from '../scripts/errors.ts';
import type { CollaboratorRow, ScriptStore } from '../scripts/scriptStore.ts';
import { authorizeScript, principalOf, requireUser } from './auth.ts';
import { forbidden } from './errors.ts';
import { jsonBody, parseInput, scriptParams, uuidParam } from './validation.ts';

export interface CollaboratorRoutesDeps {
  verifier: TokenVerifier;
  access: AccessControl;
  store: ScriptStore;
  users: UserDirectory;
}

const MAX_EMAIL_LENGTH = 320;
const emailSchema = z.email('must be an email address').max(MAX_EMAIL_LENGTH, `must be at most ${MAX_EMAIL_LENGTH} characters`);

const collaboratorParams = z.object({ scriptId: uuidParam, email: emailSchema });
const putBody = z.strictObject({ email: emailSchema, role: z.enum(['editor', 'viewer'], 'must be "editor" or "viewer"') });

export function collaboratorJson(collaborator: CollaboratorRow) {
  return { user_id: collaborator.userId, email: collaborator.email, role: collaborator.role, created_at: collaborator.createdAt.toISOString() };
}

/**
 * A script's collaborators, managed by its owner only (not editors, not administrators who do not
 * own it). People are named by email and must already be users: users are created by signing up
 * (outside this API; `users` rows), so an unknown email is a 404 `UNKNOWN_USER_EMAIL`, never an
 * invitation. A removed or downgraded collaborator's open connections are ended by the
 * open-connection recheck within `AUTH_RECHECK_INTERVAL_MS` (`no-access`, `access-changed`).
 */
export function collaboratorRoutes(deps: CollaboratorRoutesDeps): Router {
  const { verifier, access, store, users } = deps;
  const router = Router();
  const authenticated = requireUser(verifier);

  router.get('/api/scripts/:scriptId/collaborators', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    await authorizeOwner(access, principalOf(res), scriptId);
    res.json({ scriptUUID: scriptId, collaborators: (await store.collaborators(scriptId)).map(collaboratorJson) });
  });

  router.put('/api/scripts/:scriptId/collaborators', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    await authorizeOwner(access, principalOf(res), scriptId);
    const body = parseInput(putBody, jsonBody(req), 'body');
    const user = await findUser(users, body.email);
    const { collaborator, created } = await store.setCollaborator(scriptId, user, body.role);
    res.status(created ? 201 : 200).json({ scriptUUID: scriptId, collaborator: collaboratorJson(collaborator), created });
  });

  router.delete('/api/scripts/:scriptId/collaborators/:email', authenticated, async (req, res) => {
    const { scriptId, email } = parseInput(collaboratorParams, req.params, 'path');
    await authorizeOwner(access, principalOf(res), scriptId);
    const user = await findUser(users, email);
    res.json({ scriptUUID: scriptId, removed: collaboratorJson(await store.removeCollaborator(scriptId, user)) });
  });

  return router;
}

async function authorizeOwner(access: AccessControl, principal: Principal, scriptId: string): Promise<void> {
  const grant = await authorizeScript(access, principal, scriptId);
  if (grant.role !== 'owner') throw forbidden(`Only the owner of the script manages its collaborators (you are ${grant.role === 'admin' ? 'an administrator' : `a ${grant.role}`})`, 'OWNER_REQUIRED');
}

/** Emails are compared case-insensitively, as people type them (`UserDirectory.find`). */
async function findUser(users: UserDirectory, email: string): Promise<{ userId: string; email: string }> {
  const user = await users.find(email);
  if (!user) throw new UnknownUserEmailError(email);
  return user;
}
