import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningApp } from '../../src/server/app.ts';
import { tokenFor } from '../helpers/auth.ts';
import { waitFor } from '../helpers/clients.ts';
import { describeEachDatabase } from '../helpers/db.ts';
import { createScript } from '../helpers/fixtures.ts';
import { startTestServer } from '../helpers/server.ts';
import { api, startReceiver, WEBHOOK_TEST_ENV, type Receiver } from './support.ts';

// Two servers on one database, each running the delivery job (on PGlite both are in this process,
// sharing its one database; on PostgreSQL they only share the database). Their deliverers compete
// for the same endpoint on every tick; its lease lets one deliver at a time.
describeEachDatabase('webhooks with two instances: each event once, or again only with its id', (db) => {
  let servers: RunningApp[] = [];
  let hook: Receiver;
  beforeAll(async () => {
    servers = [await startTestServer(db(), WEBHOOK_TEST_ENV), await startTestServer(db(), WEBHOOK_TEST_ENV)];
    // A slow receiver: a delivery is in flight while the other instance's ticks look at the endpoint.
    hook = await startReceiver(() => new Promise((resolve) => setTimeout(() => resolve(200), 30)));
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await hook?.close();
  });

  it('delivers every scene up to its last change, never one seq under two event ids', async () => {
    const { scriptId, sceneIds, userId } = await createScript(db().prisma, { scenes: 3, contentBlocks: [{ type: 'action', text: 'Start.' }] });
    const token = await tokenFor(userId);
    const registered = await api(servers[0]!.httpUrl, 'POST', `/api/scripts/${scriptId}/webhooks`, { token, body: { url: hook.url, secret: 'two-instances-secret-0123456789' } });
    expect(registered.status).toBe(201);
    const t0 = Date.now();
    const last = new Map<string, number>();
    for (let i = 0; i < 12; i += 1) {
      const sceneId = sceneIds[i % 3]!;
      const res = await api(servers[i % 2]!.httpUrl, 'PATCH', `/api/scenes/${sceneId}/content`, { token, body: { blocks: [{ type: 'action', text: `Take ${i}.` }] } });
      expect(res.status).toBe(200);
      last.set(sceneId, res.body.seq);
    }
    await waitFor(() => [...last].every(([sceneId, seq]) => hook.accepted().some((r) => r.body.sceneId === sceneId && r.body.seq >= seq)), 'every scene delivered', 20_000);
    const idsOf = new Map<string, Set<string>>();
    for (const r of hook.accepted()) {
      const key = `${r.body.sceneId}@${r.body.seq}`;
      idsOf.set(key, (idsOf.get(key) ?? new Set()).add(r.body.eventId));
    }
    for (const [key, ids] of idsOf) expect(ids.size, key).toBe(1);
    // One deliverer at a time per endpoint: a scene's seqs never go back.
    for (const sceneId of sceneIds) {
      const seqs = hook.accepted().filter((r) => r.body.sceneId === sceneId).map((r) => r.body.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
  });
});
