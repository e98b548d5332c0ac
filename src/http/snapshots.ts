import { Router } from 'express';
import { z } from 'zod';
import type { AccessControl } from '../auth/access.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import { SceneNotFoundError } from '../errors.ts';
import type { DivergenceReport } from '../restCopy/divergence.ts';
import type { DivergenceDetector } from '../restCopy/divergenceDetector.ts';
import { SnapshotConversionError, type SnapshotService } from '../restCopy/snapshots.ts';
import { authorizeScene, principalOf, requireUser } from './auth.ts';
import { badRequest, conflict, notFound } from './errors.ts';
import { optionalJsonBody, parseInput, sceneParams, uuidParam } from './validation.ts';

export interface SnapshotRoutesDeps {
  verifier: TokenVerifier;
  access: AccessControl;
  snapshots: SnapshotService;
  divergence: DivergenceDetector;
  now?: () => Date;
}

const snapshotBody = z.strictObject({
  /** Create even if a snapshot younger than the interval exists. */
  force: z.boolean().default(false),
  /** Compare Yjs with the REST copy before and after, and return the report. */
  validate: z.boolean().default(false),
});

/** `POST /api/scenes/:sceneId/snapshot` (section 7.2): derive the REST copy from Yjs now. */
export function snapshotRoutes(deps: SnapshotRoutesDeps): Router {
  const { verifier, access, snapshots, divergence } = deps;
  const now = deps.now ?? (() => new Date());
  const router = Router();

  router.post('/api/scenes/:sceneId/snapshot', requireUser(verifier), async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    const principal = principalOf(res);
    await authorizeScene(access, principal, sceneId, 'snapshot');
    const { force, validate } = parseInput(snapshotBody, optionalJsonBody(req), 'body');

    try {
      if (!force) {
        const last = await snapshots.lastSnapshotAt(sceneId);
        const ageMs = last === null ? null : now().getTime() - last.getTime();
        if (ageMs !== null && ageMs < snapshots.intervalMs) {
          throw badRequest(
            `A snapshot ${Math.max(0, Math.round(ageMs / 1000))} s old exists (younger than the ${Math.round(snapshots.intervalMs / 1000)} s interval); send "force": true to create one anyway`,
            'SNAPSHOT_TOO_RECENT',
          );
        }
      }
      const previous: DivergenceReport | null = validate ? await divergence.checkScene(sceneId) : null;
      const outcome = await snapshots.snapshotScene(sceneId, { createdBy: principal.userId, trigger: 'manual' });
      if (outcome.status === 'no_versions') {
        throw conflict('The scene has no Yjs updates yet: its REST copy is still the source, there is nothing to derive', 'NO_YJS_LOG');
      }
      const report = validate ? await divergence.checkScene(sceneId) : null;
      const validation =
        report === null
          ? null
          : {
              passed: !report.diverged,
              diverged: report.diverged,
              checksum_match: report.yjs_checksum !== null && report.yjs_checksum === report.rest_checksum,
              report,
              previous,
            };
      if (outcome.status === 'superseded') {
        res.status(200).json({
          snapshot_id: null,
          scene_id: sceneId,
          written: false,
          source: 'yjs',
          seq: Number(outcome.seq),
          current_snapshot_seq: outcome.currentSeq === null ? null : Number(outcome.currentSeq),
          validation,
        });
        return;
      }
      res.status(201).json({
        snapshot_id: outcome.snapshotId,
        scene_id: sceneId,
        written: true,
        source: 'yjs',
        trigger: 'manual',
        created_at: outcome.createdAt.toISOString(),
        seq: Number(outcome.seq),
        yjs_update_count: outcome.updateCount,
        yjs_latest_version_id: outcome.latestVersionId,
        checksum: outcome.checksum,
        generation_time_ms: outcome.generationTimeMs,
        snapshot_size_bytes: outcome.sizeBytes,
        validation,
      });
    } catch (error) {
      if (error instanceof SceneNotFoundError) throw notFound(error.message, 'UNKNOWN_SCENE');
      if (error instanceof SnapshotConversionError) throw conflict(error.message, error.code);
      throw error;
    }
  });

  return router;
}
