// The OpenAPI entries of the change feed and the webhooks (src/http/changes.ts, webhooks.ts),
// spread into `openApiDocument.paths` (openapi.ts).

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const authErrors = {
  '401': errorResponse('Missing, malformed, expired or badly signed token, or a token for a user that does not exist'),
  '503': errorResponse('Access could not be checked (database unavailable); retry'),
};

const uuid = { type: 'string', format: 'uuid' };
const scriptIdParameter = { name: 'scriptId', in: 'path', required: true, description: 'Script UUID, canonical lower-case form', schema: uuid };
const endpointIdParameter = { name: 'endpointId', in: 'path', required: true, description: 'Webhook UUID', schema: uuid };
const kinds = { type: 'array', items: { enum: ['edit', 'seed', 'import', 'restore', 'patch', 'delete'] } };

const change = {
  type: 'object',
  description:
    'One change to one scene. `cursor` is opaque; the feed lists changes in commit order (a change committed after another started is listed after it). `seq` is the scene log head after the change (for a delete or a scene restore, the head it had).',
  properties: {
    cursor: { type: 'string' },
    scriptId: uuid,
    sceneId: uuid,
    seq: { type: 'integer' },
    kinds,
    createdBy: { type: ['string', 'null'], format: 'uuid' },
    at: { type: 'string', format: 'date-time' },
  },
};

const expired = {
  description:
    'CURSOR_EXPIRED: retention (CHANGE_FEED_RETENTION_DAYS) deleted changes after the cursor. Read the scenes again (GET /api/scripts/{scriptId}/scenes), then continue from the `cursor` of this answer.',
  content: {
    'application/json': { schema: { type: 'object', properties: { error: { type: 'string' }, code: { const: 'CURSOR_EXPIRED' }, cursor: { type: 'string' } } } },
  },
};

const webhook = {
  type: 'object',
  properties: {
    id: uuid,
    scriptId: uuid,
    url: { type: 'string' },
    events: kinds,
    enabled: { type: 'boolean' },
    disabledAt: { type: ['string', 'null'], format: 'date-time' },
    disabledReason: { type: ['string', 'null'] },
    consecutiveFailures: { type: 'integer' },
    nextAttemptAt: { type: 'string', format: 'date-time' },
    lastError: { type: ['string', 'null'] },
    lastSuccessAt: { type: ['string', 'null'], format: 'date-time' },
    pendingChanges: { type: 'integer', description: 'Changes folded and not delivered yet' },
    createdAt: { type: 'string', format: 'date-time' },
    secret: { type: 'string', description: 'Only in the answer to a registration without a secret: the generated one' },
  },
};

const webhookJson = (description: string) => ({ description, content: { 'application/json': { schema: webhook } } });

