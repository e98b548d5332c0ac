import { Router } from 'express';
import { z } from 'zod';
import type { AccessControl } from '../auth/access.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import { pointBodySchema, pointJson } from '../history/points.ts';
import type { SceneRestorer } from '../history/restore.ts';
import type { Logger } from '../logger.ts';
import { ScreenplayConversionError } from '../screenplay/index.ts';
import { authorizeScene, principalOf, requireUser } from './auth.ts';
import { HttpError } from './errors.ts';
import { mapWriteError } from './scenes.ts';
import { jsonBody, parseInput, sceneParams, uuidParam } from './validation.ts';

export interface RestoreRoutesDeps {
  verifier: TokenVerifier;
  access: AccessControl;
  restorer: SceneRestorer;
  logger: Logger;
}


/**
 * `POST /api/scenes/:sceneId/restore {at | seq | label}`: the scene becomes its content at that
 * point, as one more forward change through the PATCH path (src/history/restore.ts). The answer
 * comes after the commit and names the change's seq; `changed: false` when the scene already has
 * that content. Owners, editors and administrators; viewers get 403.
 */
export function restoreRoutes(deps: RestoreRoutesDeps): Router {
  const { verifier, access, restorer, logger } = deps;
  const router = Router();

  router.post('/api/scenes/:sceneId/restore', requireUser(verifier), async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    const principal = principalOf(res);
    await authorizeScene(access, principal, sceneId, 'write');
    const point = parseInput(pointBodySchema, jsonBody(req), 'body');
    let restored;
    try {
      restored = await restorer.restore(sceneId, point, principal.userId);
    } catch (error) {
      // The point's own state cannot be shown as a screenplay: nothing was written.
      if (error instanceof ScreenplayConversionError) throw new HttpError(409, 'YJS_CONTENT_UNCONVERTIBLE', error.message);
      throw mapWriteError(error, sceneId, logger);
    }
    const { from, write } = restored;
    res.json({
      sceneUUID: sceneId,
      restored_from: {
        point: pointJson(point),
        seq: from.seq === null ? null : Number(from.seq),
        label: from.label === null ? null : { labelUUID: from.label.labelId, name: from.label.name },
      },
      changed: write.changed,
      seq: write.changed ? Number(write.appended.seq) : null,
      version_id: write.changed ? write.appended.versionId : null,
    });
  });

  return router;
}
