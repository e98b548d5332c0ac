import type { Express } from 'express';
import { changeFeedPaths } from './openapiChanges.ts';

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

const scriptIdParameter = { ...sceneIdParameter, name: 'scriptId', description: 'Script UUID, canonical lower-case form' };

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

const listingParameters = [
  { name: 'cursor', in: 'query', required: false, description: 'next_cursor of the previous page (opaque; bound to the scene and the listing)', schema: { type: 'string' } },
  { name: 'limit', in: 'query', required: false, description: 'Page size, 1..200 (default 50)', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
];

const windowParameters = [
  { name: 'user', in: 'query', required: false, description: 'Only this writer: a users.user_id (lower-case UUID) or an email (case-insensitive)', schema: { type: 'string' } },
  { name: 'from', in: 'query', required: false, description: 'Rows created at or after (ISO 8601 date-time with a time zone)', schema: { type: 'string', format: 'date-time' } },
  { name: 'to', in: 'query', required: false, description: 'Rows created at or before, the whole millisecond named included (ISO 8601 date-time with a time zone)', schema: { type: 'string', format: 'date-time' } },
];

const nextCursor = { type: ['string', 'null'], description: 'Pass as cursor for the next page; null on the last page' };

/** The query of both export routes; only the title page's default differs. */
function exportParameters(titlePage: string) {
  return [
    { name: 'format', in: 'query', required: true, schema: { type: 'string', enum: ['fountain', 'fdx', 'pdf'] } },
    { name: 'scene_numbers', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] }, description: 'PDF only: scene numbers in both margins (default false)' },
    { name: 'title_page', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] }, description: titlePage },
  ];
}

