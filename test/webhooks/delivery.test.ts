import { afterEach, expect, it } from 'vitest';
import { isInternalAddress } from '../../src/webhooks/addresses.ts';
import { sendWebhook } from '../../src/webhooks/sender.ts';
import { verifySignature } from '../../src/webhooks/signing.ts';
import { tokenFor } from '../helpers/auth.ts';
import { waitFor } from '../helpers/clients.ts';
import { createScript } from '../helpers/fixtures.ts';
import { freePort } from '../helpers/process.ts';
import { describeEachServer } from '../helpers/server.ts';
import { api, seqsByScene, startReceiver, WEBHOOK_TEST_ENV, type Receiver } from './support.ts';

const SECRET = 'a-receiver-secret-of-32-characters!';
const BLOCKS = [{ type: 'scene_heading', text: 'INT. LAB - NIGHT' }];

describeEachServer('webhooks: delivery, retries, signatures, disabling', { env: WEBHOOK_TEST_ENV }, ({ db, app }) => {
  let receivers: Receiver[] = [];
  afterEach(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    receivers = [];
  });
  const receiver = async (...args: Parameters<typeof startReceiver>) => {
    const r = await startReceiver(...args);
    receivers.push(r);
    return r;
  };
  const script = async (scenes = 1) => {
    const fixture = await createScript(db().prisma, { scenes, contentBlocks: BLOCKS });
    return { ...fixture, token: await tokenFor(fixture.userId) };
  };
  const register = async (scriptId: string, token: string, url: string, extra: Record<string, unknown> = {}) => {
    const res = await api(app().httpUrl, 'POST', `/api/scripts/${scriptId}/webhooks`, { token, body: { url, secret: SECRET, ...extra } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { id: string };
  };
  const patch = async (sceneId: string, token: string, text: string) => {
    const res = await api(app().httpUrl, 'PATCH', `/api/scenes/${sceneId}/content`, { token, body: { blocks: [...BLOCKS, { type: 'action', text }] } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.seq as number;
  };
  const endpoint = async (scriptId: string, id: string, token: string) => (await api(app().httpUrl, 'GET', `/api/scripts/${scriptId}/webhooks/${id}`, { token })).body;

  it('delivers every change, in seq order per scene, signed, after a receiver that failed for a while recovers', async () => {
    const { scriptId, sceneIds, token } = await script(2);
    const hook = await receiver((_request, index) => (index < 3 ? 500 : 200));
    const { id } = await register(scriptId, token, hook.url);
    // Disabled while the changes are written, so that the first attempt already carries the last
    // of them and its retries have nothing new to carry; enabling delivers what waited meanwhile.
    const toggle = (enabled: boolean) => api(app().httpUrl, 'PATCH', `/api/scripts/${scriptId}/webhooks/${id}`, { token, body: { enabled } });
    expect((await toggle(false)).status).toBe(200);
    const written = new Map<string, number>();
    for (let i = 0; i < 6; i += 1) {
      const sceneId = sceneIds[i % 2]!;
      written.set(sceneId, await patch(sceneId, token, `take ${i}`));
    }
    expect((await toggle(true)).status).toBe(200);
    await waitFor(
      () => [...written].every(([sceneId, seq]) => hook.accepted().some((r) => r.body.sceneId === sceneId && r.body.seq >= seq)),
      'every scene delivered up to its last change',
      20_000,
    );
    expect(hook.received.slice(0, 4).map((r) => r.status)).toEqual([500, 500, 500, 200]);
    for (const seqs of seqsByScene(hook.accepted()).values()) expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    for (const r of hook.received) {
      expect(verifySignature(SECRET, r.headers['x-writersroom-signature'] as string, r.rawBody)).toBe(true);
      expect(r.headers['x-writersroom-event-id']).toBe(r.body.eventId);
      expect(r.body.scriptId).toBe(scriptId);
    }
    // The failed attempts were retried with the same event id: nothing changed in between.
    expect(new Set(hook.received.slice(0, 4).map((r) => r.body.eventId)).size).toBe(1);
    const last = hook.accepted().filter((r) => r.body.sceneId === sceneIds[1]).at(-1)!;
    expect(last.body.content.at(-1)).toEqual(expect.objectContaining({ type: 'action', text: 'take 5' }));
    expect(last.body.kinds).toContain('patch');
    expect(last.body.deleted).toBe(false);
    // Coalesced: fewer deliveries than changes (three per scene, each seeded first).
    expect(hook.accepted().length).toBeLessThan(8);
  });

  it('redelivers a scene by event id with the same id, and tells a delete', async () => {
    const { scriptId, sceneIds, token } = await script(2);
    const hook = await receiver();
    const { id } = await register(scriptId, token, hook.url);
    const seq = await patch(sceneIds[0]!, token, 'once');
    await waitFor(() => hook.accepted().some((r) => r.body.seq >= seq), 'first delivery');
    const first = hook.accepted().at(-1)!;
    const redeliver = await api(app().httpUrl, 'POST', `/api/scripts/${scriptId}/webhooks/${id}/redeliver`, { token, body: { eventId: first.body.eventId } });
    expect(redeliver.status, JSON.stringify(redeliver.body)).toBe(202);
    await waitFor(() => hook.accepted().length >= 2, 'redelivery');
    expect(hook.accepted()[1]!.body.eventId).toBe(first.body.eventId);
    expect(hook.accepted()[1]!.rawBody.replace(/"at":"[^"]*"/, '')).toBe(first.rawBody.replace(/"at":"[^"]*"/, ''));

    expect((await api(app().httpUrl, 'DELETE', `/api/scripts/${scriptId}/scenes/${sceneIds[0]}`, { token })).status).toBe(200);
    await waitFor(() => hook.accepted().some((r) => r.body.deleted), 'the delete delivered');
    const deleted = hook.accepted().find((r) => r.body.deleted)!;
    expect(deleted.body).toEqual(expect.objectContaining({ kinds: ['delete'], content: null, seq: first.body.seq }));
    expect(deleted.body.eventId).not.toBe(first.body.eventId);
    expect((await api(app().httpUrl, 'POST', `/api/scripts/${scriptId}/webhooks/${id}/redeliver`, { token, body: { eventId: 'evt_nope' } })).status).toBe(400);
  });

  it('disables an endpoint whose receiver refuses the signature (a bad secret), visible in health and metrics', async () => {
    const { scriptId, sceneIds, token } = await script();
    const hook = await receiver((request) => (verifySignature('not-the-secret-the-server-has!!', request.headers['x-writersroom-signature'] as string, request.rawBody) ? 200 : 401));
    const { id } = await register(scriptId, token, hook.url);
    await patch(sceneIds[0]!, token, 'unverifiable');
    await waitFor(async () => (await endpoint(scriptId, id, token)).enabled === false, 'endpoint disabled', 20_000);
    expect(hook.received.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    const state = await endpoint(scriptId, id, token);
    expect(state.disabledReason).toContain('answered 401');
    const health = await api(app().httpUrl, 'GET', '/api/health/webhooks');
    expect(health.body.status).toBe('degraded');
    expect(health.body.disabled.map((d: { id: string }) => d.id)).toContain(id);
  });

  it('retries an unreachable URL with backoff, then disables it; re-enabled by its owner', async () => {
    const { scriptId, sceneIds, token } = await script();
    const { id } = await register(scriptId, token, `http://127.0.0.1:${await freePort()}/gone`);
    await patch(sceneIds[0]!, token, 'nobody listens');
    await waitFor(async () => (await endpoint(scriptId, id, token)).enabled === false, 'endpoint disabled', 20_000);
    const metrics = await (await fetch(`${app().httpUrl}/metrics`)).text();
    expect(Number(/^webhook_delivery_failures_total\{reason="network"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
    expect(Number(/^webhook_endpoints_disabled (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/^webhook_delivery_latency_seconds_bucket/m);
    const enabled = await api(app().httpUrl, 'PATCH', `/api/scripts/${scriptId}/webhooks/${id}`, { token, body: { enabled: true } });
    expect(enabled.body).toEqual(expect.objectContaining({ enabled: true, consecutiveFailures: 0 }));
    // What waited while it was disabled is still waiting: nothing was dropped.
    expect(enabled.body.pendingChanges).toBeGreaterThan(0);
    // Only the owner manages webhooks.
    const viewer = await tokenFor((await createScript(db().prisma)).userId);
    expect((await api(app().httpUrl, 'GET', `/api/scripts/${scriptId}/webhooks`, { token: viewer })).status).toBe(403);
    expect((await api(app().httpUrl, 'DELETE', `/api/scripts/${scriptId}/webhooks/${id}`, { token })).status).toBe(204);
  });
});

describeEachServer('webhooks: receivers on internal addresses are refused (SSRF)', { kinds: ['pglite'] }, ({ db, app }) => {
  it('refuses loopback, private, link-local and mapped addresses at registration', async () => {
    const { scriptId, userId } = await createScript(db().prisma);
    const token = await tokenFor(userId);
    for (const url of ['http://127.0.0.1:9/x', 'http://localhost:9/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/', 'http://169.254.169.254/latest', 'http://10.1.2.3/', 'http://[fd00::1]/']) {
      const res = await api(app().httpUrl, 'POST', `/api/scripts/${scriptId}/webhooks`, { token, body: { url } });
      expect(res.status, url).toBe(400);
      expect(res.body.code, url).toBe('WEBHOOK_ADDRESS_REFUSED');
    }
    expect((await api(app().httpUrl, 'POST', `/api/scripts/${scriptId}/webhooks`, { token, body: { url: 'ftp://example.com/' } })).status).toBe(400);
  });

  it('refuses them at delivery too, before connecting', async () => {
    const hook = await startReceiver();
    try {
      const result = await sendWebhook(hook.url, '{}', {}, { timeoutMs: 1000, allowPrivateAddresses: false });
      expect(result).toEqual(expect.objectContaining({ ok: false, reason: 'refused_address' }));
      const named = await sendWebhook(hook.url.replace('127.0.0.1', 'localhost'), '{}', {}, { timeoutMs: 1000, allowPrivateAddresses: false });
      expect(named).toEqual(expect.objectContaining({ ok: false, reason: 'refused_address' }));
      expect(hook.received).toEqual([]);
    } finally {
      await hook.close();
    }
    for (const address of ['127.0.0.1', '::1', '::ffff:10.0.0.1', '192.168.1.1', '172.20.0.1', '100.64.0.1', 'fe80::1', 'fc00::1', '0.0.0.0']) {
      expect(isInternalAddress(address), address).toBe(true);
    }
    for (const address of ['93.184.216.34', '2606:4700::1111', '::ffff:8.8.8.8']) expect(isInternalAddress(address), address).toBe(false);
  });
});
