import { Router } from 'express';
import { z } from 'zod';
import type { AccessControl } from '../auth/access.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import { BlameUnstableError, type SceneBlamer } from '../history/blame.ts';
import type { DiffEnd, SceneDiffs } from '../history/diffPoints.ts';
import { pointJson, pointTextSchema } from '../history/points.ts';
import { UncoveredHoleError } from '../log/authorship.ts';
import { ScreenplayConversionError } from '../screenplay/index.ts';
import type { SceneReader } from '../scenes/reader.ts';
import { authorizeScene, principalOf, requireUser } from './auth.ts';
import { HttpError } from './errors.ts';
import { parseInput, sceneParams, uuidParam } from './validation.ts';

export interface DiffRoutesDeps {
  verifier: TokenVerifier;
  access: AccessControl;
  diffs: SceneDiffs;
  blamer: SceneBlamer;
  /** The scene's content when its log is empty (the REST copy): blame has no row to name then. */
  reader: Pick<SceneReader, 'scene'>;
}

const diffQuery = z.strictObject({ from: pointTextSchema, to: pointTextSchema.optional() });
const blameQuery = z.strictObject({});

function endJson(end: DiffEnd) {
  return {
    point: pointJson(end.point),
    seq: end.seq === null ? null : Number(end.seq),
    label: end.label === null ? null : { labelUUID: end.label.labelId, name: end.label.name },
  };
}

/**
 * `GET /api/scenes/:sceneId/diff?from=&to=` (src/history/diffPoints.ts, diff.ts) and
 * `GET /api/scenes/:sceneId/blame` (src/history/blame.ts). Points are one string each: digits a
 * seq, an ISO 8601 instant with zone, else a label name or id; `to` defaults to now. Anyone who may
 * read the scene: owner, collaborators (editors and viewers), administrators.
 */
export function diffRoutes(deps: DiffRoutesDeps): Router {
  const { verifier, access, diffs, blamer, reader } = deps;
  const router = Router();

  router.get('/api/scenes/:sceneId/diff', requireUser(verifier), async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    await authorizeScene(access, principalOf(res), sceneId, 'read');
    const query = parseInput(diffQuery, req.query, 'query');
    let result;
    try {
      result = await diffs.diff(sceneId, query.from, query.to ?? null);
    } catch (error) {
      if (error instanceof ScreenplayConversionError) throw new HttpError(409, 'YJS_CONTENT_UNCONVERTIBLE', error.message);
      throw error;
    }
    res.json({
      sceneUUID: sceneId,
      from: endJson(result.from),
      to: endJson(result.to),
      added: result.diff.added,
      removed: result.diff.removed,
      changed: result.diff.changed,
      unchanged: result.diff.unchanged,
    });
  });

  router.get('/api/scenes/:sceneId/blame', requireUser(verifier), async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    await authorizeScene(access, principalOf(res), sceneId, 'read');
    parseInput(blameQuery, req.query, 'query');
    let blame;
    try {
      blame = await blamer.blame(sceneId);
    } catch (error) {
      if (error instanceof ScreenplayConversionError) throw new HttpError(409, 'YJS_CONTENT_UNCONVERTIBLE', error.message);
      if (error instanceof UncoveredHoleError) throw new HttpError(409, error.code, error.message);
      if (error instanceof BlameUnstableError) throw new HttpError(503, error.code, error.message);
      throw error;
    }
    if (blame === null) {
      // No update yet: the content is the REST copy, and no row says who wrote it.
      const view = await reader.scene(sceneId);
      res.json({
        sceneUUID: sceneId,
        seq: null,
        blocks: view.blocks.map((block, index) => ({ index, block, last_change: null })),
        resolution: { complete: false, before_seq: null, reason: 'no_yjs_log' },
        cost: { rows: 0, pages: 0 },
      });
      return;
    }
    res.json({
      sceneUUID: sceneId,
      seq: blame.seq === null ? null : Number(blame.seq),
      blocks: blame.blocks.map(({ block, lastChange }, index) => ({
        index,
        block,
        last_change:
          lastChange === null
            ? null
            : {
                seq: Number(lastChange.seq),
                created_at: lastChange.createdAt.toISOString(),
                by: lastChange.by,
                user: lastChange.userId === null ? null : { user_id: lastChange.userId, email: lastChange.email },
              },
      })),
      resolution: blame.resolution.complete
        ? { complete: true, before_seq: null }
        : { complete: false, before_seq: Number(blame.resolution.beforeSeq), reason: 'compacted' },
      cost: blame.cost,
    });
  });

  return router;
}