const exportResponses = {
  '200': {
    description:
      'The file: text/plain; charset=utf-8 (Fountain, canonical form), application/xml; charset=utf-8 (FDX) or application/pdf, with Content-Disposition: attachment and a file name from the title',
    content: { 'text/plain': { schema: { type: 'string' } }, 'application/xml': { schema: { type: 'string' } }, 'application/pdf': { schema: { type: 'string', format: 'binary' } } },
  },
  '400': errorResponse('Malformed id, a missing or unknown format, a PDF option with another format, an unknown query field'),
  '403': errorResponse('Not the owner or a collaborator'),
  '404': errorResponse('Unknown or deleted'),
  ...authErrors,
};

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'writersroom-collab HTTP API',
    version: '0.1.0',
    description:
      'Scenes, snapshots, divergence and health of the Yjs-primary screenplay backend. The Yjs log (scene_versions) is the source of truth; ' +
      'scenes.content_blocks is a derived REST copy. Errors are JSON {error, code}: bad input 400, missing or invalid token 401, no access 403, ' +
      'unknown ids 404, body over the limit 413, a deleted scene 410 SCENE_DELETED on every route that names it by id (/api/scenes/{sceneId}/...); never a 500 for bad input. Sequence numbers ("seq") are per scene: the content returned is exactly the log up to seq.',
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
      VersionList: {
        type: 'object',
        properties: {
          sceneUUID: { type: 'string', format: 'uuid' },
          versions: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                version_id: { type: 'string', format: 'uuid' },
                seq: { type: 'integer' },
                created_at: { type: 'string', format: 'date-time' },
                created_by: { type: ['string', 'null'], format: 'uuid', description: 'null: written by the server (seeding, repairs) or a compacted row' },
                created_by_email: { type: ['string', 'null'] },
                size_bytes: { type: 'integer' },
                compacted_count: { type: 'integer', description: 'Updates the row holds' },
                is_compacted: { type: 'boolean' },
                merged: { type: 'boolean', description: 'Compaction merged this row into compacted_by; retention deletes it later' },
                compacted_by: { type: ['string', 'null'], format: 'uuid' },
              },
            },
          },
          next_cursor: nextCursor,
        },
      },
      SessionList: {
        type: 'object',
        properties: {
          sceneUUID: { type: 'string', format: 'uuid' },
          gap_seconds: { type: 'integer' },
          sessions: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                user_id: { type: ['string', 'null'], format: 'uuid', description: 'The writer; null for rows the server wrote (seeding, repairs) or whose user was deleted' },
                email: { type: ['string', 'null'] },
                started_at: { type: 'string', format: 'date-time' },
                ended_at: { type: 'string', format: 'date-time' },
                rows: { type: 'integer' },
                updates: { type: 'integer' },
                bytes: { type: 'integer', description: 'Bytes of the rows (the size of the change as stored)' },
                first_seq: { type: 'integer' },
                last_seq: { type: 'integer' },
              },
            },
          },
          next_cursor: nextCursor,
        },
      },
      SnapshotList: {
        type: 'object',
        properties: {
          sceneUUID: { type: 'string', format: 'uuid' },
          snapshots: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                snapshot_id: { type: 'string', format: 'uuid' },
                created_at: { type: 'string', format: 'date-time' },
                snapshot_source: { type: 'string' },
                created_by: { type: ['string', 'null'], format: 'uuid' },
                created_by_email: { type: ['string', 'null'] },
                yjs_version_count: { type: 'integer' },
                yjs_latest_version_id: { type: ['string', 'null'], format: 'uuid' },
                yjs_latest_seq: { type: ['integer', 'null'] },
                yjs_checksum: { type: 'string' },
                generation_time_ms: { type: ['integer', 'null'] },
                snapshot_size_bytes: { type: ['integer', 'null'] },
              },
            },
          },
          next_cursor: nextCursor,
        },
      },
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
              lifecycle: {
                enum: ['CREATED', 'YJS_INITIAL', 'YJS_SYNCED', 'YJS_ACTIVE', 'YJS_COMPACTED', 'YJS_ARCHIVED'],
                description:
                  "The scene's lifecycle state (architecture document 8.1): CREATED no Yjs update yet; YJS_INITIAL updates, REST copy never derived from them; YJS_SYNCED REST copy at the log's head; YJS_ACTIVE edits since the copy was derived; YJS_COMPACTED merged rows awaiting retention; YJS_ARCHIVED only compacted history left (src/scenes/lifecycle.ts)",
              },
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
      Script: {
        type: 'object',
        properties: {
          scriptUUID: { type: 'string', format: 'uuid' },
          title: { type: 'string' },
          title_page: { $ref: '#/components/schemas/TitlePage' },
          owner_id: { type: 'string', format: 'uuid' },
          role: { enum: ['owner', 'editor', 'viewer', 'admin'], description: 'What the caller is to the script' },
          scene_count: { type: 'integer', description: 'Live scenes (deleted ones not counted); absent in a PATCH answer' },
          created_at: { type: 'string', format: 'date-time' },
          updated_at: { type: 'string', format: 'date-time' },
        },
      },
      TitlePage: {
        type: ['object', 'null'],
        description:
          'Title-page fields for import and export: snake_case keys (title, credit, author, source, draft_date, contact, ...; at most 20, each at most 40 characters) with string values (at most 2000 characters each, line breaks kept, no NUL), at most 8 KB as JSON. Null: none.',
        additionalProperties: { type: 'string', maxLength: 2000 },
        maxProperties: 20,
      },
      SceneEntry: {
        type: 'object',
        description: "A scene's place in its script",
        properties: {
          sceneUUID: { type: 'string', format: 'uuid' },
          sceneIndex: { type: ['integer', 'null'], description: 'Position among the live scenes (0..n-1); null for a deleted scene' },
          slugline: { type: ['string', 'null'] },
          deleted_at: { type: ['string', 'null'], format: 'date-time' },
        },
      },
      SceneOrder: {
        type: 'object',
        description: 'The scene a change was about and every live scene of the script by position afterwards',
        properties: {
          scriptUUID: { type: 'string', format: 'uuid' },
          scene: { $ref: '#/components/schemas/SceneEntry' },
          scenes: { type: 'array', items: { $ref: '#/components/schemas/SceneEntry' } },
          restorable_until: { type: 'string', format: 'date-time', description: 'DELETE only: until when the scene can be restored' },
        },
      },
      Collaborator: {
        type: 'object',
        properties: {
          user_id: { type: 'string', format: 'uuid' },
          email: { type: 'string' },
          role: { enum: ['editor', 'viewer'] },
          created_at: { type: 'string', format: 'date-time' },
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
    ...changeFeedPaths,
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
        summary: 'What the editor page needs to connect: where its WebSocket is, the schema version, how often to read the scene list again, whether development tokens are issued, the demo script',
        tags: ['editor'],
        responses: {
          '200': {
            description:
              '{wsUrl, httpUrl, collabPath, wsPort, sceneListRefreshMs, schemaVersion, devTokens, demo}. wsUrl: PUBLIC_WS_URL, or derived from PUBLIC_HTTP_URL (ws(s), same host, collabPath), or null: connect to the page\'s own origin under collabPath (COLLAB_PATH, default /collab), which the HTTP port serves. httpUrl: PUBLIC_HTTP_URL or null. wsPort: the separate WebSocket port (PORT). sceneListRefreshMs: SCENE_LIST_REFRESH_MS.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['wsUrl', 'httpUrl', 'collabPath', 'wsPort', 'schemaVersion', 'devTokens', 'demo'],
                  properties: {
                    wsUrl: { type: ['string', 'null'], format: 'uri' },
                    httpUrl: { type: ['string', 'null'], format: 'uri' },
                    collabPath: { type: 'string' },
                    wsPort: { type: 'integer' },
                    schemaVersion: { type: 'integer' },
                    devTokens: { type: 'boolean' },
                    demo: { type: ['object', 'null'] },
                  },
                },
              },
            },
          },
        },
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
      post: {
        summary: 'Add a scene at a position (default: at the end), with an optional heading and initial REST blocks',
        description:
          'Body (optional): {position?: 0..n, heading?: string | null (one line, at most 500 characters), blocks?: RestBlock[]}. The scenes from position on move down one. ' +
          'The blocks are validated and must survive REST -> Yjs -> REST unchanged; they become the REST copy (snapshot_source rest), seeded into the Yjs log exactly once when the scene is first loaded. Owner, editor or administrator.',
        tags: ['scripts'],
        security: [{ bearerAuth: [] }],
        parameters: [scriptIdParameter],
        requestBody: {
          required: false,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  position: { type: 'integer', minimum: 0 },
                  heading: { type: ['string', 'null'], maxLength: 500 },
                  blocks: { type: 'array', items: { $ref: '#/components/schemas/RestBlock' } },
                },
              },
            },
          },
        },
        responses: {
          '201': { description: '{scriptUUID, scene: Scene, scenes: SceneEntry[]}' },
          '400': errorResponse('Malformed id, not JSON, unknown fields, invalid blocks (INVALID_REST_BLOCKS, with issues) or blocks a round trip would change (UNCONVERTIBLE_REST_BLOCKS), position beyond the end (POSITION_OUT_OF_RANGE)'),
          '403': errorResponse('Viewer (READ_ONLY) or stranger (NO_ACCESS)'),
          '404': errorResponse('Unknown script'),
          '413': errorResponse('Body over the limit'),
          ...authErrors,
        },
      },
    },
    '/api/scripts': {
      post: {
        summary: 'Create a script; the caller becomes its owner',
        tags: ['scripts'],
        security: [{ bearerAuth: [] }],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['title'],
                additionalProperties: false,
                properties: { title: { type: 'string', minLength: 1, maxLength: 300, description: 'One line, trimmed' }, title_page: { $ref: '#/components/schemas/TitlePage' } },
              },
            },
          },
        },
        responses: {
          '201': json('Script', 'The new script'),
          '400': errorResponse('Not JSON, unknown fields, empty or too long title, bad title page'),
          '401': errorResponse('Missing or invalid token, or a token for a user that does not exist (UNKNOWN_USER)'),
          '413': errorResponse('Body over the limit'),
        },
      },
      get: {
        summary: 'The scripts the caller owns or collaborates on, each with the caller\'s role, most recently changed first',
        tags: ['scripts'],
        security: [{ bearerAuth: [] }],
        responses: {
          '200': { description: '{scripts: Script[]}' },
          '400': errorResponse('A query parameter (none is taken)'),
          '401': errorResponse('Missing or invalid token, or a token for a user that does not exist (UNKNOWN_USER)'),
        },
      },
    },
    '/api/scripts/{scriptId}': {
      get: {
        summary: 'A script with its live scenes in order (their places only; content: GET .../scenes)',
        tags: ['scripts'],
        security: [{ bearerAuth: [] }],
        parameters: [scriptIdParameter],
        responses: {
          '200': { description: 'Script plus scenes: SceneEntry[]' },
          '400': errorResponse('Malformed script id'),
          '403': errorResponse('Not the owner or a collaborator'),
          '404': errorResponse('Unknown script'),
          ...authErrors,
        },
      },
      patch: {
        summary: 'Rename a script and/or set its title page (null clears it). Owner, editor or administrator',
        tags: ['scripts'],
        security: [{ bearerAuth: [] }],
        parameters: [scriptIdParameter],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                additionalProperties: false,
                minProperties: 1,
                properties: { title: { type: 'string', minLength: 1, maxLength: 300 }, title_page: { $ref: '#/components/schemas/TitlePage' } },
              },
            },
          },
        },
        responses: {
          '200': json('Script', 'The script after the change'),
          '400': errorResponse('Malformed id, not JSON, nothing to change, unknown fields, bad title or title page'),
          '403': errorResponse('Viewer (READ_ONLY) or stranger'),
          '404': errorResponse('Unknown script'),
          ...authErrors,
        },
      },
    },
    '/api/scripts/{scriptId}/deleted-scenes': {
      get: {
        summary: 'The deleted scenes still restorable (not purged yet), most recently deleted first, each with restorable_until',
        tags: ['scripts'],
        security: [{ bearerAuth: [] }],
        parameters: [scriptIdParameter],
        responses: {
          '200': { description: '{scriptUUID, retention_days, scenes: (SceneEntry + restorable_until)[]}' },
          '400': errorResponse('Malformed script id'),
          '403': errorResponse('Not the owner or a collaborator'),
          '404': errorResponse('Unknown script'),
          ...authErrors,
        },
      },
    },
    '/api/scripts/{scriptId}/scenes/{sceneId}': {
      patch: {
        summary: 'Move a scene to {position} (0..n-1) and/or rename its {heading}; the other scenes close up, positions stay 0..n-1',
        description: 'Changes to one script\'s scenes are serialised on the script row, so concurrent moves leave every position held once. Owner, editor or administrator.',
        tags: ['scripts'],
        security: [{ bearerAuth: [] }],
        parameters: [scriptIdParameter, sceneIdParameter],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', additionalProperties: false, minProperties: 1, properties: { position: { type: 'integer', minimum: 0 }, heading: { type: ['string', 'null'], maxLength: 500 } } },
            },
          },
        },
        responses: {
          '200': json('SceneOrder', 'The scene and the order afterwards'),
          '400': errorResponse('Malformed id, not JSON, nothing to change, unknown fields, position out of range (POSITION_OUT_OF_RANGE)'),
          '403': errorResponse('Viewer (READ_ONLY) or stranger'),
          '404': errorResponse('Unknown script, or no such scene in it (UNKNOWN_SCENE)'),
          '410': errorResponse('The scene is deleted (SCENE_DELETED): restore it first'),
          ...authErrors,
        },
      },
      delete: {
        summary: 'Delete a scene (soft): refused to editors (scene-deleted, close code 4410) and by REST (410 SCENE_DELETED), left out of listings, restorable for SCENE_DELETE_RETENTION_DAYS, then purged with its log',
        description: 'Open connections to the scene are ended with scene-deleted within AUTH_RECHECK_INTERVAL_MS. The scenes after it move up one. Owner, editor or administrator.',
        tags: ['scripts'],
        security: [{ bearerAuth: [] }],
        parameters: [scriptIdParameter, sceneIdParameter],
        responses: {
          '200': json('SceneOrder', 'The deleted scene (sceneIndex null, deleted_at), the live scenes afterwards and restorable_until'),
          '400': errorResponse('Malformed id'),
          '403': errorResponse('Viewer (READ_ONLY) or stranger'),
          '404': errorResponse('Unknown script, or no such scene in it (UNKNOWN_SCENE)'),
          '410': errorResponse('Already deleted (SCENE_DELETED)'),
          ...authErrors,
        },
      },
    },
    '/api/scripts/{scriptId}/scenes/{sceneId}/restore': {
      post: {
        summary: 'Restore a deleted scene at {position} (0..n; default: at the end), within the retention period; its log is as it was',
        tags: ['scripts'],
        security: [{ bearerAuth: [] }],
        parameters: [scriptIdParameter, sceneIdParameter],
        requestBody: {
          required: false,
          content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { position: { type: 'integer', minimum: 0 } } } } },
        },
        responses: {
          '200': json('SceneOrder', 'The restored scene and the order afterwards'),
          '400': errorResponse('Malformed id, not JSON, unknown fields, position out of range (POSITION_OUT_OF_RANGE)'),
          '403': errorResponse('Viewer (READ_ONLY) or stranger'),
          '404': errorResponse('Unknown script, or no such scene in it (UNKNOWN_SCENE; also once purged)'),
          '409': errorResponse('The scene is not deleted (SCENE_NOT_DELETED)'),
          '410': errorResponse('Deleted longer ago than the retention period (SCENE_NOT_RESTORABLE)'),
          ...authErrors,
        },
      },
    },
    '/api/scripts/{scriptId}/collaborators': {
      get: {
        summary: "The script's collaborators (owner only)",
        tags: ['collaborators'],
        security: [{ bearerAuth: [] }],
        parameters: [scriptIdParameter],
        responses: {
          '200': { description: '{scriptUUID, collaborators: Collaborator[]}' },
          '400': errorResponse('Malformed script id'),
          '403': errorResponse('Not the owner (OWNER_REQUIRED), or a stranger (NO_ACCESS)'),
          '404': errorResponse('Unknown script'),
          ...authErrors,
        },
      },
      put: {
        summary: 'Add a collaborator by email, or change their role (owner only)',
        description:
          'The user must exist: users are created by signing up, outside this API. A downgraded collaborator\'s open connections are ended with access-changed within AUTH_RECHECK_INTERVAL_MS.',
        tags: ['collaborators'],
        security: [{ bearerAuth: [] }],
        parameters: [scriptIdParameter],
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', required: ['email', 'role'], additionalProperties: false, properties: { email: { type: 'string', format: 'email' }, role: { enum: ['editor', 'viewer'] } } },
            },
          },
        },
        responses: {
          '200': { description: '{scriptUUID, collaborator: Collaborator, created: false}: the role was changed (or was already that)' },
          '201': { description: '{scriptUUID, collaborator: Collaborator, created: true}: added' },
          '400': errorResponse('Malformed id, not JSON, not an email, unknown role, unknown fields'),
          '403': errorResponse('Not the owner (OWNER_REQUIRED), or a stranger (NO_ACCESS)'),
          '404': errorResponse('Unknown script, or no user has that email (UNKNOWN_USER_EMAIL)'),
          '409': errorResponse('The email is the owner\'s (OWNER_NOT_A_COLLABORATOR)'),
          ...authErrors,
        },
      },
    },
    '/api/scripts/{scriptId}/collaborators/{email}': {
      delete: {
        summary: 'Remove a collaborator by email (owner only); their open connections are ended with no-access within AUTH_RECHECK_INTERVAL_MS',
        tags: ['collaborators'],
        security: [{ bearerAuth: [] }],
        parameters: [scriptIdParameter, { name: 'email', in: 'path', required: true, description: 'The collaborator\'s email (URL-encoded; case-insensitive)', schema: { type: 'string', format: 'email' } }],
        responses: {
          '200': { description: '{scriptUUID, removed: Collaborator}' },
          '400': errorResponse('Malformed id or not an email'),
          '403': errorResponse('Not the owner (OWNER_REQUIRED), or a stranger (NO_ACCESS)'),
          '404': errorResponse('Unknown script, no user has that email (UNKNOWN_USER_EMAIL), or not a collaborator (UNKNOWN_COLLABORATOR)'),
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
    '/api/scripts/import': {
      post: {
        summary: 'Import a Fountain or Final Draft (FDX) file as a new script owned by the caller: one scene per scene heading (plus one for the text before the first), the title page as title_page; all or nothing, every scene seeded into its log before the answer',
        tags: ['interchange'],
        security: [{ bearerAuth: [] }],
        parameters: [
          { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['fountain', 'fdx'] }, description: 'The file format; overrides the Content-Type' },
          { name: 'title', in: 'query', required: false, schema: { type: 'string' }, description: 'The script title (default: the title page title, else Untitled)' },
        ],
        requestBody: {
          required: true,
          description:
            'The file itself (not JSON), at most IMPORT_MAX_BYTES (2 MiB). Format: the format query field, else the Content-Type (text/x-fountain: Fountain; application/xml, text/xml: FDX), else (text/plain, application/octet-stream or none) the file: XML is FDX, anything else Fountain. UTF-8.',
          content: {
            'text/plain': { schema: { type: 'string' } },
            'text/x-fountain': { schema: { type: 'string' } },
            'application/xml': { schema: { type: 'string' } },
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          },
        },
        responses: {
          '201': { description: 'Script (as POST /api/scripts) plus format and scenes [{sceneUUID, sceneIndex, slugline, block_count}]' },
          '400': errorResponse(
            'A file that is not a screenplay (NOT_A_SCREENPLAY: not UTF-8 text, control bytes, XML as Fountain, another XML root), empty (EMPTY_SCREENPLAY) or broken (MALFORMED_SCREENPLAY: XML that does not parse, an unterminated boneyard, a DOCTYPE); the body has format and location {line, column?, element?}. Also a bad format or unknown query field, a JSON or other Content-Type (UNSUPPORTED_CONTENT_TYPE), fields the script store refuses (INVALID_SCRIPT_FIELDS, INVALID_REST_BLOCKS)',
          ),
          '413': errorResponse('The file is over IMPORT_MAX_BYTES (PAYLOAD_TOO_LARGE) or holds more than IMPORT_MAX_SCENES scenes (TOO_MANY_SCENES, with scenes and max_scenes)'),
          ...authErrors,
        },
      },
    },
    '/api/scripts/{scriptId}/export': {
      get: {
        summary: 'The whole script as a Fountain, FDX or PDF file, from the live state (loaded documents or the logs, never the REST copy). Anyone who may read the script',
        tags: ['interchange'],
        security: [{ bearerAuth: [] }],
        parameters: [scriptIdParameter, ...exportParameters('PDF only: print the title page (default true)')],
        responses: exportResponses,
      },
    },
    '/api/scenes/{sceneId}/export': {
      get: {
        summary: 'One scene as a Fountain, FDX or PDF file (no title page), from its live state. Anyone who may read the scene',
        tags: ['interchange'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter, ...exportParameters("PDF only: print a title page with the script's title (default false)")],
        responses: exportResponses,
      },
    },
    '/api/scenes/{sceneId}/import': {
      post: {
        summary: 'A Fountain or FDX file becomes the scene content (all its blocks; a title page is not kept), through the PATCH path without base_seq: stored, then applied to the live document. Owner, editor or administrator',
        tags: ['interchange'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter, { name: 'format', in: 'query', required: false, schema: { type: 'string', enum: ['fountain', 'fdx'] }, description: 'The file format; overrides the Content-Type' }],
        requestBody: {
          required: true,
          description:
            'The file itself (not JSON), at most IMPORT_MAX_BYTES (2 MiB). Format: the format query field, else the Content-Type (text/x-fountain: Fountain; application/xml, text/xml: FDX), else (text/plain, application/octet-stream or none) the file: XML is FDX, anything else Fountain. UTF-8.',
          content: {
            'text/plain': { schema: { type: 'string' } },
            'text/x-fountain': { schema: { type: 'string' } },
            'application/xml': { schema: { type: 'string' } },
            'application/octet-stream': { schema: { type: 'string', format: 'binary' } },
          },
        },
        responses: {
          '200': { description: 'Scene (as PATCH .../content, with patch {changed, version_id, seq}) plus format and title_page_ignored' },
          '400': errorResponse(
            'A file that is not a screenplay (NOT_A_SCREENPLAY: not UTF-8 text, control bytes, XML as Fountain, another XML root), empty (EMPTY_SCREENPLAY) or broken (MALFORMED_SCREENPLAY: XML that does not parse, an unterminated boneyard, a DOCTYPE); the body has format and location {line, column?, element?}. Also a bad format or unknown query field, a JSON or other Content-Type (UNSUPPORTED_CONTENT_TYPE), fields the script store refuses (INVALID_SCRIPT_FIELDS, INVALID_REST_BLOCKS)',
          ),
          '413': errorResponse('The file is over IMPORT_MAX_BYTES (PAYLOAD_TOO_LARGE) or holds more than IMPORT_MAX_SCENES scenes (TOO_MANY_SCENES, with scenes and max_scenes)'),
          '403': errorResponse('Viewer (READ_ONLY) or stranger'),
          '404': errorResponse('Unknown scene'),
          '503': errorResponse('The change could not be stored (PERSISTENCE_UNAVAILABLE, SHUTTING_DOWN); nothing was applied'),
          '401': errorResponse('Missing, malformed, expired or badly signed token, or a token for a user that does not exist'),
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
    // Audit listings and editing sessions: src/http/versions.ts, src/log/versions.ts.
    '/api/scenes/{sceneId}/versions': {
      get: {
        summary: "The scene's log rows, newest first (architecture document 13.3)",
        description:
          'Newest first by created_at, then seq. Each row: its size in bytes, how many updates it holds (compacted_count), whether it is a compacted row (is_compacted) and whether compaction merged it into one (merged, compacted_by; retention deletes it later). Keyset-paged: pass next_cursor as cursor. Owner, collaborators and administrators.',
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter, ...listingParameters, ...windowParameters],
        responses: {
          '200': json('VersionList', 'One page of rows'),
          '400': errorResponse('Malformed id, unknown query field, limit out of 1..200, a cursor that is not one of this listing (INVALID_CURSOR), a non-ISO date, from after to (INVALID_RANGE), a user filter naming no user (UNKNOWN_USER)'),
          '403': errorResponse('Not the owner, a collaborator or an administrator'),
          '404': errorResponse('Unknown scene'),
          ...authErrors,
        },
      },
    },
    '/api/scenes/{sceneId}/sessions': {
      get: {
        summary: "The scene's editing sessions by writer, newest end first",
        description:
          "A writer's consecutive original rows form one session until that writer is idle longer than HISTORY_SESSION_GAP_SECONDS (gap_seconds, default 300); another writer's rows in between do not end it, so two writers typing at once have overlapping sessions. Compacted rows are not sessions (one stands for many writers). from/to select the rows before they are grouped. Keyset-paged by the session's end.",
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter, ...listingParameters, ...windowParameters],
        responses: {
          '200': json('SessionList', 'One page of sessions'),
          '400': errorResponse('As for /versions'),
          '403': errorResponse('Not the owner, a collaborator or an administrator'),
          '404': errorResponse('Unknown scene'),
          ...authErrors,
        },
      },
    },
    '/api/scenes/{sceneId}/snapshots': {
      get: {
        summary: "The scene's snapshot metadata rows, newest first (architecture document 13.3)",
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter, ...listingParameters],
        responses: {
          '200': json('SnapshotList', 'One page of snapshot rows'),
          '400': errorResponse('Malformed id, unknown query field, limit out of range, a cursor that is not one of this listing (INVALID_CURSOR)'),
          '403': errorResponse('Not the owner, a collaborator or an administrator'),
          '404': errorResponse('Unknown scene'),
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
    // Diff and blame: src/http/diff.ts, src/history/diff.ts, diffPoints.ts, blame.ts.
    '/api/scenes/{sceneId}/diff': {
      get: {
        summary: "Block-level difference between the scene's content at two points of its history",
        description:
          'Points are one string each: all digits a seq (0 = before the first update), an ISO 8601 date-time with zone an instant, anything else a label name or id. Blocks are matched by a unique string id, else by the longest common subsequence of the block lists; changed blocks carry the fields that differ and the changed text ranges (UTF-16 offsets: from/to in the older text, new_from/new_to in the newer). Owner, collaborators (editors, viewers), administrators.',
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [
          sceneIdParameter,
          { name: 'from', in: 'query', required: true, description: 'The older point: seq, instant or label', schema: { type: 'string', minLength: 1 } },
          { name: 'to', in: 'query', required: false, description: 'The newer point (default: now, the log head)', schema: { type: 'string', minLength: 1 } },
        ],
        responses: {
          '200': {
            description: 'The difference',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    sceneUUID: { type: 'string', format: 'uuid' },
                    from: {
                      type: 'object',
                      description: 'A point as asked (point), the newest seq its content includes, and the label it named',
                      properties: { point: { $ref: '#/components/schemas/HistoryPoint' }, seq: { type: ['integer', 'null'] }, label: { type: ['object', 'null'] } },
                    },
                    to: {
                      type: 'object',
                      description: 'A point as asked (point), the newest seq its content includes, and the label it named',
                      properties: { point: { $ref: '#/components/schemas/HistoryPoint' }, seq: { type: ['integer', 'null'] }, label: { type: ['object', 'null'] } },
                    },
                    added: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, block: restBlock } } },
                    removed: { type: 'array', items: { type: 'object', properties: { index: { type: 'integer' }, block: restBlock } } },
                    changed: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          from_index: { type: 'integer' },
                          to_index: { type: 'integer' },
                          before: restBlock,
                          after: restBlock,
                          fields: { type: 'array', items: { type: 'string' } },
                          text: {
                            type: 'array',
                            items: {
                              type: 'object',
                              properties: {
                                from: { type: 'integer' },
                                to: { type: 'integer' },
                                new_from: { type: 'integer' },
                                new_to: { type: 'integer' },
                                removed: { type: 'string' },
                                inserted: { type: 'string' },
                              },
                            },
                          },
                        },
                      },
                    },
                    unchanged: { type: 'integer' },
                  },
                },
              },
            },
          },
          '400': errorResponse('Malformed id, missing or empty point, unknown query field, a seq ahead of the log (SEQ_AHEAD), from later than to (FROM_AFTER_TO)'),
          '403': errorResponse('Not the owner, a collaborator or an administrator'),
          '404': errorResponse('Unknown scene or label (UNKNOWN_LABEL)'),
          '409': errorResponse('The content at a point cannot be converted (YJS_CONTENT_UNCONVERTIBLE)'),
          '410': errorResponse('Retention already deleted updates a point depends on (HISTORY_NOT_RETAINED)'),
          ...authErrors,
        },
      },
    },
    '/api/scenes/{sceneId}/blame': {
      get: {
        summary: 'Who last changed each block of the current content, and when',
        description:
          "Derived from the log rows, replayed in pages in the worker pool. Each block's last_change names the row (seq, created_at) and its writer (user_id, email); by is user, server (seeding, repairs) or compacted. Where retention deleted the originals, a compacted row stands for everything up to its seq and resolution says so: {complete: false, before_seq}. A scene with no Yjs log answers with its REST copy and last_change null. Owner, collaborators, administrators.",
        tags: ['history'],
        security: [{ bearerAuth: [] }],
        parameters: [sceneIdParameter],
        responses: {
          '200': {
            description: 'Each block with its last change',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: {
                    sceneUUID: { type: 'string', format: 'uuid' },
                    seq: { type: ['integer', 'null'], description: 'The blocks are the scene after every update up to this seq' },
                    blocks: {
                      type: 'array',
                      items: {
                        type: 'object',
                        properties: {
                          index: { type: 'integer' },
                          block: restBlock,
                          last_change: {
                            type: ['object', 'null'],
                            properties: {
                              seq: { type: 'integer' },
                              created_at: { type: 'string', format: 'date-time' },
                              by: { enum: ['user', 'server', 'compacted'] },
                              user: { type: ['object', 'null'], properties: { user_id: { type: 'string', format: 'uuid' }, email: { type: ['string', 'null'] } } },
                            },
                          },
                        },
                      },
                    },
                    resolution: {
                      type: 'object',
                      properties: {
                        complete: { type: 'boolean' },
                        before_seq: { type: ['integer', 'null'], description: 'Changes at or below this seq are known only as the compacted row' },
                        reason: { enum: ['compacted', 'no_yjs_log'] },
                      },
                    },
                    cost: { type: 'object', properties: { rows: { type: 'integer' }, pages: { type: 'integer' } } },
                  },
                },
              },
            },
          },
          '400': errorResponse('Malformed id or a query field (blame takes none)'),
          '403': errorResponse('Not the owner, a collaborator or an administrator'),
          '404': errorResponse('Unknown scene'),
          '409': errorResponse('The content cannot be converted (YJS_CONTENT_UNCONVERTIBLE), or the log lacks updates no compacted row covers (LOG_HOLE)'),
          ...authErrors,
          '503': errorResponse('Access could not be checked, or retention kept deleting rows under the replay (BLAME_LOG_CHANGED); retry'),
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
