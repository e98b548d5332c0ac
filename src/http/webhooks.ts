import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { z } from 'zod';
import type { AccessControl } from '../auth/access.ts';
import type { Principal, TokenVerifier } from '../auth/tokens.ts';
import { CHANGE_KINDS, ChangesExpiredError, type LogChanges } from '../log/changes.ts';
import { hostOf, RefusedAddressError, resolveAllowed } from '../webhooks/addresses.ts';
import { MalformedEventIdError, parseEventId } from '../webhooks/events.ts';
import type { WebhookEndpoint, WebhookStore } from '../webhooks/store.ts';
import { authorizeScript, principalOf, requireUser } from './auth.ts';
import { cursorExpired, parseCursor } from './changes.ts';
import { badRequest, forbidden, notFound } from './errors.ts';
import { jsonBody, parseInput, scriptParams, uuidParam } from './validation.ts';

export interface WebhookRoutesDeps {
  verifier: TokenVerifier;
  access: AccessControl;
  store: WebhookStore;
  changes: LogChanges;
  /** `config.webhooks`: a redelivery by event id is due at once, so it is backdated by the window. */
  coalesceMs: number;
  allowPrivateAddresses: boolean;
}

const endpointParams = z.object({ scriptId: uuidParam, endpointId: uuidParam });

const createBody = z.strictObject({
  url: z.string().max(2048),
  /** Generated (and returned once) when absent. */
  secret: z.string().min(16, 'must be at least 16 characters').max(256).optional(),
  events: z.array(z.enum(CHANGE_KINDS)).min(1).optional(),
});

const patchBody = z.strictObject({ enabled: z.boolean() });

const redeliverBody = z.union([z.strictObject({ cursor: z.string() }), z.strictObject({ eventId: z.string() })], {
  error: 'send {"cursor": ...} (every change after it) or {"eventId": ...} (that scene again)',
});

export function webhookJson(endpoint: WebhookEndpoint) {
  return {
    id: endpoint.endpointId,
    scriptId: endpoint.scriptId,
    url: endpoint.url,
    events: endpoint.eventKinds,
    enabled: endpoint.disabledAt === null,
    disabledAt: endpoint.disabledAt?.toISOString() ?? null,
    disabledReason: endpoint.disabledReason,
    consecutiveFailures: endpoint.consecutiveFailures,
    nextAttemptAt: endpoint.nextAttemptAt.toISOString(),
    lastError: endpoint.lastError,
    lastSuccessAt: endpoint.lastSuccessAt?.toISOString() ?? null,
    pendingChanges: endpoint.pendingChanges,
    createdAt: endpoint.createdAt.toISOString(),
  };
}

/** A receiver's URL: http(s), no credentials in it, and (unless allowed) a host that resolves only to public addresses. */
async function checkedUrl(raw: string, allowPrivate: boolean): Promise<string> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest('`url` is not a URL', 'INVALID_WEBHOOK_URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('`url` must start with http:// or https://', 'INVALID_WEBHOOK_URL');
  if (url.username || url.password) throw badRequest('`url` must not carry credentials; the signature authenticates deliveries', 'INVALID_WEBHOOK_URL');
  try {
    await resolveAllowed(hostOf(url), allowPrivate);
  } catch (error) {
    if (error instanceof RefusedAddressError) throw badRequest(error.message, error.code);
    throw badRequest(`${url.hostname} does not resolve: ${error instanceof Error ? error.message : String(error)}`, 'WEBHOOK_HOST_UNRESOLVED');
  }
  return url.toString();
}

/**
 * The webhook endpoints of a script (owner only) and the webhooks' health. Deliveries are made by
 * the `webhooks` job (src/webhooks/deliverer.ts), never by these routes.
 */
