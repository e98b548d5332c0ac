import { Router } from 'express';
import { z } from 'zod';
import type { AccessControl } from '../auth/access.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import { createLabelBodySchema, type Labels } from '../history/labels.ts';
import type { SceneLabelRow, ScriptLabelRow } from '../history/labelStore.ts';
import { authorizeScene, authorizeScript, principalOf, requireUser } from './auth.ts';
import { forbidden } from './errors.ts';
import { jsonBody, parseInput, sceneParams, scriptParams, uuidParam } from './validation.ts';

export interface LabelRoutesDeps {
  verifier: TokenVerifier;
  access: AccessControl;
  labels: Labels;
}

const sceneLabelParams = z.object({ sceneId: uuidParam, labelId: uuidParam });
const scriptLabelParams = z.object({ scriptId: uuidParam, labelId: uuidParam });

export function sceneLabelJson(label: SceneLabelRow) {
  return {
    labelUUID: label.labelId,
    sceneUUID: label.sceneId,
    name: label.name,
    seq: label.seq === null ? null : Number(label.seq),
    labelled_at: label.labelledAt.toISOString(),
    created_at: label.createdAt.toISOString(),
    created_by: label.createdBy,
    script_label_id: label.scriptLabelId,
  };
}

export function scriptLabelJson(label: ScriptLabelRow) {
  return {
    labelUUID: label.labelId,
    scriptUUID: label.scriptId,
    name: label.name,
    labelled_at: label.labelledAt.toISOString(),
    created_at: label.createdAt.toISOString(),
    created_by: label.createdBy,
    scene_count: label.sceneCount,
  };
}

/**
 * Named versions (src/history/labels.ts): a scene's or a whole script's. Owners, editors and
 * administrators create and delete labels; every collaborator may list them. Inputs are checked
 * before access (a malformed id is a 400), access before the body.
 */
export function labelRoutes(deps: LabelRoutesDeps): Router {
  const { verifier, access, labels } = deps;
  const router = Router();
  const authenticated = requireUser(verifier);

  router.post('/api/scenes/:sceneId/labels', authenticated, async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    const principal = principalOf(res);
    await authorizeScene(access, principal, sceneId, 'write');
    const body = parseInput(createLabelBodySchema, jsonBody(req), 'body');
    const label = await labels.labelScene(sceneId, { name: body.name, ...(body.at ? { at: new Date(body.at) } : {}) }, principal.userId);
    res.status(201).json(sceneLabelJson(label));
  });

  router.get('/api/scenes/:sceneId/labels', authenticated, async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    await authorizeScene(access, principalOf(res), sceneId, 'read');
    res.json({ sceneUUID: sceneId, labels: (await labels.sceneLabels(sceneId)).map(sceneLabelJson) });
  });

  router.delete('/api/scenes/:sceneId/labels/:labelId', authenticated, async (req, res) => {
    const { sceneId, labelId } = parseInput(sceneLabelParams, req.params, 'path');
    await authorizeScene(access, principalOf(res), sceneId, 'write');
    res.json({ deleted: sceneLabelJson(await labels.deleteSceneLabel(sceneId, labelId)) });
  });

  router.post('/api/scripts/:scriptId/labels', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    const principal = principalOf(res);
    await authorizeWritableScript(access, principal, scriptId);
    const body = parseInput(createLabelBodySchema, jsonBody(req), 'body');
    const made = await labels.labelScript(scriptId, { name: body.name, ...(body.at ? { at: new Date(body.at) } : {}) }, principal.userId);
    res.status(201).json({ ...scriptLabelJson(made.label), scenes: made.scenes.map(sceneLabelJson) });
  });

  router.get('/api/scripts/:scriptId/labels', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    await authorizeScript(access, principalOf(res), scriptId);
    res.json({ scriptUUID: scriptId, labels: (await labels.scriptLabels(scriptId)).map(scriptLabelJson) });
  });

  router.delete('/api/scripts/:scriptId/labels/:labelId', authenticated, async (req, res) => {
    const { scriptId, labelId } = parseInput(scriptLabelParams, req.params, 'path');
    await authorizeWritableScript(access, principalOf(res), scriptId);
    res.json({ deleted: scriptLabelJson(await labels.deleteScriptLabel(scriptId, labelId)) });
  });

  return router;
}

async function authorizeWritableScript(access: AccessControl, principal: Parameters<typeof authorizeScript>[1], scriptId: string): Promise<void> {
  const grant = await authorizeScript(access, principal, scriptId);
  if (!grant.canWrite) throw forbidden(`A ${grant.role} of this script may list its labels but not change them`, 'READ_ONLY');
}
