import { Router, type Request } from 'express';
import { z } from 'zod';
import type { AccessControl } from '../auth/access.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import { SceneLoadError } from '../collab/errors.ts';
import { SceneNotFoundError } from '../errors.ts';
import { AppendFailedError, QueueClosedError } from '../log/groupCommit.ts';
import type { Logger } from '../logger.ts';
import { getScreenplayConverter, parseRestBlocks, ScreenplayConversionError } from '../screenplay/index.ts';
import type { SceneReader, SceneView } from '../scenes/reader.ts';
import { StateNotRetainedError } from '../log/history.ts';
import { authorizeScene, authorizeScript, principalOf, requireUser } from './auth.ts';
import { badRequest, gone, HttpError, notFound, unavailable } from './errors.ts';
import { BaseSeqAheadError, type SceneContentInput, type SceneContentWriter } from '../scenes/writer.ts';
import { parseInput, sceneParams, scriptParams, uuidParam } from './validation.ts';

export interface SceneRoutesDeps {
  verifier: TokenVerifier;
  access: AccessControl;
  reader: SceneReader;
  writer: SceneContentWriter;
  logger: Logger;
}


/**
 * PATCH body: exactly one of `blocks` (REST blocks, the `content_blocks` format) or `doc` (TipTap /
 * ProseMirror JSON of the screenplay schema, `{type: "doc", content: [...]}`), and optionally
 * `base_seq` (see `SceneContentWriter`). Unknown fields are refused so a misspelt field is not
 * silently ignored.
 */
const patchBody = z
  .strictObject({
    blocks: z.array(z.unknown()).optional(),
    doc: z.record(z.string(), z.unknown()).optional(),
    /** The `seq` of the read this content was edited from: the change then merges with everything since. */
    base_seq: z.int().positive().optional(),
  })
  .refine((body) => (body.blocks === undefined) !== (body.doc === undefined), { message: 'send exactly one of "blocks" and "doc"' });

/** An instant with its offset (`2025-01-22T10:30:00Z`, `...+02:00`): a time without one is ambiguous. */
const historyQuery = z.strictObject({ at: z.iso.datetime({ offset: true, message: 'must be an ISO 8601 date-time with a time zone' }) });

/** The JSON of one scene: section 7.1's shape plus the sequence number its content was derived from. */
export function sceneJson(view: SceneView) {
  return {
    sceneUUID: view.sceneId,
    scriptUUID: view.scriptId,
    slugline: view.sceneHeading,
    sceneIndex: view.position,
    version: view.version,
    seq: view.seq === null ? null : Number(view.seq),
    content: { blocks: view.blocks },
    metadata: {
      source: view.source,
      derived_from: view.origin,
      snapshot_at: view.snapshotAt?.toISOString() ?? null,
      snapshot_seq: view.snapshotSeq === null ? null : Number(view.snapshotSeq),
      snapshot_freshness: view.freshness,
      yjs_update_count: view.updateCount,
      last_modified: view.lastModified.toISOString(),
      lifecycle: view.lifecycle,
      ...(view.yjsError ? { yjs_error: view.yjsError } : {}),
    },
  };
}