export const changeFeedPaths = {
  '/api/changes': {
    get: {
      summary: 'The change feed: scene changes of the scripts the caller may read, in commit order',
      tags: ['changes'],
      parameters: [
        { name: 'after', in: 'query', schema: { type: 'string' }, description: 'A cursor from an earlier answer; absent: from the oldest change kept' },
        { name: 'script', in: 'query', schema: uuid, description: 'Only this script (the caller must be able to read it)' },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
        { name: 'wait', in: 'query', schema: { type: 'string', pattern: '^\\d+(ms|s)?$' }, description: 'Long poll: with no change after `after`, wait up to this long (30s, 500ms; at most 60s)' },
      ],
      responses: {
        '200': {
          description: 'The changes, and the cursor to continue from (the last change, or `after` when there is none)',
          content: { 'application/json': { schema: { type: 'object', properties: { changes: { type: 'array', items: change }, cursor: { type: 'string' } } } } },
        },
        '400': errorResponse('INVALID_CURSOR: a cursor this feed did not give out; or a bad limit, wait or script'),
        '403': errorResponse('`script` names a script the caller may not read'),
        '404': errorResponse('Unknown script'),
        '410': expired,
        ...authErrors,
      },
    },
  },
  '/api/changes/stream': {
    get: {
      summary: 'The change feed as server-sent events (event `change`, id = cursor); resumes after `Last-Event-ID`',
      description:
        'EventSource sends no headers: a browser passes its token as `access_token`. A comment line is sent as a heartbeat every 15 s. A stream that falls behind the retention gets an `expired` event with the cursor to continue from, and ends.',
      tags: ['changes'],
      parameters: [
        { name: 'after', in: 'query', schema: { type: 'string' }, description: 'Start after this cursor (the Last-Event-ID header wins)' },
        { name: 'script', in: 'query', schema: uuid },
        { name: 'access_token', in: 'query', schema: { type: 'string' }, description: 'The bearer token, for EventSource' },
        { name: 'Last-Event-ID', in: 'header', schema: { type: 'string' } },
      ],
      responses: {
        '200': { description: 'text/event-stream of `change` events whose data is a change', content: { 'text/event-stream': { schema: { type: 'string' } } } },
        '400': errorResponse('INVALID_CURSOR, or a bad script'),
        '403': errorResponse('`script` names a script the caller may not read'),
        '410': expired,
        ...authErrors,
      },
    },
  },
  '/api/scripts/{scriptId}/webhooks': {
    post: {
      summary: 'Register a webhook (owner only): signed POSTs of each changed scene, coalesced per scene',
      tags: ['webhooks'],
      parameters: [scriptIdParameter],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['url'],
              additionalProperties: false,
              properties: {
                url: { type: 'string', description: 'http(s); refused when its host resolves to an internal address (unless WEBHOOK_ALLOW_PRIVATE_ADDRESSES)' },
                secret: { type: 'string', minLength: 16, description: 'The HMAC key; generated and returned once when absent' },
                events: { ...kinds, description: 'Change kinds to deliver (default: all)' },
              },
            },
          },
        },
      },
      responses: {
        '201': webhookJson('Registered; it receives the changes made from now on'),
        '400': errorResponse('Bad body, a URL that is not http(s) or carries credentials, WEBHOOK_ADDRESS_REFUSED, WEBHOOK_HOST_UNRESOLVED'),
        '403': errorResponse('Not the owner'),
        '404': errorResponse('Unknown script'),
        ...authErrors,
      },
    },
    get: {
      summary: "The script's webhooks with their delivery state (owner only)",
      tags: ['webhooks'],
      parameters: [scriptIdParameter],
      responses: {
        '200': { description: 'The webhooks', content: { 'application/json': { schema: { type: 'object', properties: { webhooks: { type: 'array', items: webhook } } } } } },
        '403': errorResponse('Not the owner'),
        '404': errorResponse('Unknown script'),
        ...authErrors,
      },
    },
  },
  '/api/scripts/{scriptId}/webhooks/{endpointId}': {
    get: {
      summary: 'One webhook with its delivery state (owner only)',
      tags: ['webhooks'],
      parameters: [scriptIdParameter, endpointIdParameter],
      responses: { '200': webhookJson('The webhook'), '403': errorResponse('Not the owner'), '404': errorResponse('Unknown script or webhook'), ...authErrors },
    },
    patch: {
      summary: 'Enable (clears the failures and the backoff) or disable a webhook (owner only)',
      tags: ['webhooks'],
      parameters: [scriptIdParameter, endpointIdParameter],
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['enabled'], properties: { enabled: { type: 'boolean' } } } } } },
      responses: { '200': webhookJson('The webhook'), '400': errorResponse('Bad body'), '403': errorResponse('Not the owner'), '404': errorResponse('Unknown script or webhook'), ...authErrors },
    },
    delete: {
      summary: 'Delete a webhook (owner only)',
      tags: ['webhooks'],
      parameters: [scriptIdParameter, endpointIdParameter],
      responses: { '204': { description: 'Deleted' }, '403': errorResponse('Not the owner'), '404': errorResponse('Unknown script or webhook'), ...authErrors },
    },
  },
  '/api/scripts/{scriptId}/webhooks/{endpointId}/redeliver': {
    post: {
      summary: 'Deliver again: every change after a cursor, or one scene by the id of an event it was sent',
      description: 'A redelivered scene carries its current content; when it has not changed since, the event id is the one it had.',
      tags: ['webhooks'],
      parameters: [scriptIdParameter, endpointIdParameter],
      requestBody: {
        required: true,
        content: {
          'application/json': {
            schema: { oneOf: [{ type: 'object', required: ['cursor'], properties: { cursor: { type: 'string' } } }, { type: 'object', required: ['eventId'], properties: { eventId: { type: 'string' } } }] },
          },
        },
      },
      responses: {
        '202': { description: 'Queued; the delivery job sends it' },
        '400': errorResponse('INVALID_CURSOR, INVALID_EVENT_ID, EVENT_OF_ANOTHER_WEBHOOK, or a bad body'),
        '403': errorResponse('Not the owner'),
        '404': errorResponse('Unknown script or webhook, or UNKNOWN_EVENT: this webhook never delivered that scene'),
        '410': expired,
        ...authErrors,
      },
    },
  },
  '/api/health/webhooks': {
    get: {
      summary: 'Webhook health: endpoints, the disabled ones (after WEBHOOK_MAX_FAILURES failures in a row), changes waiting',
      tags: ['health'],
      responses: {
        '200': {
          description: '`degraded` while an endpoint is disabled',
          content: {
            'application/json': {
              schema: {
                type: 'object',
                properties: {
                  status: { enum: ['ok', 'degraded'] },
                  endpoints: { type: 'integer' },
                  disabled: { type: 'array', items: { type: 'object', properties: { id: uuid, scriptId: uuid, disabledAt: { type: 'string', format: 'date-time' }, reason: { type: ['string', 'null'] } } } },
                  pendingChanges: { type: 'integer' },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;
