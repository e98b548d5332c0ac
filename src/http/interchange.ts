import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AccessControl } from '../auth/access.ts';
import type { TokenVerifier } from '../auth/tokens.ts';
import type { UserDirectory } from '../auth/users.ts';
import type { ScreenplayDocument } from '../interchange/document.ts';
import { InterchangeParseError, type InterchangeFormat } from '../interchange/errors.ts';
import { headingOfBlocks, TooManyScenesError, type ScriptImporter } from '../interchange/importer.ts';
import { ExportSourceMissingError, type LiveScriptReader } from '../interchange/liveScript.ts';
import { SceneNotFoundError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { SceneReader } from '../scenes/reader.ts';
import type { SceneContentWriter } from '../scenes/writer.ts';
import type { ScriptStore } from '../scripts/scriptStore.ts';
import { authorizeScene, authorizeScript, principalOf, requireKnownUser, requireUser } from './auth.ts';
import { badRequest, HttpError, notFound } from './errors.ts';
import { mapWriteError, sceneJson } from './scenes.ts';
import { scriptJson } from './scripts.ts';
import { parseInput, sceneParams, scriptParams, uuidParam } from './validation.ts';
import type { YjsWork } from '../workers/pool.ts';

export interface InterchangeRoutesDeps {
  verifier: TokenVerifier;
  access: AccessControl;
  users: UserDirectory;
  store: ScriptStore;
  importer: ScriptImporter;
  live: LiveScriptReader;
  reader: SceneReader;
  writer: SceneContentWriter;
  logger: Logger;
  /** Largest file an import takes (`IMPORT_MAX_BYTES`); a larger one is a 413. */
  importMaxBytes: number;
  /** Where files are parsed and written (the worker pool): a large one takes the CPU for up to a second. */
  work: YjsWork;
}


const importFormat = z.enum(['fountain', 'fdx'], { message: 'must be "fountain" or "fdx"' });
const importScriptQuery = z.strictObject({ format: importFormat.optional(), title: z.string().optional() });
const importSceneQuery = z.strictObject({ format: importFormat.optional() });
const queryBoolean = z.enum(['true', 'false'], { message: 'must be "true" or "false"' }).transform((value) => value === 'true');
// scene_numbers and title_page are the PDF's options (src/interchange/README.md, "PDF"); the
// other formats carry scene numbers and the title page as data, so there they are refused.
const exportQuery = z
  .strictObject({
    format: z.enum(['fountain', 'fdx', 'pdf'], { message: 'must be "fountain", "fdx" or "pdf"' }),
    scene_numbers: queryBoolean.optional(),
    title_page: queryBoolean.optional(),
  })
  .refine((query) => query.format === 'pdf' || (query.scene_numbers === undefined && query.title_page === undefined), {
    message: 'scene_numbers and title_page apply to format=pdf only',
  });
type ExportQuery = z.infer<typeof exportQuery>;

// What a file's Content-Type says its format is. A generic type (or none) is read from the file
// itself: XML is FDX, anything else Fountain (plain text is Fountain's only form).
const FORMAT_OF_CONTENT_TYPE: Record<string, InterchangeFormat | 'sniff'> = {
  'text/x-fountain': 'fountain',
  'text/fountain': 'fountain',
  'application/x-fountain': 'fountain',
  'text/plain': 'sniff',
  'application/xml': 'fdx',
  'text/xml': 'fdx',
  'application/x-fdx': 'fdx',
  'application/vnd.final-draft+xml': 'fdx',
  'application/octet-stream': 'sniff',
};

const EXPORT_TYPES = {
  fountain: { contentType: 'text/plain; charset=utf-8', extension: 'fountain' },
  fdx: { contentType: 'application/xml; charset=utf-8', extension: 'fdx' },
  pdf: { contentType: 'application/pdf', extension: 'pdf' },
} as const;

/** The file's format: the `format` query field, else its Content-Type, else (generic or none) its first byte. */
function formatOf(req: Request, bytes: Uint8Array, requested: InterchangeFormat | undefined): InterchangeFormat {
  if (requested) return requested;
  const mediaType = (req.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const byType = mediaType === '' ? 'sniff' : FORMAT_OF_CONTENT_TYPE[mediaType];
  if (byType === undefined) {
    throw badRequest(
      `Content-Type ${mediaType} is not a screenplay file: send Fountain (text/plain, text/x-fountain) or Final Draft (application/xml), or name it with ?format=fountain|fdx`,
      'UNSUPPORTED_CONTENT_TYPE',
    );
  }
  if (byType !== 'sniff') return byType;
  let start = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  while (start < bytes.length && (bytes[start] === 0x20 || bytes[start] === 0x09 || bytes[start] === 0x0a || bytes[start] === 0x0d)) start++;
  return bytes[start] === 0x3c /* < */ ? 'fdx' : 'fountain';
}

/** The raw file of an import: any Content-Type but JSON (express.json has read that one already). */
function fileOf(req: Request): Uint8Array {
  if (!Buffer.isBuffer(req.body)) {
    throw badRequest('Send the file itself as the body (Fountain text or Final Draft XML), not JSON', 'UNSUPPORTED_CONTENT_TYPE');
  }
  return req.body;
}

async function parseFile(work: YjsWork, bytes: Uint8Array, format: InterchangeFormat): Promise<ScreenplayDocument> {
  try {
    return await work.parseScreenplay(bytes, format);
  } catch (error) {
    if (error instanceof InterchangeParseError) {
      throw new HttpError(400, error.code, error.message, { format: error.format, location: error.location });
    }
    throw error;
  }
}

/** `Night Shift` -> `Night Shift.fountain`; characters a file name cannot hold become `_`. */
export function exportFileName(title: string, extension: string): { ascii: string; encoded: string } {
  const base = title.trim().replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, '_').slice(0, 150) || 'screenplay';
  const name = `${base}.${extension}`;
  return { ascii: name.replace(/[^\x20-\x7e]/g, '_'), encoded: encodeURIComponent(name) };
}

async function sendExport(work: YjsWork, res: Response, doc: ScreenplayDocument, query: ExportQuery, title: string): Promise<void> {
  const { format } = query;
  const type = EXPORT_TYPES[format];
  const body = await work.writeScreenplay(doc, format, { sceneNumbers: query.scene_numbers ?? false, titlePage: query.title_page ?? true });
  const { ascii, encoded } = exportFileName(title, type.extension);
  res.set('Content-Type', type.contentType);
  res.set('Content-Disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`);
  res.send(typeof body === 'string' ? body : Buffer.from(body));
}

function missing(error: unknown): unknown {
  return error instanceof ExportSourceMissingError ? notFound(error.message, 'NOT_FOUND') : error;
}

/**
 * Screenplay files in and out (src/interchange): import a Fountain or Final Draft file as a new
 * script or into one scene, export a script or a scene as Fountain, FDX or PDF. Exports read the
 * live state (the loaded document or the log), and anyone who may read the script may export it.
 */
export function interchangeRoutes(deps: InterchangeRoutesDeps): Router {
  const { verifier, access, users, store, importer, live, reader, writer } = deps;
  const router = Router();
  const authenticated = requireUser(verifier);
  // The file as bytes, whatever its type: the format is decided from the query, the type or the file.
  const rawFile = express.raw({ type: (req) => !req.headers['content-type']?.toLowerCase().startsWith('application/json'), limit: deps.importMaxBytes });

  router.post('/api/scripts/import', authenticated, rawFile, async (req, res) => {
    const principal = principalOf(res);
    const query = parseInput(importScriptQuery, req.query, 'query');
    const bytes = fileOf(req);
    const format = formatOf(req, bytes, query.format);
    const document = await parseFile(deps.work, bytes, format);
    await requireKnownUser(users, principal);
    let imported;
    try {
      imported = await importer.importScript(principal.userId, document, query.title === undefined ? {} : { title: query.title });
    } catch (error) {
      if (error instanceof TooManyScenesError) throw new HttpError(413, error.code, error.message, { scenes: error.scenes, max_scenes: error.maxScenes });
      throw error;
    }
    const script = await store.script(imported.scriptId);
    if (!script) throw notFound(`Script ${imported.scriptId} was deleted during the import`, 'UNKNOWN_SCRIPT');
    res.status(201).json({
      ...scriptJson(script, { role: 'owner', sceneCount: imported.sceneIds.length }),
      format,
      scenes: imported.sceneIds.map((sceneId, index) => ({
        sceneUUID: sceneId,
        sceneIndex: index,
        slugline: headingOfBlocks(imported.document.scenes[index]!.blocks),
        block_count: imported.document.scenes[index]!.blocks.length,
      })),
    });
  });

  router.post('/api/scenes/:sceneId/import', authenticated, rawFile, async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    const query = parseInput(importSceneQuery, req.query, 'query');
    const principal = principalOf(res);
    await authorizeScene(access, principal, sceneId, 'write');
    const bytes = fileOf(req);
    const format = formatOf(req, bytes, query.format);
    const document = await parseFile(deps.work, bytes, format);
    // The whole file becomes the scene's content, as a PATCH without base_seq: stored, then applied.
    const blocks = document.scenes.flatMap((scene) => scene.blocks);
    let result;
    try {
      result = await writer.write(sceneId, principal.userId, { blocks }, { kind: 'import' });
    } catch (error) {
      throw mapWriteError(error, sceneId, deps.logger);
    }
    let view;
    try {
      view = await reader.scene(sceneId);
    } catch (error) {
      if (error instanceof SceneNotFoundError) throw notFound(`Scene ${sceneId} was deleted`, 'UNKNOWN_SCENE');
      throw error;
    }
    res.json({
      ...sceneJson(view),
      format,
      // A scene has no title page: the file's is not kept, and the answer says so.
      title_page_ignored: Object.keys(document.titlePage).length > 0,
      patch: {
        changed: result.changed,
        version_id: result.changed ? result.appended.versionId : null,
        seq: result.changed ? Number(result.appended.seq) : null,
      },
    });
  });

  router.get('/api/scripts/:scriptId/export', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    await authorizeScript(access, principalOf(res), scriptId);
    const query = parseInput(exportQuery, req.query, 'query');
    const doc = await live.script(scriptId).catch((error: unknown) => Promise.reject(missing(error)));
    await sendExport(deps.work, res, doc, query, doc.title);
  });

  router.get('/api/scenes/:sceneId/export', authenticated, async (req, res) => {
    const { sceneId } = parseInput(sceneParams, req.params, 'path');
    const grant = await authorizeScene(access, principalOf(res), sceneId, 'read');
    const query = parseInput(exportQuery, req.query, 'query');
    const doc = await live.scene(grant.scriptId, sceneId).catch((error: unknown) => Promise.reject(missing(error)));
    const heading = doc.scenes[0]!.blocks[0]?.type === 'scene_heading' ? ` - ${doc.scenes[0]!.blocks[0]!.text}` : '';
    // A scene alone has no title page unless asked for (then the script's title on it).
    await sendExport(deps.work, res, doc, { ...query, title_page: query.title_page ?? false }, `${doc.title}${heading}`);
  });

  return router;
}