export function webhookRoutes(deps: WebhookRoutesDeps): Router {
  const { verifier, access, store, changes } = deps;
  const router = Router();
  const authenticated = requireUser(verifier);

  const requireOwner = async (principal: Principal, scriptId: string) => {
    const grant = await authorizeScript(access, principal, scriptId);
    if (grant.role !== 'owner') throw forbidden('Only the script owner manages its webhooks', 'OWNER_REQUIRED');
  };
  const endpointOf = async (scriptId: string, endpointId: string) => {
    const endpoint = await store.find(scriptId, endpointId);
    if (!endpoint) throw notFound(`No webhook ${endpointId} in script ${scriptId}`, 'UNKNOWN_WEBHOOK');
    return endpoint;
  };

  router.post('/api/scripts/:scriptId/webhooks', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    const principal = principalOf(res);
    await requireOwner(principal, scriptId);
    const body = parseInput(createBody, jsonBody(req), 'body');
    const url = await checkedUrl(body.url, deps.allowPrivateAddresses);
    const secret = body.secret ?? randomBytes(32).toString('hex');
    // From the feed's tip: the endpoint receives what changes after it was registered.
    const endpoint = await store.create({ scriptId, url, secret, eventKinds: body.events ?? [...CHANGE_KINDS], createdBy: principal.userId, from: await changes.tip() });
    res.status(201).json({ ...webhookJson(endpoint), ...(body.secret === undefined ? { secret } : {}) });
  });

  router.get('/api/scripts/:scriptId/webhooks', authenticated, async (req, res) => {
    const { scriptId } = parseInput(scriptParams, req.params, 'path');
    await requireOwner(principalOf(res), scriptId);
    res.json({ webhooks: (await store.list(scriptId)).map(webhookJson) });
  });

  router.get('/api/scripts/:scriptId/webhooks/:endpointId', authenticated, async (req, res) => {
    const { scriptId, endpointId } = parseInput(endpointParams, req.params, 'path');
    await requireOwner(principalOf(res), scriptId);
    res.json(webhookJson(await endpointOf(scriptId, endpointId)));
  });

  router.delete('/api/scripts/:scriptId/webhooks/:endpointId', authenticated, async (req, res) => {
    const { scriptId, endpointId } = parseInput(endpointParams, req.params, 'path');
    await requireOwner(principalOf(res), scriptId);
    if (!(await store.delete(scriptId, endpointId))) throw notFound(`No webhook ${endpointId} in script ${scriptId}`, 'UNKNOWN_WEBHOOK');
    res.status(204).end();
  });

  router.patch('/api/scripts/:scriptId/webhooks/:endpointId', authenticated, async (req, res) => {
    const { scriptId, endpointId } = parseInput(endpointParams, req.params, 'path');
    await requireOwner(principalOf(res), scriptId);
    const body = parseInput(patchBody, jsonBody(req), 'body');
    if (!(await store.setEnabled(scriptId, endpointId, body.enabled))) throw notFound(`No webhook ${endpointId} in script ${scriptId}`, 'UNKNOWN_WEBHOOK');
    res.json(webhookJson(await endpointOf(scriptId, endpointId)));
  });

  router.post('/api/scripts/:scriptId/webhooks/:endpointId/redeliver', authenticated, async (req, res) => {
    const { scriptId, endpointId } = parseInput(endpointParams, req.params, 'path');
    await requireOwner(principalOf(res), scriptId);
    const body = parseInput(redeliverBody, jsonBody(req), 'body');
    await endpointOf(scriptId, endpointId);
    if ('cursor' in body) {
      const from = parseCursor(body.cursor);
      if (from === null) throw badRequest('`cursor` is empty', 'INVALID_CURSOR');
      try {
        await changes.assertRetained(from);
      } catch (error) {
        if (error instanceof ChangesExpiredError) throw cursorExpired(error);
        throw error;
      }
      await store.redeliverFrom(scriptId, endpointId, from);
      res.status(202).json({ redelivering: 'changes', cursor: body.cursor });
      return;
    }
    let identity;
    try {
      identity = parseEventId(body.eventId);
    } catch (error) {
      if (error instanceof MalformedEventIdError) throw badRequest(error.message, error.code);
      throw error;
    }
    if (identity.endpointId !== endpointId) throw badRequest('The event was delivered to another webhook', 'EVENT_OF_ANOTHER_WEBHOOK');
    if (!(await store.redeliverScene(endpointId, identity.sceneId, identity.seq, deps.coalesceMs))) {
      throw notFound('This webhook never delivered that scene', 'UNKNOWN_EVENT');
    }
    res.status(202).json({ redelivering: 'scene', sceneId: identity.sceneId });
  });

  router.get('/api/health/webhooks', async (_req, res) => {
    const health = await store.health();
    res.json({
      status: health.disabled.length > 0 ? 'degraded' : 'ok',
      endpoints: health.endpoints,
      disabled: health.disabled.map((entry) => ({ id: entry.endpointId, scriptId: entry.scriptId, disabledAt: entry.disabledAt.toISOString(), reason: entry.reason })),
      pendingChanges: health.pendingChanges,
    });
  });

  return router;
}
