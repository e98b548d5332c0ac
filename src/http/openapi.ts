import type { Express } from 'express';

/**
 * The OpenAPI 3.1 description of the HTTP API, written as a plain object so it is reviewed with
 * the routes it describes. A test walks the mounted Express routes and fails when one is missing
 * here, so the document cannot silently fall behind.
 */

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const json = (schemaRef: string, description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${schemaRef}` } } },
});

const authErrors = {
  '401': errorResponse('Missing, malformed, expired or badly signed token, or a token for a user that does not exist'),
  '503': errorResponse('Access could not be checked (database unavailable); retry'),
};

const sceneIdParameter = {
  name: 'sceneId',
  in: 'path',
  required: true,
  description: 'Scene UUID, canonical lower-case form',
  schema: { type: 'string', format: 'uuid', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' },
};

const restBlock = {
  type: 'object',
  required: ['type'],
  description:
    'A REST block (scenes.content_blocks element): type scene_heading, action, character, dialogue, parenthetical, transition, centered, general (other types are kept as unknown blocks); text; optional id, character, metadata, marks [{type: bold|italic|underline, from, to}] in UTF-16 code units; any other field is carried through.',
  properties: {
    type: { type: 'string', minLength: 1 },
    text: { type: 'string' },
    id: {},
    character: { type: ['string', 'null'] },
    metadata: { type: ['object', 'null'] },
    marks: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        required: ['type', 'from', 'to'],
        properties: { type: { enum: ['bold', 'italic', 'underline'] }, from: { type: 'integer' }, to: { type: 'integer' } },
      },
    },
  },
  additionalProperties: true,
};

const divergenceReport = {
  type: 'object',
  description: 'Architecture document section 4.5. Checksums are SHA-256 of the canonical JSON of each side.',
  properties: {
    diverged: { type: 'boolean' },
    scene_id: { type: 'string', format: 'uuid' },
    cause: { enum: ['in_sync', 'no_yjs_log', 'snapshot_lag', 'rest_modified', 'content_mismatch', 'invalid_rest', 'yjs_unreadable'] },
    yjs_block_count: { type: 'integer' },
    rest_block_count: { type: 'integer' },
    yjs_checksum: { type: ['string', 'null'] },
    rest_checksum: { type: ['string', 'null'] },
    yjs_seq: { type: ['integer', 'null'] },
    rest_snapshot_seq: { type: ['integer', 'null'] },
    diff: {
      type: ['object', 'null'],
      description: 'Bounded block-level diff (at most 20 entries, texts cut to 120 characters)',
      properties: {
        only_in_yjs: { type: 'integer' },
        only_in_rest: { type: 'integer' },
        changed: { type: 'integer' },
        truncated: { type: 'boolean' },
        entries: { type: 'array', items: { type: 'object' } },
      },
    },
    severity: { enum: ['minor', 'moderate', 'critical', null] },
    recommended_action: { enum: ['none', 'create_snapshot', 'auto_repair_prefer_yjs', 'investigate_yjs_state'] },
    yjs_error: { type: ['string', 'null'], description: 'Why the Yjs state could not be converted (cause yjs_unreadable)' },
    rest_error: { type: ['string', 'null'], description: 'Why the REST copy is not a valid block list (cause invalid_rest)' },
    checked_at: { type: 'string', format: 'date-time' },
  },
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'writersroom-collab HTTP API',
    version: '0.1.0',
    description:
      'Scenes, snapshots, divergence and health of the Yjs-primary screenplay backend. The Yjs log (scene_versions) is the source of truth; ' +
      'scenes.content_blocks is a derived REST copy. Errors are JSON {error, code}: bad input 400, missing or invalid token 401, no access 403, ' +
      'unknown ids 404, body over the limit 413; never a 500 for bad input. Sequence numbers ("seq") are per scene: the content returned is exactly the log up to seq.',
  },
  components: {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'HS256; sub = users.user_id; claim admin: true marks an administrator' },
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error', 'code'],
        properties: {
          error: { type: 'string' },
          code: { type: 'string', description: 'Stable, e.g. BAD_REQUEST, INVALID_JSON, PAYLOAD_TOO_LARGE, MISSING_TOKEN, TOKEN_EXPIRED, NO_ACCESS, UNKNOWN_SCENE' },
          issues: { type: 'array', items: { type: 'object' } },
        },
      },
      RestBlock: restBlock,
      Scene: {
        type: 'object',
        properties: {
          sceneUUID: { type: 'string', format: 'uuid' },
          scriptUUID: { type: 'string', format: 'uuid' },
          slugline: { type: ['string', 'null'] },
          sceneIndex: { type: 'integer' },
          version: { type: 'integer', description: 'Metadata only, not enforced' },
          seq: {
            type: ['integer', 'null'],
            description: 'content is exactly the log up to this sequence number (send it as base_seq with a PATCH); null for a scene without a Yjs log',
          },
          content: { type: 'object', properties: { blocks: { type: 'array', items: { $ref: '#/components/schemas/RestBlock' } } } },
          metadata: {
            type: 'object',
            properties: {
              source: { type: 'string', description: '"yjs" when derived from the log, else the REST copy\'s snapshot_source (rest, migrated, ...)' },
              derived_from: { enum: ['snapshot', 'live_document', 'replay', 'rest_copy'] },
              snapshot_at: { type: ['string', 'null'], format: 'date-time' },
              snapshot_seq: { type: ['integer', 'null'] },
              snapshot_freshness: { enum: ['fresh', 'stale', 'very_stale', 'never'] },
              yjs_update_count: { type: 'integer' },
              last_modified: { type: 'string', format: 'date-time' },
              yjs_error: { type: 'string', description: 'Present when the Yjs state could not be converted and the REST copy was served' },
            },
          },
        },
      },
      SceneList: {
        type: 'object',
        properties: { scriptUUID: { type: 'string', format: 'uuid' }, scenes: { type: 'array', items: { $ref: '#/components/schemas/Scene' } } },
      },
      ContentPatch: {
        type: 'object',
        description:
          'Exactly one of blocks (REST blocks) or doc (TipTap JSON of the screenplay schema), optionally base_seq. Unknown fields are refused. ' +
          'With base_seq (the seq of the read the content was edited from) the change is computed against the scene as it was then and merges with every edit since, like an editor that was offline; ' +
          'without it the scene becomes the content sent, overwriting what the server already has where they differ.',
        properties: {
          base_seq: { type: 'integer', minimum: 1 },
          blocks: { type: 'array', items: { $ref: '#/components/schemas/RestBlock' } },
          doc: { type: 'object', description: 'TipTap / ProseMirror JSON: {"type": "doc", "content": [...]}' },
        },
        additionalProperties: false,
      },
      PatchedScene: {
        allOf: [
          { $ref: '#/components/schemas/Scene' },
          {
            type: 'object',
            properties: {
              patch: {
                type: 'object',
                properties: { changed: { type: 'boolean' }, version_id: { type: ['string', 'null'] }, seq: { type: ['integer', 'null'] } },
              },
            },
          },
        ],
      },
      History: {
        type: 'object',
        properties: {
          sceneUUID: { type: 'string', format: 'uuid' },
          at: { type: 'string', format: 'date-time' },
          seq: { type: ['integer', 'null'] },
          update_count: { type: 'integer' },
          has_gap: { type: 'boolean' },
          content: { type: 'object', properties: { blocks: { type: 'array', items: { $ref: '#/components/schemas/RestBlock' } } } },
        },
      },
      SnapshotRequest: {
        type: 'object',
        additionalProperties: false,
        properties: {
          force: { type: 'boolean', default: false, description: 'Create even if a snapshot younger than the interval exists' },
          validate: { type: 'boolean', default: false, description: 'Return the divergence report before and after' },
        },
      },
      SnapshotResponse: {
        type: 'object',
        properties: {
          snapshot_id: { type: ['string', 'null'] },
          scene_id: { type: 'string' },
          written: { type: 'boolean', description: 'False when a snapshot of the same or a newer state already existed (guarded write)' },
          source: { const: 'yjs' },
          created_at: { type: 'string', format: 'date-time' },
          seq: { type: 'integer' },
          yjs_update_count: { type: 'integer' },
          generation_time_ms: { type: 'integer' },
          snapshot_size_bytes: { type: 'integer' },
          checksum: { type: 'string' },
          validation: {
            type: ['object', 'null'],
            properties: {
              passed: { type: 'boolean' },
              diverged: { type: 'boolean' },
              checksum_match: { type: 'boolean' },
              report: { $ref: '#/components/schemas/DivergenceReport' },
              previous: { $ref: '#/components/schemas/DivergenceReport' },
            },
          },
        },
      },
      DivergenceReport: divergenceReport,
      HistoryPoint: {
        type: 'object',
        description: 'Exactly one of at (ISO 8601 date-time with zone), seq (log sequence number; 0 = before the first update) or label (name or id)',
        additionalProperties: false,
        properties: { at: { type: 'string', format: 'date-time' }, seq: { type: 'integer', minimum: 0 }, label: { type: 'string', minLength: 1, maxLength: 200 } },
      },
      LabelRequest: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100, description: 'Trimmed; no control characters; not all digits, not an ISO instant, not a UUID' },
          at: { type: 'string', format: 'date-time', description: 'The instant to label (default: now); with a zone, not in the future' },
        },
      },
      SceneLabel: {
        type: 'object',
        properties: {
          labelUUID: { type: 'string', format: 'uuid' },
          sceneUUID: { type: 'string', format: 'uuid' },
          name: { type: 'string' },
          seq: { type: ['integer', 'null'], description: 'Newest update the labelled state includes; null for a scene with none' },
          labelled_at: { type: 'string', format: 'date-time' },
          created_at: { type: 'string', format: 'date-time' },
          created_by: { type: ['string', 'null'], format: 'uuid' },
          script_label_id: { type: ['string', 'null'], format: 'uuid' },
        },
      },
      SceneLabelList: {
        type: 'object',
        properties: { sceneUUID: { type: 'string', format: 'uuid' }, labels: { type: 'array', items: { $ref: '#/components/schemas/SceneLabel' } } },
      },
      ScriptLabel: {
        type: 'object',
        properties: {
          labelUUID: { type: 'string', format: 'uuid' },
          scriptUUID: { type: 'string', format: 'uuid' },
          name: { type: 'string' },
          labelled_at: { type: 'string', format: 'date-time' },
          created_at: { type: 'string', format: 'date-time' },
          created_by: { type: ['string', 'null'], format: 'uuid' },
          scene_count: { type: 'integer' },
        },
      },
      RestoreResponse: {
        type: 'object',
        properties: {
          sceneUUID: { type: 'string', format: 'uuid' },
          restored_from: {
            type: 'object',
            properties: {
              point: { $ref: '#/components/schemas/HistoryPoint' },
              seq: { type: ['integer', 'null'], description: 'The seq the point stands for' },
              label: { type: ['object', 'null'], properties: { labelUUID: { type: 'string' }, name: { type: 'string' } } },
            },
          },
          changed: { type: 'boolean' },
          seq: { type: ['integer', 'null'], description: 'Seq of the restoring change; null when nothing changed' },
          version_id: { type: ['string', 'null'], format: 'uuid' },
        },
      },
      PersistenceHealth: {
        type: 'object',
        description: 'Architecture document section 7.3',
        properties: {
          status: { enum: ['healthy', 'degraded', 'unhealthy'] },
          yjs_persistence: { type: 'object' },
          snapshot_service: { type: 'object' },
          divergence_detection: { type: 'object' },
          compaction: { type: ['object', 'null'] },
        },
      },
      DivergenceStatus: {
        type: 'object',
        properties: {
          status: { enum: ['ok', 'warning', 'critical'] },
          divergence_rate: { type: 'number', description: 'Fraction of checked scenes (0.002 = 0.2%)' },
          scenes_checked: { type: 'integer' },
          scenes_diverged: { type: 'integer' },
          scenes_lagging: { type: 'integer' },
          diverged: { type: 'array', items: { type: 'object' } },
        },
      },
    },
  },
  paths: {
    '/api/health/live': {
      get: { summary: 'Liveness', tags: ['health'], responses: { '200': { description: 'The process runs' } } },
    },
    '/api/health/ready': {
      get: {
        summary: 'Readiness (database reachable)',
        tags: ['health'],
        responses: { '200': { description: 'Ready' }, '503': errorResponse('Database unreachable') },
      },
    },
    '/api/health/persistence': {
      get: {
        summary: 'Persistence health with real figures (section 7.3)',
        tags: ['health'],
        responses: { '200': json('PersistenceHealth', 'Figures'), '503': errorResponse('Database unreachable') },
      },
    },
    '/api/health/divergence-status': {
      get: {
        summary: 'Result of the latest divergence sweep (bounded; reused for a minute)',
        tags: ['health'],
        responses: { '200': json('DivergenceStatus', 'Sweep result') },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text exposition format)',
        tags: ['health'],
        responses: { '200': { description: 'Prometheus text', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    '/api/openapi.json': {
      get: { summary: 'This document', tags: ['meta'], responses: { '200': { description: 'OpenAPI 3.1 document' } } },
    },
    '/': {
      get: {
        summary: 'The screenplay editor page (built by "npm run build:web"; mounted when the server is started with the page)',
        tags: ['editor'],
        responses: { '200': { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } }, '503': errorResponse('The page has not been built') },
      },
    },
    '/editor/config.json': {
      get: {
        summary: 'What the editor page needs to connect: WebSocket port, schema version, whether development tokens are issued, the demo script',
        tags: ['editor'],
        responses: { '200': { description: '{wsPort, schemaVersion, devTokens, demo}' } },
      },
    },
    '/api/dev/token': {
      post: {
        summary: 'Development only (no AUTH_JWT_SECRET, not production): issue a token to a loopback client',
        tags: ['auth'],
        requestBody: {
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: { userId: { type: 'string', format: 'uuid' }, email: { type: 'string', format: 'email' }, admin: { type: 'boolean' } },
              },
            },
          },
        },
        responses: { '200': { description: '{token, userId, admin, expiresAt}' }, '400': errorResponse('Bad input'), '403': errorResponse('Not a loopback request'), '404': errorResponse('Unknown user') },
      },
    },
    '/api/scripts/{scriptId}/scenes': {
      get: {
        summary: 'Scenes of a script by position (section 7.1)',
        description:
          'Content comes from the Yjs log when the scene has one: the stored snapshot when it is current, else the document loaded on this instance, else a replay. Scenes without a log return their REST copy.',
        tags: ['scenes'],
        security: [{ bearerAuth: [] }],
        parameters: [{ ...sceneIdParameter, name: 'scriptId', description: 'Script UUID, canonical lower-case form' }],
        responses: {
          '200': json('SceneList', 'Scenes'),
          '400': errorResponse('Malformed script id'),
          '403': errorResponse('Not the owner or a collaborator'),
          '404': errorResponse('Unknown script'),
          ...authErrors,
        },
      },
    },
    '/api/scenes/{sceneId}': {
      get: {
        summary: 'One scene, with the sequence number its content was derived from',
        tags: ['scenes'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter],
        responses: {
          '200': json('Scene', 'Scene'),
          '400': errorResponse('Malformed scene id'),
          '403': errorResponse('Not the owner or a collaborator'),
          '404': errorResponse('Unknown scene'),
          ...authErrors,
        },
      },
    },
    '/api/scenes/{sceneId}/content': {
      patch: {
        summary: 'Replace the scene content; applied to the live document as a minimal change',
        description:
          'The change (y-prosemirror updateYFragment against the live document) is appended to the log through the group commit, then applied to the live document, so connected editors see it at once and concurrent edits merge. The response is sent after the commit. Owner, editor or administrator.',
        tags: ['scenes'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/ContentPatch' } } } },
        responses: {
          '200': json('PatchedScene', 'The scene after the change'),
          '400': errorResponse('Malformed id, not JSON, invalid blocks or TipTap JSON, unknown fields, base_seq ahead of the log (BASE_SEQ_AHEAD)'),
          '403': errorResponse('Viewer or stranger'),
          '404': errorResponse('Unknown scene'),
          '409': errorResponse('base_seq older than what retention kept (BASE_NOT_RETAINED), or the live document holds content the server cannot convert'),
          '413': errorResponse('Body over the limit'),
          ...authErrors,
        },
      },
    },
    '/api/scenes/{sceneId}/history': {
      get: {
        summary: 'The scene as it was at an instant, from the retained log',
        tags: ['scenes'],
        security: [{ bearerAuth: [] }],
        parameters: [
          sceneIdParameter,
          { name: 'at', in: 'query', required: true, description: 'ISO 8601 date-time with a time zone', schema: { type: 'string', format: 'date-time' } },
        ],
        responses: {
          '200': json('History', 'Content at that instant'),
          '400': errorResponse('Malformed id or time'),
          '403': errorResponse('Not the owner or a collaborator'),
          '404': errorResponse('Unknown scene'),
          '410': errorResponse('Retention already deleted updates that instant depends on'),
          ...authErrors,
        },
      },
    },
    '/api/scenes/{sceneId}/snapshot': {
      post: {
        summary: 'Derive the REST copy from Yjs now (section 7.2)',
        tags: ['snapshots'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter],
        requestBody: { required: false, content: { 'application/json': { schema: { $ref: '#/components/schemas/SnapshotRequest' } } } },
        responses: {
          '201': json('SnapshotResponse', 'Snapshot written'),
          '200': json('SnapshotResponse', 'A snapshot of the same or a newer state already existed; nothing written'),
          '400': errorResponse('Malformed id or body, or a snapshot younger than the interval exists and force is false (SNAPSHOT_TOO_RECENT)'),
          '403': errorResponse('Not the owner or an administrator'),
          '404': errorResponse('Unknown scene'),
          '409': errorResponse('No Yjs log yet (NO_YJS_LOG) or Yjs state not convertible'),
          ...authErrors,
        },
      },
    },
    // Labels (named versions) and restore: src/history, src/http/labels.ts, src/http/restore.ts.
    '/api/scenes/{sceneId}/labels': {
      post: {
        summary: 'Label the scene as it is now, or as it was at "at" (a named version)',
        description:
          'The label keeps the Yjs state of that point, so it stays restorable whatever compaction and retention delete later. Names are unique per scene. Owner, editor or administrator.',
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/LabelRequest' } } } },
        responses: {
          '201': json('SceneLabel', 'The label'),
          '400': errorResponse('Malformed id, not JSON, unknown fields, a bad name (empty, over 100 characters, control characters, all digits, an instant or a UUID), "at" without a zone or in the future'),
          '403': errorResponse('Viewer or stranger'),
          '404': errorResponse('Unknown scene'),
          '409': errorResponse('The scene already has a label of that name (LABEL_NAME_TAKEN)'),
          '410': errorResponse('Retention already deleted updates that instant depends on (HISTORY_NOT_RETAINED)'),
          ...authErrors,
        },
      },
      get: {
        summary: "The scene's labels, oldest first",
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter],
        responses: {
          '200': json('SceneLabelList', 'Labels'),
          '400': errorResponse('Malformed scene id'),
          '403': errorResponse('Not the owner or a collaborator'),
          '404': errorResponse('Unknown scene'),
          ...authErrors,
        },
      },
    },
    '/api/scenes/{sceneId}/labels/{labelId}': {
      delete: {
        summary: 'Delete a label of the scene',
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter, { ...sceneIdParameter, name: 'labelId', description: 'Label UUID' }],
        responses: {
          '200': { description: '{deleted: SceneLabel}' },
          '400': errorResponse('Malformed id'),
          '403': errorResponse('Viewer or stranger'),
          '404': errorResponse('Unknown scene or label (UNKNOWN_LABEL)'),
          '409': errorResponse('The label is part of a script label; delete that (LABEL_OF_SCRIPT_LABEL)'),
          ...authErrors,
        },
      },
    },
    '/api/scripts/{scriptId}/labels': {
      post: {
        summary: 'Label every scene of the script at one instant (one transaction)',
        description: 'Makes a script label and, in every scene, a scene label of the same name. Owner, editor or administrator.',
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [{ ...sceneIdParameter, name: 'scriptId', description: 'Script UUID, canonical lower-case form' }],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/LabelRequest' } } } },
        responses: {
          '201': { description: 'The script label (ScriptLabel) with `scenes`: the scene labels it made' },
          '400': errorResponse('Malformed id, not JSON, unknown fields, a bad name, "at" without a zone or in the future'),
          '403': errorResponse('Viewer or stranger'),
          '404': errorResponse('Unknown script'),
          '409': errorResponse('The script or one of its scenes already has a label of that name (LABEL_NAME_TAKEN); nothing was labelled'),
          '410': errorResponse('Retention already deleted updates that instant depends on in some scene; nothing was labelled'),
          ...authErrors,
        },
      },
      get: {
        summary: "The script's labels, oldest first",
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [{ ...sceneIdParameter, name: 'scriptId', description: 'Script UUID, canonical lower-case form' }],
        responses: {
          '200': { description: '{scriptUUID, labels: [ScriptLabel]}' },
          '400': errorResponse('Malformed script id'),
          '403': errorResponse('Not the owner or a collaborator'),
          '404': errorResponse('Unknown script'),
          ...authErrors,
        },
      },
    },
    '/api/scripts/{scriptId}/labels/{labelId}': {
      delete: {
        summary: 'Delete a script label and the scene labels it made',
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [
          { ...sceneIdParameter, name: 'scriptId', description: 'Script UUID, canonical lower-case form' },
          { ...sceneIdParameter, name: 'labelId', description: 'Script label UUID' },
        ],
        responses: {
          '200': { description: '{deleted: ScriptLabel}' },
          '400': errorResponse('Malformed id'),
          '403': errorResponse('Viewer or stranger'),
          '404': errorResponse('Unknown script or label (UNKNOWN_LABEL)'),
          ...authErrors,
        },
      },
    },
    '/api/scenes/{sceneId}/restore': {
      post: {
        summary: 'Bring the scene back to its content at an instant, a seq or a label',
        description:
          'A forward change through the PATCH path (no base_seq: the scene becomes that content): appended to the log, then applied to the live document, so connected editors see it at once. Nothing in the log is rewritten; a restore can itself be restored away. The response is sent after the commit. Owner, editor or administrator.',
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/HistoryPoint' } } } },
        responses: {
          '200': json('RestoreResponse', 'Restored (or already that content: changed false)'),
          '400': errorResponse('Malformed id, not JSON, unknown fields, not exactly one of at/seq/label, a seq ahead of the log (SEQ_AHEAD)'),
          '403': errorResponse('Viewer or stranger'),
          '404': errorResponse('Unknown scene or label (UNKNOWN_LABEL)'),
          '409': errorResponse('The content at that point cannot be converted (YJS_CONTENT_UNCONVERTIBLE)'),
          '410': errorResponse('Retention already deleted updates that point depends on (HISTORY_NOT_RETAINED)'),
          ...authErrors,
          '503': errorResponse('Access could not be checked, or the change could not be stored (nothing was applied); retry'),
        },
      },
    },
  },
} as const;

export interface MountedRoute {
  method: string;
  /** OpenAPI form: `/api/scenes/{sceneId}`. */
  path: string;
}

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** Every route mounted on the app (routers mounted at the root included), for the coverage test. */
export function mountedRoutes(app: Express): MountedRoute[] {
  const routes: MountedRoute[] = [];
  const walk = (stack: Layer[]) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const path of paths) {
          for (const [method, enabled] of Object.entries(layer.route.methods)) {
            if (enabled && method !== '_all') routes.push({ method, path: path.replace(/:([A-Za-z0-9_]+)/g, '{$1}') });
          }
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack);
  return routes;
}
