import { Router } from 'express';
import { z } from 'zod';
import type { AccessControl, ScriptAccess } from '../auth/access.ts';
import { refuse } from '../auth/errors.ts';
import type { Principal, TokenVerifier } from '../auth/tokens.ts';
import type { UserDirectory } from '../auth/users.ts';
import { parseRestBlocks } from '../screenplay/index.ts';
import type { SceneReader } from '../scenes/reader.ts';
import { sceneHeadingSchema, scenePositionSchema, scriptTitleSchema, titlePageSchema } from '../scripts/fields.ts';
import type { SceneEntry, SceneOrderChange, ScriptRow, ScriptStore } from '../scripts/scriptStore.ts';
import { authorizeScript, principalOf, requireKnownUser, requireUser } from './auth.ts';
import { forbidden } from './errors.ts';
import { sceneJson } from './scenes.ts';
import { jsonBody, optionalJsonBody, parseInput, scriptParams, uuidParam } from './validation.ts';

export interface ScriptRoutesDeps {
  verifier: TokenVerifier;
  access: AccessControl;
  store: ScriptStore;
  reader: SceneReader;
  users: UserDirectory;
  /** How long a deleted scene can be restored (`SCENE_DELETE_RETENTION_DAYS`). */
  sceneDeleteRetentionMs: number;
}

const scriptSceneParams = z.object({ scriptId: uuidParam, sceneId: uuidParam });

const createScriptBody = z.strictObject({ title: scriptTitleSchema, title_page: titlePageSchema.nullable().optional() });

const updateScriptBody = z
  .strictObject({ title: scriptTitleSchema.optional(), title_page: titlePageSchema.nullable().optional() })
  .refine((body) => body.title !== undefined || body.title_page !== undefined, { message: 'send "title", "title_page" or both' });

/** `blocks` are checked by `parseRestBlocks` (every problem listed) and then by the store's round trip. */
const createSceneBody = z.strictObject({
  position: scenePositionSchema.optional(),
  heading: sceneHeadingSchema.optional(),
  blocks: z.array(z.unknown()).optional(),
});

const updateSceneBody = z
  .strictObject({ position: scenePositionSchema.optional(), heading: sceneHeadingSchema.optional() })
  .refine((body) => body.position !== undefined || body.heading !== undefined, { message: 'send "position", "heading" or both' });

const restoreSceneBody = z.strictObject({ position: scenePositionSchema.optional() });

export function scriptJson(script: ScriptRow, extra: { role: string; sceneCount?: number }) {
  return {
    scriptUUID: script.scriptId,
    title: script.title,
    title_page: script.titlePage,
    owner_id: script.ownerId,
    role: extra.role,
    ...(extra.sceneCount !== undefined ? { scene_count: extra.sceneCount } : {}),
    created_at: script.createdAt.toISOString(),
    updated_at: script.updatedAt.toISOString(),
  };
}

export function sceneEntryJson(entry: SceneEntry) {
  return {
    sceneUUID: entry.sceneId,
    sceneIndex: entry.deletedAt === null ? entry.position : null,
    slugline: entry.sceneHeading,
    deleted_at: entry.deletedAt?.toISOString() ?? null,
  };
}

/**
 * Scripts and the order and life of their scenes (src/scripts/scriptStore.ts). Anyone signed in
 * creates a script and becomes its owner, and lists the scripts they own or collaborate on. Owners,
 * editors and administrators rename a script and add, move, rename, delete and restore its scenes;
 * viewers read only. Inputs are checked before access (a malformed id is a 400), access before the
 * body, as in every route.
 */