export function sceneRoutes(deps: SceneRoutesDeps): Router {
  const { verifier, access, reader, writer } = deps;
  const router = Router();
  const authenticated = requireUser(verifier);

  router.get('/api/scripts/:scriptId/scenes', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    await authorizeScript(access, principalOf(res), scriptId);
    const scenes = await reader.scenesOfScript(scriptId);
    res.json({ scriptUUID: scriptId, scenes: scenes.map(sceneJson) });
  });

  router.get('/api/scenes/:sceneId', authenticated, async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    await authorizeScene(access, principalOf(res), sceneId, 'read');
    res.json(sceneJson(await readScene(reader, sceneId)));
  });

  router.patch('/api/scenes/:sceneId/content', authenticated, async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    const principal = principalOf(res);
    await authorizeScene(access, principal, sceneId, 'write');
    const { input, baseSeq } = parseContent(req);
    let result;
    try {
      result = await writer.write(sceneId, principal.userId, input, { baseSeq });
    } catch (error) {
      throw mapWriteError(error, sceneId, deps.logger);
    }
    const view = await readScene(reader, sceneId);
    res.json({
      ...sceneJson(view),
      patch: {
        changed: result.changed,
        version_id: result.changed ? result.appended.versionId : null,
        seq: result.changed ? Number(result.appended.seq) : null,
      },
    });
  });

  router.get('/api/scenes/:sceneId/history', authenticated, async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    await authorizeScene(access, principalOf(res), sceneId, 'read');
    const { at: atText } = parseInput(historyQuery, req.query, 'query');
    const at = new Date(atText);
    let historic;
    try {
      historic = await reader.sceneAt(sceneId, at);
    } catch (error) {
      if (error instanceof ScreenplayConversionError) throw new HttpError(409, 'YJS_CONTENT_UNCONVERTIBLE', error.message);
      throw error;
    }
    if (!historic.complete) {
      throw gone(
        `The log no longer holds every update up to ${at.toISOString()}: compaction merged them and retention deleted the originals`,
        'HISTORY_NOT_RETAINED',
      );
    }
    res.json({
      sceneUUID: sceneId,
      at: at.toISOString(),
      seq: historic.seq === null ? null : Number(historic.seq),
      update_count: historic.updateCount,
      has_gap: historic.hasGap,
      content: { blocks: historic.blocks },
    });
  });

  return router;
}

async function readScene(reader: SceneReader, sceneId: string): Promise<SceneView> {
  try {
    return await reader.scene(sceneId);
  } catch (error) {
    // Deleted between the access check and the read.
    if (error instanceof SceneNotFoundError) throw notFound(error.message, 'UNKNOWN_SCENE');
    throw error;
  }
}

/** Validates the whole body before anything is loaded, so bad input never touches a document. */
function parseContent(req: Request): { input: SceneContentInput; baseSeq: bigint | undefined } {
  if (req.is('application/json') !== 'application/json') {
    throw badRequest('The body must be JSON (Content-Type: application/json)', 'UNSUPPORTED_CONTENT_TYPE');
  }
  const body = parseInput(patchBody, req.body, 'body');
  const baseSeq = body.base_seq === undefined ? undefined : BigInt(body.base_seq);
  if (body.blocks !== undefined) {
    parseRestBlocks(body.blocks); // throws InvalidRestBlocksError: a 400 listing every problem
    return { input: { blocks: body.blocks }, baseSeq };
  }
  try {
    getScreenplayConverter().tiptapJSONToProseMirrorNode(body.doc);
  } catch (error) {
    if (error instanceof ScreenplayConversionError) throw badRequest(`body.doc: ${error.message}`, error.code);
    throw error;
  }
  return { input: { doc: body.doc! }, baseSeq };
}

/** What a failed `SceneContentWriter.write` means to the client (PATCH, restore). */
export function mapWriteError(error: unknown, sceneId: string, logger: Logger): unknown {
  if (error instanceof HttpError) return error;
  if (error instanceof SceneNotFoundError) return notFound(`Scene ${sceneId} was deleted`, 'UNKNOWN_SCENE');
  if (error instanceof QueueClosedError) return unavailable(error.message, 'SHUTTING_DOWN');
  if (error instanceof BaseSeqAheadError) return badRequest(error.message, error.code);
  if (error instanceof StateNotRetainedError) {
    return new HttpError(409, 'BASE_NOT_RETAINED', `${error.message}; read the scene again and resend`);
  }
  if (error instanceof ScreenplayConversionError) {
    // The input was validated, so this is content the server cannot merge with.
    logger.error({ err: error, sceneId }, 'content could not be applied to the live document');
    return new HttpError(409, 'YJS_CONTENT_UNCONVERTIBLE', error.message);
  }
  if (error instanceof AppendFailedError || error instanceof SceneLoadError) {
    logger.error({ err: error, sceneId }, 'content write failed; nothing was applied');
    return unavailable('The change could not be stored; nothing was applied. Retry shortly.', 'PERSISTENCE_UNAVAILABLE');
  }
  return error;
}