export function scriptRoutes(deps: ScriptRoutesDeps): Router {
  const { verifier, access, store, reader, users, sceneDeleteRetentionMs } = deps;
  const router = Router();
  const authenticated = requireUser(verifier);

  router.post('/api/scripts', authenticated, async (req, res) => {
    const principal = principalOf(res);
    const body = parseInput(createScriptBody, jsonBody(req), 'body');
    await requireKnownUser(users, principal);
    const script = await store.createScript({ ownerId: principal.userId, title: body.title, titlePage: body.title_page ?? null });
    res.status(201).json(scriptJson(script, { role: 'owner', sceneCount: 0 }));
  });

  router.get('/api/scripts', authenticated, async (req, res) => {
    const principal = principalOf(res);
    parseInput(z.strictObject({}), req.query, 'query');
    await requireKnownUser(users, principal);
    const scripts = await store.scriptsOf(principal.userId);
    res.json({ scripts: scripts.map((script) => scriptJson(script, { role: script.role, sceneCount: script.sceneCount })) });
  });

  router.get('/api/scripts/:scriptId', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    const grant = await authorizeScript(access, principalOf(res), scriptId);
    const [script, scenes] = await Promise.all([store.script(scriptId), store.sceneOrder(scriptId)]);
    if (!script) throw refuse('unknown-script', `no script ${scriptId}`);
    res.json({ ...scriptJson(script, { role: grant.role, sceneCount: scenes.length }), scenes: scenes.map(sceneEntryJson) });
  });

  router.patch('/api/scripts/:scriptId', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    const grant = await authorizeWritable(access, principalOf(res), scriptId);
    const body = parseInput(updateScriptBody, jsonBody(req), 'body');
    const script = await store.updateScript(scriptId, { title: body.title, titlePage: body.title_page });
    res.json(scriptJson(script, { role: grant.role }));
  });

  router.post('/api/scripts/:scriptId/scenes', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    await authorizeWritable(access, principalOf(res), scriptId);
    const body = parseInput(createSceneBody, optionalJsonBody(req), 'body');
    if (body.blocks !== undefined) parseRestBlocks(body.blocks); // throws InvalidRestBlocksError: a 400 listing every problem
    const change = await store.addScene(scriptId, { heading: body.heading ?? null, blocks: body.blocks ?? [], position: body.position });
    const view = await reader.scene(change.scene.sceneId);
    res.status(201).json({ scriptUUID: scriptId, scene: sceneJson(view), scenes: change.scenes.map(sceneEntryJson) });
  });

  router.get('/api/scripts/:scriptId/deleted-scenes', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    await authorizeScript(access, principalOf(res), scriptId);
    const scenes = await store.deletedScenes(scriptId);
    res.json({
      scriptUUID: scriptId,
      retention_days: sceneDeleteRetentionMs / 86_400_000,
      scenes: scenes.map((entry) => ({ ...sceneEntryJson(entry), restorable_until: new Date(entry.deletedAt!.getTime() + sceneDeleteRetentionMs).toISOString() })),
    });
  });

  router.patch('/api/scripts/:scriptId/scenes/:sceneId', authenticated, async (req, res) => {
    const { scriptId, sceneId } = parseInput(scriptSceneParams, req.params, 'path');
    await authorizeWritable(access, principalOf(res), scriptId);
    const body = parseInput(updateSceneBody, jsonBody(req), 'body');
    res.json(orderJson(scriptId, await store.updateScene(scriptId, sceneId, body)));
  });

  router.delete('/api/scripts/:scriptId/scenes/:sceneId', authenticated, async (req, res) => {
    const { scriptId, sceneId } = parseInput(scriptSceneParams, req.params, 'path');
    const principal = principalOf(res);
    await authorizeWritable(access, principal, scriptId);
    const change = await store.deleteScene(scriptId, sceneId, { by: principal.userId });
    res.json({
      ...orderJson(scriptId, change),
      restorable_until: new Date(change.scene.deletedAt!.getTime() + sceneDeleteRetentionMs).toISOString(),
    });
  });

  router.post('/api/scripts/:scriptId/scenes/:sceneId/restore', authenticated, async (req, res) => {
    const { scriptId, sceneId } = parseInput(scriptSceneParams, req.params, 'path');
    const principal = principalOf(res);
    await authorizeWritable(access, principal, scriptId);
    const body = parseInput(restoreSceneBody, optionalJsonBody(req), 'body');
    res.json(orderJson(scriptId, await store.restoreScene(scriptId, sceneId, { position: body.position, retentionMs: sceneDeleteRetentionMs, by: principal.userId })));
  });

  return router;
}

function orderJson(scriptId: string, change: SceneOrderChange) {
  return { scriptUUID: scriptId, scene: sceneEntryJson(change.scene), scenes: change.scenes.map(sceneEntryJson) };
}

async function authorizeWritable(access: AccessControl, principal: Principal, scriptId: string): Promise<ScriptAccess> {
  const grant = await authorizeScript(access, principal, scriptId);
  if (!grant.canWrite) throw forbidden(`A ${grant.role} of this script may read it but not change it`, 'READ_ONLY');
  return grant;
}
